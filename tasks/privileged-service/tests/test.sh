#!/bin/bash
# Harbor's contract: write the reward to /logs/verifier/reward.txt (1 when every check passes).
mkdir -p /logs/verifier
if python3 -m pytest -q -p no:cacheprovider /tests/test_outputs.py; then
  echo 1 > /logs/verifier/reward.txt
else
  echo 0 > /logs/verifier/reward.txt
fi
