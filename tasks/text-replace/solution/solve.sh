#!/bin/bash
set -euo pipefail
cd /app/docs
# count first, then replace, in the .txt files only
count=$(grep -rio --include='*.txt' 'colour' . | wc -l)
find . -name '*.txt' -print0 | xargs -0 sed -i -e 's/colour/color/g' -e 's/Colour/Color/g' -e 's/COLOUR/COLOR/g'
echo "$count" > /app/replacements.txt
cat /app/replacements.txt
