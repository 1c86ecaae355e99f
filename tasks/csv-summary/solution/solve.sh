#!/bin/bash
set -euo pipefail
python3 - <<'PY'
import csv
from collections import defaultdict

revenue, units = defaultdict(float), defaultdict(int)
with open("/app/sales.csv", newline="") as file:
    for row in csv.DictReader(file):
        revenue[row["region"]] += int(row["units"]) * float(row["unit_price"])
        units[row["region"]] += int(row["units"])
with open("/app/summary.csv", "w", newline="") as file:
    writer = csv.writer(file)
    writer.writerow(["region", "revenue", "units"])
    for region in sorted(revenue, key=revenue.get, reverse=True):
        writer.writerow([region, f"{revenue[region]:.2f}", units[region]])
PY
cat /app/summary.csv
