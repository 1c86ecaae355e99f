"""`eval-agent bench`: run task folders against a model, the oracle or nothing, in parallel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

import typer

DEFAULT_OUT = Path("bench-results")


def bench(
    paths: List[Path] = typer.Argument(..., help="Task folders, or folders of task folders (Harbor or Terminal-Bench 1.x)."),
    agent: str = typer.Option("eval", "--agent", help="eval: the model works on each task; oracle: each task's own solution runs (no model); nop: nothing runs (the tests should fail)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="PROVIDER:NAME for --agent eval. Default: EVAL_AGENT_MODEL, the config file, openai:gpt-4o-mini with an OpenAI key or base URL, else the embedded local model."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="An OpenAI-compatible endpoint; default OPENAI_BASE_URL."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Attempts run at the same time, each in its own container."),
    attempts: int = typer.Option(1, "--attempts", help="Attempts per task."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="The agent's seconds per attempt. Default: each task's own (timeout_sec of the agent table in task.toml, max_agent_timeout_sec in task.yaml)."),
    filters: Optional[List[str]] = typer.Option(None, "--filter", help="Only the tasks whose id matches this shell glob (repeatable)."),
    family: Optional[List[str]] = typer.Option(None, "--family", help="Only the tasks of this family (repeatable): a gym task's family, else its category."),
    exclude_family: Optional[List[str]] = typer.Option(None, "--exclude-family", help="Leave out the tasks of this family (repeatable): held out for evaluation, say."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results folder: results.jsonl, summary.md. A rerun with the same folder skips what is done. Default: bench-results/AGENT-or-MODEL."),
    base_image: Optional[str] = typer.Option(None, "--base-image", help="Build on this image where a task's Dockerfile names a FROM image that is neither here nor pullable (offline machines)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Tool calls per attempt (default 50)."),
    tool_mode: Optional[str] = typer.Option(None, "--tool-mode", help="How the model is asked for actions: native, text, json or auto (as for `eval-agent run`)."),
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="A folder with your own copies of the prompt templates."),
    review: Optional[str] = typer.Option(None, "--review", help="on: a review turn before each finish (as for `eval-agent run`)."),
    reviewer_model: Optional[str] = typer.Option(None, "--reviewer-model", help="The reviewer's PROVIDER:NAME (default: the working model)."),
    make_tools: Optional[bool] = typer.Option(None, "--make-tools/--no-make-tools", help="Offer make_tool to the agent (as for `eval-agent run`)."),
    executor: str = typer.Option("threads", "--executor", help="threads: attempts run on this machine's Docker engine; ray: each attempt is a Ray task on a node of a Ray cluster with a free eval_agent_slot (see README, Scaling out)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="The Ray cluster to join (HOST:PORT of `ray start --head`). Default: the cluster this machine belongs to, else a Ray of its own here with -j slots."),
    docker_host: Optional[str] = typer.Option(None, "--docker-host", envvar="DOCKER_HOST", show_envvar=False, help="The Docker engine the sandboxes run on (unix:///PATH, tcp://HOST:PORT, ssh://USER@HOST); default DOCKER_HOST, else the local socket. With --executor ray each node uses its own."),
) -> None:
    """Run benchmark tasks and label every run with its verified outcome.

    Each attempt builds the task's image (cached), starts a sandbox in the image's own working directory, gives the agent the instruction, then copies the tests in, runs them, and records pass or fail and the reward in the run's trajectory and in DIR/results.jsonl. DIR/summary.md has a table and the pass rate with a 95% interval. Ctrl-C stops cleanly and leaves no container.

    Exit codes: 0 every attempt passed, 1 some failed or could not be judged, 2 usage error, 3 environment error, 130 interrupted."""
    from ..config import load_settings
    from ..errors import UsageError
    from ..session import choose_model_spec
    from .report import ResultsFile, pass_rate_line, write_summary
    from ..sandbox.engine import use_docker_host
    from .runner import AGENTS, EXECUTORS, BenchOptions, run_bench
    from .tasks import discover

    if agent not in AGENTS:
        raise UsageError(f"--agent {agent}: use one of {', '.join(AGENTS)}")
    if executor not in EXECUTORS:
        raise UsageError(f"--executor {executor}: use one of {', '.join(EXECUTORS)}")
    if ray_address and executor != "ray":
        raise UsageError("--ray-address is for --executor ray")
    if executor == "threads":
        use_docker_host(docker_host)
    flags = {"model": model, "base_url": base_url, "max_steps": max_steps, "tool_mode": tool_mode, "prompts": prompts,
             "review": review, "reviewer_model": reviewer_model, "make_tools": make_tools}
    settings = load_settings({name: value for name, value in flags.items() if value is not None})
    tasks = [task for task in discover(paths, filters)
             if (not family or task.family in family) and task.family not in (exclude_family or [])]
    if not tasks:
        raise UsageError("no task is left once --family / --exclude-family are applied; `eval-agent tasks ls PATH` "
                         "counts the families there")
    label = choose_model_spec(settings) if agent == "eval" else agent
    folder = out or DEFAULT_OUT / re.sub(r"[^A-Za-z0-9._-]+", "-", label)
    options = BenchOptions(out=folder, agent=agent, jobs=jobs, attempts=attempts, timeout=timeout,
                           base_image=base_image, executor=executor, ray_address=ray_address)
    try:
        results, meta = run_bench(tasks, settings, options)
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM: the summary still shows what was judged
        stored, done = ResultsFile(folder).stored_meta(), ResultsFile(folder).load()
        if stored is not None and done:
            write_summary(folder, done, stored)
        raise
    summary = write_summary(folder, results, meta)
    typer.echo(f"pass rate {pass_rate_line(sum(r.passed for r in results), len(results))}")
    typer.echo(f"results: {folder / 'results.jsonl'}  summary: {summary}")
    raise typer.Exit(0 if results and all(r.passed for r in results) else 1)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
