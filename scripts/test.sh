#!/usr/bin/env bash
# The README's test command: set everything up, then run the whole suite against a real Docker
# engine. pytest's exit 5 (no tests ran) is a failure here, not a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test || exit $?
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" = 5 ]; then
  echo "eval-agent: pytest ran no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
