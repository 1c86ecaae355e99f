"""Start-up cost: `eval-agent run` with a scripted model that finishes at once, against the least a
sandboxed run can cost: a bare `docker run -d IMAGE sleep` + `docker exec ID true` + `docker rm -f`
with the same image. Goal: the run takes at most twice the bare container.

In one run, N repetitions, interleaved so that both see the same machine load:
  eval-agent run   a fresh process, --model scripted:FILE (one finish action), a temp workspace
  bare docker      three docker CLI calls, the same sandbox image
  bare + ports     the same, with the engine publishing the sandbox's ports (DEFAULT_PORTS): what
                   eval-agent saves by forwarding them itself on a local engine (a docker-proxy
                   process and NAT rules per port, to start and to stop)
  --compare DIR    also eval-agent from another source tree (e.g. the commit before a change:
                   git archive HEAD | tar -x -C DIR), run with PYTHONPATH=DIR
Prints medians and the ratio. --breakdown adds one more run of eval-agent, measured from inside:
Python's start and imports (-X importtime), each Docker API call (method, path, ms), the rest.

    python benchmarks/startup.py [--repetitions 10] [--image IMAGE] [--compare DIR] [--breakdown]

Exits 0 whether the goal is met or not (it reports; it does not gate)."""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 2.0  # eval-agent run / bare docker
SCRIPT = [{"tool": "finish", "args": {"summary": "done"}}]

# Run in the measured process for --breakdown: times every Docker API request (the SDK sends them
# through requests.Session.request) and writes them to $STARTUP_BREAKDOWN, then runs the CLI.
WRAPPER = r'''
import atexit, json, os, sys, time
started = time.perf_counter()
import requests
calls = []
original = requests.Session.request
def timed(self, method, url, *args, **kwargs):
    begin = time.perf_counter()
    try:
        return original(self, method, url, *args, **kwargs)
    finally:
        calls.append((method, url, time.perf_counter() - begin))
requests.Session.request = timed
@atexit.register
def report():
    with open(os.environ["STARTUP_BREAKDOWN"], "w") as out:
        json.dump({"calls": calls, "in_process": time.perf_counter() - started}, out)
sys.argv[0] = "eval-agent"
from eval_agent.cli import main
main()
'''


def clean_env(home: Path, source: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "EVAL_AGENT_"))}
    env.update(EVAL_AGENT_HOME=str(home), EVAL_AGENT_CONFIG=str(home / "no-config.toml"))
    if source is not None:
        env["PYTHONPATH"] = str(source)
    else:
        env.pop("PYTHONPATH", None)
    return env


def timed_run(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} ... exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return elapsed


def bare_docker(docker: str, image: str, ports: tuple[int, ...] = ()) -> float:
    published = [f"--publish=127.0.0.1::{port}" for port in ports]
    started = time.perf_counter()
    container = subprocess.run([docker, "run", "-d", *published, image, "sleep", "600"], capture_output=True,
                               text=True, check=True).stdout.strip()
    try:
        subprocess.run([docker, "exec", container, "true"], check=True, capture_output=True)
    finally:
        subprocess.run([docker, "rm", "-f", container], check=True, capture_output=True)
    return time.perf_counter() - started


def eval_agent_run(scratch: Path, source: Path | None = None) -> list[str]:
    return [sys.executable, "-m", "eval_agent", "run", "--workspace", str(scratch / "workspace"),
            "--model", f"scripted:{scratch / 'script.json'}", "say done"]


def breakdown(scratch: Path, total_runs: float) -> None:
    """One run measured from inside; what the time is spent on, largest first."""
    wrapper = scratch / "wrapper.py"
    wrapper.write_text(WRAPPER)
    report = scratch / "breakdown.json"
    env = clean_env(scratch / "home")
    env["STARTUP_BREAKDOWN"] = str(report)
    command = [sys.executable, "-X", "importtime", str(wrapper), *eval_agent_run(scratch)[3:]]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    data = json.loads(report.read_text())
    imports = collections.Counter()
    for line in done.stderr.splitlines():  # top-level imports only: their cumulative time is all of it
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match:
            imports[match.group(2).split(".")[0]] += int(match.group(1)) / 1e6
    endpoints = collections.defaultdict(list)
    for method, url, seconds in data["calls"]:
        path = re.sub(r"^\w[\w+]*://[^/]+(/v[\d.]+)?", "", url.split("?")[0])
        path = re.sub(r"/exec/[^/]+", "/exec/ID", path)
        path = re.sub(r"/containers/(?!create$|json$)[^/]+", "/containers/ID", path)
        path = re.sub(r"/images/.+/json", "/images/NAME/json", path)
        endpoints[f"{method} {path}"].append(seconds)
    docker_total = sum(seconds for _, _, seconds in data["calls"])
    import_total = sum(imports.values())
    print(f"\nbreakdown of one run (measured inside; -X importtime adds a little): {wall * 1000:.0f} ms wall")
    print(f"  python start and exit, outside the CLI {(wall - data['in_process']) * 1000:5.0f} ms  "
          f"(interpreter, site, finalization)")
    print(f"  imports, all                         {import_total * 1000:7.0f} ms")
    for name, seconds in imports.most_common(8):
        print(f"      {name:<32} {seconds * 1000:7.0f} ms")
    print(f"  Docker API calls ({len(data['calls'])}), summed over threads {docker_total * 1000:7.0f} ms  "
          "(the two containers' overlap)")
    for name, samples in sorted(endpoints.items(), key=lambda item: -sum(item[1])):
        print(f"      {name:<40} x{len(samples):<3} {sum(samples) * 1000:7.0f} ms")
    rest = data["in_process"] - docker_total - import_total
    if rest > 0:  # else the overlap hides it
        print(f"  the rest (shell start, git, prompts, record, exit)  {rest * 1000:7.0f} ms")
    print(f"  (the median run above: {total_runs * 1000:.0f} ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=10, help="timed runs of each (default 10)")
    parser.add_argument("--image", help="the image for the bare docker row (default: eval-agent's sandbox image)")
    parser.add_argument("--compare", type=Path, help="another source tree of eval-agent to time beside this one")
    parser.add_argument("--breakdown", action="store_true", help="also say where one run's time goes")
    args = parser.parse_args(argv)

    from eval_agent.errors import EvalAgentError
    from eval_agent.sandbox.docker_sandbox import DEFAULT_PORTS
    from eval_agent.sandbox.image import ensure_image, image_tag

    docker = shutil.which("docker")
    if docker is None:
        print("error: the docker CLI is not on PATH (needed for the bare docker row)", file=sys.stderr)
        return 3
    try:
        ensure_image(log=lambda line: print(line, file=sys.stderr))
    except EvalAgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    image = args.image or image_tag()
    if args.compare is not None and not (args.compare / "eval_agent" / "__init__.py").is_file():
        print(f"error: {args.compare} holds no eval_agent package", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="eval-agent-bench-startup-") as folder:
        scratch = Path(folder)
        (scratch / "workspace").mkdir()
        (scratch / "script.json").write_text(json.dumps(SCRIPT))
        rows: dict[str, tuple[list[str], dict[str, str]]] = {
            "eval-agent run": (eval_agent_run(scratch), clean_env(scratch / "home"))}
        if args.compare is not None:
            rows[f"eval-agent run ({args.compare})"] = (eval_agent_run(scratch), clean_env(scratch / "home", args.compare))
        ports_row = f"bare docker + {len(DEFAULT_PORTS)} published ports"
        samples: dict[str, list[float]] = {name: [] for name in [*rows, "bare docker", ports_row]}
        try:
            for name, (command, env) in rows.items():  # warm-up: git init of the workspace, page cache
                timed_run(command, env, cwd=scratch)
            bare_docker(docker, image)
            for _ in range(args.repetitions):
                for name, (command, env) in rows.items():
                    samples[name].append(timed_run(command, env, cwd=scratch))
                samples["bare docker"].append(bare_docker(docker, image))
                samples[ports_row].append(bare_docker(docker, image, DEFAULT_PORTS))
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

        medians = {name: statistics.median(values) for name, values in samples.items()}
        bare = medians["bare docker"]
        print(f"start-up: {args.repetitions} repetitions, image {image}; seconds")
        print(f"{'':44}{'median':>8}{'min':>8}{'max':>8}{'/ bare':>8}")
        for name, values in samples.items():
            print(f"{name:<44}{medians[name]:>8.3f}{min(values):>8.3f}{max(values):>8.3f}{medians[name] / bare:>8.2f}")
        ratio = medians["eval-agent run"] / bare
        print(f"\nratio eval-agent run / bare docker: {ratio:.2f}  goal <= {GOAL}: {'met' if ratio <= GOAL else 'not met'}")
        if args.breakdown:
            breakdown(scratch, medians["eval-agent run"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
