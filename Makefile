.PHONY: setup test test-stress demo bench-sandbox agent-image

setup:  ## a venv with eval-agent, a Docker engine, the sandbox image
	bash scripts/setup.sh

test:  ## set everything up and run the tests (what CI runs)
	bash scripts/test.sh

test-stress:  ## the tests three times in a row with every core kept busy (ROUNDS=N to change)
	bash scripts/test-stress.sh

demo:  ## set everything up and run the agent on a sample request
	bash scripts/demo.sh

bench-sandbox:  ## per-command overhead of the persistent shell vs docker exec
	.venv/bin/python benchmarks/sandbox_overhead.py

AGENT_IMAGE_BASE ?= python:3.11-slim
agent-image:  ## eval-agent itself as an image (make agent-image AGENT_IMAGE_BASE=... offline)
	rm -rf build/wheels && .venv/bin/python -m pip wheel -q . -w build/wheels
	docker build --build-arg BASE=$(AGENT_IMAGE_BASE) -t eval-agent:$$(.venv/bin/python -c 'import eval_agent; print(eval_agent.__version__)') .
