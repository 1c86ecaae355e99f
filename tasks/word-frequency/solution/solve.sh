#!/bin/bash
set -euo pipefail
cat > /app/wordfreq.py <<'PY'
import re
import sys
from collections import Counter


def main() -> None:
    path, limit = sys.argv[1], int(sys.argv[2])
    with open(path, encoding="utf-8") as file:
        words = re.findall(r"[a-z]+", file.read().lower())
    ranked = sorted(Counter(words).items(), key=lambda item: (-item[1], item[0]))
    for word, count in ranked[:limit]:
        print(f"{word} {count}")


if __name__ == "__main__":
    main()
PY
python3 /app/wordfreq.py /app/sample.txt 3
