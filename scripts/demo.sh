#!/usr/bin/env bash
# The README's first command: set everything up (the venv with the `local` extra, Docker, the
# sandbox image, the embedded model's weights), then run the agent with the embedded model
# (Qwen2.5-Coder-1.5B through llama.cpp, on this machine's CPU, no key, no network needed once
# installed) on a sample request in a fresh folder (./demo-workspace). It ends with where the run
# was recorded. DEMO_MODEL, DEMO_REQUEST and DEMO_WORKSPACE override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh local
workspace=${DEMO_WORKSPACE:-$PWD/demo-workspace}
rm -rf "$workspace" && mkdir -p "$workspace"
request=${DEMO_REQUEST:-"write fizzbuzz.py that prints FizzBuzz up to 15, and run it"}
.venv/bin/eval-agent run "$request" --workspace "$workspace" --model "${DEMO_MODEL:-local}" --max-steps 12
