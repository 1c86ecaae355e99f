#!/bin/bash
set -euo pipefail
cat > /app/merge.py <<'PY'
import json
import sys


def merge(base, override):
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return override


def main() -> None:
    with open(sys.argv[1]) as first, open(sys.argv[2]) as second:
        print(json.dumps(merge(json.load(first), json.load(second)), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
PY
python3 /app/merge.py /app/config/defaults.json /app/config/local.json > /app/config/merged.json
cat /app/config/merged.json
