"""The thesis, measured: does a LoRA adapter trained on a few verified runs beat the same model
prompted only, on held-out tasks it never saw?

1. The gym makes tasks of a few families (--family), seeded; they split into training tasks and
   held-out tasks (other seeds, never trained on).
2. Training data, all verified by the tasks' own tests through `eval-agent bench`:
   - the base model's own runs on the training tasks (--self-attempts K, rejection sampling:
     only those that passed are kept);
   - a teacher's runs: --teacher solutions (default) has a scripted teacher do each training task
     with the task's own solution script as one bash action, prompted exactly as the embedded
     model is (json actions, compact prompts), so its runs are in the served form; or
     --teacher SPEC, a stronger model, when one is configured.
3. `eval-agent finetune --verified` on those runs (base: --model), then `eval-agent compare` on the
   held-out tasks: base against base + adapter, K attempts each, paired.

It prints the compare table, labelled with the model, the device and the counts. On a GPU use the
default embedded model (`--model local`); on a CPU the small catalog model is the practical one.

    python benchmarks/finetune_gain.py --model local:smollm2-135m --train 24 --eval 12 --attempts 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_FAMILIES = ["text-replace", "word-frequency", "csv-aggregate", "json-to-csv"]


def cli(args: list[str], env: dict, timeout: float | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "eval_agent", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and done.returncode not in (0, 1):
        sys.exit(f"eval-agent {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-600:]}")
    return done


def teacher_script(task: Path) -> dict:
    """The task's solution as one action of a scripted teacher, prompted as the embedded model is."""
    solution = (task / "solution" / "solve.sh").read_text()
    command = f"bash <<'__SOLUTION__'\n{solution.rstrip()}\n__SOLUTION__"
    return {"prompt_variant": "compact", "actions": [
        {"content": "1. [ ] read the request\n2. [ ] write and run a script that does it\n3. [ ] check the result"},
        {"content": "I write a script that does the whole task and run it.", "tool": "bash",
         "args": {"command": command}},
        {"tool": "finish", "args": {"summary": "done: the script ran without errors"}}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local:smollm2-135m", help="the base (default: the small catalog model)")
    parser.add_argument("--family", action="append", help=f"task families (default: {', '.join(DEFAULT_FAMILIES)})")
    parser.add_argument("--train", type=int, default=24, help="training tasks")
    parser.add_argument("--eval", type=int, default=12, help="held-out tasks")
    parser.add_argument("--self-attempts", type=int, default=0, help="the base's own attempts per training task")
    parser.add_argument("--teacher", default="solutions", help="solutions, none, or a model spec")
    parser.add_argument("--attempts", type=int, default=2, help="attempts per held-out task and model")
    parser.add_argument("--max-steps", type=int, default=8)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, help="a folder to keep everything in (default: a temporary one)")
    args = parser.parse_args()
    families = args.family or DEFAULT_FAMILIES
    work = args.work or Path(tempfile.mkdtemp(prefix="finetune-gain-"))
    env = {**os.environ, "EVAL_AGENT_HOME": str(work / "home")}
    started = time.monotonic()
    family_flags = [flag for family in families for flag in ("--family", family)]
    for split, count, seed in (("train", args.train, args.seed), ("eval", args.eval, args.seed + 1000)):
        cli(["tasks", "generate", "--out", str(work / split), "-n", str(count), "--seed", str(seed), *family_flags],
            env, timeout=3600)
    train_tasks = sorted(p for p in (work / "train").iterdir() if (p / "instruction.md").is_file())
    print(f"{len(train_tasks)} training tasks, {args.eval} held-out tasks ({', '.join(families)}); work in {work}")

    if args.teacher == "solutions":
        for task in train_tasks:
            script = work / "teacher" / f"{task.name}.json"
            script.parent.mkdir(parents=True, exist_ok=True)
            script.write_text(json.dumps(teacher_script(task)))
            cli(["bench", str(task), "--model", f"scripted:{script}", "--tool-mode", "json",
                 "--out", str(work / "teacher-bench" / task.name)], env, timeout=1800)
    elif args.teacher != "none":
        cli(["bench", str(work / "train"), "--model", args.teacher, "--attempts", "2", "--max-steps",
             str(args.max_steps), "--out", str(work / "teacher-bench")], env)
    if args.self_attempts:
        cli(["bench", str(work / "train"), "--model", args.model, "--attempts", str(args.self_attempts),
             "--max-steps", str(args.max_steps), "--out", str(work / "self-bench")], env)
    verified = [line for line in cli(["traj", "ls", "--verified", "--json"], env).stdout.splitlines() if line.strip()]
    print(f"{len(verified)} verified training runs")

    name = f"gain-{int(time.time())}"
    base = args.model if args.model.startswith("local") else args.model
    tuned = cli(["finetune", "--out", name, "--base", base, "--verified", "--epochs", str(args.epochs),
                 "--lr", str(args.lr)], env, timeout=24 * 3600)
    card = json.loads((work / "home" / "adapters" / name / "card.json").read_text())
    print(tuned.stdout.strip().splitlines()[-1] if tuned.stdout.strip() else tuned.stderr.strip()[-300:])

    compared = cli(["compare", str(work / "eval"), "--model", args.model, "--model", f"{args.model}+{name}",
                    "--attempts", str(args.attempts), "--max-steps", str(args.max_steps),
                    "--out", str(work / "compare")], env, timeout=24 * 3600)
    device = card["hyperparameters"]["device"]
    print(f"\nbase {args.model} ({card['base']['model']}), trained on the {device}: "
          f"{len(card['data']['train_runs'])} runs, {card['training']['steps']} steps, "
          f"{card['training']['seconds']:.0f} s; held-out: {args.eval} tasks x {args.attempts} attempts, "
          f"--max-steps {args.max_steps}; everything took {(time.monotonic() - started) / 60:.0f} min\n")
    print(compared.stdout.strip())


if __name__ == "__main__":
    main()
