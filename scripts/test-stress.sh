#!/usr/bin/env bash
# The suite under load: both cores kept busy by a CPU hog (stress-ng where Debian's package is
# installed or installable, else a busy loop per core) while the README's test command runs
# ROUNDS times in a row (default 3). Every round must pass; a readiness race shows up here.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
cores="$(nproc)"
if ! command -v stress-ng >/dev/null && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q stress-ng >/dev/null 2>&1 || true
fi
if command -v stress-ng >/dev/null; then
  stress-ng --cpu "$cores" --cpu-method matrixprod --quiet &
  hog=$!
else
  python3 -c "
import multiprocessing, os
def spin():
    while True: pass
for _ in range(os.cpu_count()): multiprocessing.Process(target=spin, daemon=True).start()
multiprocessing.connection.wait([])
" &
  hog=$!
fi
trap 'kill $hog 2>/dev/null; pkill -P $hog 2>/dev/null' EXIT
echo "test-stress: $cores busy loops ($(command -v stress-ng >/dev/null && echo stress-ng || echo python)), $rounds rounds"
for round in $(seq 1 "$rounds"); do
  started=$(date +%s)
  bash scripts/test.sh -q "$@"
  status=$?
  echo "test-stress: round $round of $rounds: exit $status in $(( $(date +%s) - started )) s"
  [ "$status" = 0 ] || exit "$status"
done
echo "test-stress: $rounds rounds in a row, all green, under a CPU hog"
