"""A soak: many real runs, two at a time, with faults injected at a chosen rate, then a long session
in one process. It reports what the suite's fault tests check once, at scale:

  runs      N `eval-agent run` processes (scripted model through the scripted OpenAI server and the
            real openai client, real sandbox, real git), -j at a time; with probability --fault-rate
            one fault each, of a kind drawn at random:
              sigkill     the eval-agent process SIGKILLed at a random moment
              container   its sandbox container killed from outside mid-command
              model       the model endpoint answers 500 twice, then recovers (retried)
  then      every record read (finished / limit / error / incomplete; never unreadable), `traj
            reindex` compared with the index the runs wrote, `sandbox prune`, containers left.
  session   one Session in this process (what the REPL holds), --requests requests in a row: RSS
            and open file descriptors after the first 100 and at the end.

    python benchmarks/soak.py --runs 100 --fault-rate 0.3 --requests 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "faults")]

from kills import STEPS, KillReport, check_records, cli_env, prune_and_count_leaks  # noqa: E402
from openai_server import ScriptedOpenAIServer  # noqa: E402

def start_run(home: Path, folder: Path, number: int, fault: str | None, rng: random.Random):
    workspace = folder / f"ws-{number}"
    workspace.mkdir()
    script = [dict(item) for item in STEPS]
    if fault == "model":
        script[2:2] = [{"status": 500}, {"status": 500}]
    server = ScriptedOpenAIServer(script).start()
    env = cli_env(home)
    env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="soak-placeholder-key")  # the scripted server checks no key
    process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", f"soak {number}", "--model", "openai:soak",
                                "-w", str(workspace)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    at = time.monotonic() + rng.uniform(2.0, 7.0) if fault in ("sigkill", "container") else None
    return {"number": number, "process": process, "server": server, "fault": fault, "at": at, "workspace": workspace}


def inject(run: dict) -> None:
    import docker

    if run["fault"] == "sigkill":
        run["process"].send_signal(signal.SIGKILL)
    else:
        for container in docker.from_env().containers.list(filters={"label": ["eval-agent.role=sandbox",
                                                                               f"eval-agent.workspace={run['workspace']}"]}):
            try:
                container.kill()
            except docker.errors.APIError:
                pass
    run["at"] = None


def runs_phase(args, folder: Path, home: Path) -> dict:
    rng = random.Random(args.seed)
    kinds = ["sigkill", "container", "model"]
    plan = [rng.choice(kinds) if rng.random() < args.fault_rate else None for _ in range(args.runs)]
    pending, running, done = list(enumerate(plan)), [], []
    started = time.monotonic()
    while pending or running:
        while pending and len(running) < args.jobs:
            number, fault = pending.pop(0)
            running.append(start_run(home, folder, number, fault, rng))
        time.sleep(0.05)
        for run in list(running):
            if run["at"] is not None and time.monotonic() >= run["at"] and run["process"].poll() is None:
                inject(run)
            if run["process"].poll() is not None:
                run["stderr"] = run["process"].stderr.read()
                run["code"] = run["process"].returncode
                run["server"].stop()
                running.remove(run)
                done.append(run)
    report = KillReport(runs=len(done))
    check_records(home, report)
    prune_and_count_leaks(home, report)
    tracebacks = sum("Traceback" in run["stderr"] for run in done)
    survived = Counter()
    for run in done:
        fault, code = run["fault"], run["code"]
        ok = {None: code == 0, "model": code == 0, "container": code in (0, 3) and "Traceback" not in run["stderr"],
              "sigkill": True}[fault]  # a SIGKILLed run survives when its record reads (checked for all)
        survived[fault or "none"] += ok
    return {"runs": len(done), "seconds": round(time.monotonic() - started, 1),
            "faults": dict(Counter(run["fault"] or "none" for run in done)), "survived": dict(survived),
            "completed": sum(run["code"] == 0 for run in done), "statuses": report.statuses,
            "no_record": len(done) - sum(report.statuses.values()) - len(report.unreadable),  # killed during start-up
            "unreadable": len(report.unreadable), "index_differs": len(report.index_differs),
            "containers_leaked": len(report.leaked), "tracebacks": tracebacks}


def session_phase(args, folder: Path) -> dict:
    from eval_agent.config import load_settings
    from eval_agent.session import Session

    script = folder / "session.json"
    one = [{"content": "- [ ] note"}, {"tool": "bash", "args": {"command": "echo $RANDOM >> notes.txt"}},
           {"tool": "finish", "args": {"summary": "noted"}}]
    script.write_text(json.dumps(one * args.requests))
    workspace = folder / "session-ws"
    workspace.mkdir()
    os.environ["EVAL_AGENT_HOME"] = str(folder / "session-home")
    settings = load_settings({"model": f"scripted:{script}", "tool_mode": "native"})
    samples = {}
    started = time.monotonic()
    with Session(settings, workspace) as session:
        for number in range(1, args.requests + 1):
            session.agent.reset()  # each request a new conversation, as /clear: the history is not what we measure
            session.run(f"note {number}")
            if number in (100, args.requests):
                samples[number] = {"rss_mb": round(rss_mb(), 1), "fds": len(os.listdir("/proc/self/fd"))}
    first, last = samples[100], samples[args.requests]
    return {"requests": args.requests, "seconds": round(time.monotonic() - started, 1), "at_100": first,
            f"at_{args.requests}": last, "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 1),
            "fd_growth": last["fds"] - first["fds"]}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--requests", type=int, default=1000, help="requests in the one-process session (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    result = {"runs": runs_phase(args, folder, folder / "home") if args.runs else None,
              "session": session_phase(args, folder) if args.requests >= 100 else None}
    print(json.dumps(result, indent=2))
    runs = result["runs"] or {}
    lost = runs.get("unreadable", 0) + runs.get("index_differs", 0)
    print(f"\nsoak: {runs.get('runs', 0)} runs, faults {runs.get('faults')}, survived {runs.get('survived')}; "
          f"records lost {lost}, containers leaked {runs.get('containers_leaked', 0)}, tracebacks {runs.get('tracebacks', 0)}")
    if result["session"]:
        session = result["session"]
        print(f"session: {session['requests']} requests, RSS growth {session['rss_growth_mb']} MB, "
              f"fd growth {session['fd_growth']} (after the first 100)")


if __name__ == "__main__":
    main()
