#!/bin/bash
# Starts the service, waits for its port, checks it over HTTP; reward 1 when every check passes.
mkdir -p /logs/verifier
echo 0 > /logs/verifier/reward.txt
if [ ! -f /app/app.py ]; then
  echo "/app/app.py is missing"
  exit 0
fi
# a port of its own: a server the agent left running on 8000 must not answer for this fresh one
PORT=18080 python3 /app/app.py > /logs/verifier/app.log 2>&1 &
server=$!
for _ in $(seq 50); do
  curl -s -o /dev/null http://127.0.0.1:18080/todos && break
  kill -0 "$server" 2>/dev/null || { echo "the service exited:"; cat /logs/verifier/app.log; exit 0; }
  sleep 0.2
done
if python3 -m pytest -q -p no:cacheprovider /tests/test_outputs.py; then
  echo 1 > /logs/verifier/reward.txt
fi
