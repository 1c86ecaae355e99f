#!/bin/bash
set -euo pipefail
cd /app/notes
git add -A
git commit -m "Add meeting notes"
git log -1 --format='%an <%ae> %s'
