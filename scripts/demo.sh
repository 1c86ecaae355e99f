#!/usr/bin/env bash
# The README's first command: set everything up, then run the agent on a sample request in a
# fresh folder (./demo-workspace). Until the embedded model ships, the model is scripted: a local
# OpenAI-compatible server replays examples/todo_service.json through the real openai client.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
workspace=${DEMO_WORKSPACE:-$PWD/demo-workspace}
rm -rf "$workspace" && mkdir -p "$workspace"
log=$(mktemp)
.venv/bin/python tests/openai_server.py examples/todo_service.json > "$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q '^http' "$log" && break; sleep 0.1; done
base_url=$(head -1 "$log")
echo "model: scripted replay of examples/todo_service.json at $base_url"
OPENAI_BASE_URL=$base_url OPENAI_API_KEY=not-needed .venv/bin/eval-agent run \
  "build a simple web todo service with GET and POST /todos" \
  --workspace "$workspace" --model openai:scripted-demo
