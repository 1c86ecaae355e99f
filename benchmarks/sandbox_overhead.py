"""Per-command overhead of the persistent shell against starting a process per command.

A trivial command (`true`) is run, on one container in one run, three ways:
  shell      DockerSandbox.run("true"): one write and one read on the shell's open stream
  exec CLI   `docker exec CONTAINER true` (a subprocess per command, what most agents do)
  exec_run   the Docker SDK's container.exec_run(["true"]) (an exec per command, no CLI)
and the medians are compared. Goal: the shell costs at most a tenth of a `docker exec` call.

    python benchmarks/sandbox_overhead.py [--image IMAGE] [--iterations 200] [--exec-iterations 30]

Exits 0 whether the goal is met or not (it reports; it does not gate)."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from typing import Callable

from docker.errors import ImageNotFound

from eval_agent import __version__
from eval_agent.errors import EvalAgentError
from eval_agent.sandbox.docker_sandbox import DockerSandbox, DockerSandboxConfig
from eval_agent.sandbox.engine import docker_client

GOAL = 0.1  # shell / docker exec CLI
FALLBACK_IMAGE = "eval-agent-base:bookworm"


def default_image(client) -> str:
    tag = f"eval-agent-sandbox:{__version__}"
    try:
        client.images.get(tag)
        return tag
    except ImageNotFound:
        return FALLBACK_IMAGE


def timed(call: Callable[[], None], iterations: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", help="sandbox image (default: eval-agent-sandbox:<version>, else the base)")
    parser.add_argument("--iterations", type=int, default=200, help="commands through the shell (default 200)")
    parser.add_argument("--exec-iterations", type=int, default=30,
                        help="docker exec CLI calls and exec_run calls, each (default 30)")
    args = parser.parse_args(argv)

    try:
        client = docker_client()
    except EvalAgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        print("error: the docker CLI is not on PATH (needed for the `docker exec` comparison)", file=sys.stderr)
        return 3
    image = args.image or default_image(client)

    sandbox = DockerSandbox(DockerSandboxConfig(image=image, session_id=f"bench-{int(time.time())}"), client)
    try:
        sandbox.start()
        container = client.containers.get(sandbox.name)

        def shell() -> None:
            result = sandbox.run("true", timeout=30)
            if result.exit_code != 0:
                raise RuntimeError(f"`true` through the shell failed: {result}")

        def exec_cli() -> None:
            subprocess.run([docker_cli, "exec", sandbox.name, "true"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def exec_run() -> None:
            exit_code, _ = container.exec_run(["true"])
            if exit_code != 0:
                raise RuntimeError(f"exec_run(['true']) exited {exit_code}")

        rows = [
            ("shell (DockerSandbox.run)", timed(shell, args.iterations)),
            ("docker exec CLI", timed(exec_cli, args.exec_iterations)),
            ("SDK exec_run", timed(exec_run, args.exec_iterations)),
        ]
    except EvalAgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        sandbox.close()

    medians = {name: statistics.median(samples) for name, samples in rows}
    shell_ms = medians["shell (DockerSandbox.run)"]
    cli_ms = medians["docker exec CLI"]
    sdk_ms = medians["SDK exec_run"]

    print(f"sandbox per-command overhead: `true`, image {image}, one container")
    print(f"{'method':<28}{'n':>6}{'median ms':>12}{'p90 ms':>10}")
    for name, samples in rows:
        p90 = statistics.quantiles(samples, n=10)[-1] if len(samples) >= 2 else samples[0]
        print(f"{name:<28}{len(samples):>6}{medians[name]:>12.3f}{p90:>10.3f}")
    print()
    print(f"ratio shell / docker exec CLI: {shell_ms / cli_ms:.4f}  ({cli_ms / shell_ms:.0f}x faster)")
    print(f"ratio shell / SDK exec_run:    {shell_ms / sdk_ms:.4f}  ({sdk_ms / shell_ms:.0f}x faster)")
    met = shell_ms / cli_ms <= GOAL
    print(f"goal <= {GOAL} of a docker exec CLI call: {'met' if met else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
