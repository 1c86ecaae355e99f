.PHONY: setup test demo bench-sandbox

setup:  ## a venv with eval-agent, a Docker engine, the sandbox image
	bash scripts/setup.sh

test:  ## set everything up and run the tests (what CI runs)
	bash scripts/test.sh

demo:  ## set everything up and run the agent on a sample request
	bash scripts/demo.sh

bench-sandbox:  ## per-command overhead of the persistent shell vs docker exec
	.venv/bin/python benchmarks/sandbox_overhead.py
