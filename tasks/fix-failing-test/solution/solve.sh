#!/bin/bash
set -euo pipefail
cd /app
python3 -m pytest -q -p no:cacheprovider tests || true
# removing exactly what is held is allowed; the value is quantity times price
sed -i 's/if quantity >= held:/if quantity > held:/' inventory/stock.py
sed -i 's/total += quantity + price/total += quantity * price/' inventory/stock.py
python3 -m pytest -q -p no:cacheprovider tests
