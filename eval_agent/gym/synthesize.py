"""`eval-agent tasks synthesize`: a model writes new tasks, kept only when they validate.

From a folder of tasks (each synthesised task is a new one of the kind of an example drawn from
it) or from a description. The model alternates between two kinds: a bug injected into working
code with a test that catches it, and a small feature with its tests and solution. Its answer is
one JSON object; an answer that cannot be read is sent back with the reason, a bounded number of
times. Every task read is written to a staging folder and validated like a generated one (its
tests fail untouched and pass after its solution); only then is it moved into the output folder."""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..bench.tasks import Task, discover, load_task
from ..errors import UsageError
from ..models.base import Model
from ..loop.prompts import Prompts
from .spec import DIFFICULTIES, GeneratedTask
from .validate import Validator, Verdict
from .writer import write_task

KINDS = ("inject exactly one bug into working code, with a test that catches it: the task is to find and fix it",
         "ask for a small feature of working code, with tests of it and a solution that adds it")
ANSWER_TRIES = 3  # answers the model may give for one task before that task is given up
SCHEMA = {
    "type": "object",
    "properties": {
        "instruction": {"type": "string"}, "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "solution": {"type": "string"}, "tests": {"type": "string"}, "category": {"type": "string"},
        "difficulty": {"type": "string", "enum": list(DIFFICULTIES)}, "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["instruction", "files", "solution", "tests"],
}


@dataclass
class SynthesisReport:
    kept: list[str] = field(default_factory=list)
    rejected: list[Verdict] = field(default_factory=list)  # read, but not sound
    unreadable: list[str] = field(default_factory=list)  # no usable answer after ANSWER_TRIES


def synthesize(model: Model, source: str, out: Path, count: int, seed: int = 0, jobs: int = 2,
               prompts: Prompts | None = None, log: Callable[[str], None] = lambda line: None) -> SynthesisReport:
    if count < 1:
        raise UsageError("-n must be at least 1")
    prompts = prompts or Prompts()
    examples = discover([Path(source)]) if Path(source).is_dir() else []
    description = "" if examples else source.strip()
    if not examples and not description:
        raise UsageError("--from needs a folder of tasks or a description of the tasks to write")
    rng = random.Random(seed)
    staging = out / ".staging"
    report, written = SynthesisReport(), []
    for index in range(count):
        example = rng.choice(examples) if examples else None
        family = f"synth-{example.family}" if example else "synth"
        task_id = f"{family}-s{seed}-{index:04d}"
        task = _ask(model, prompts, example, description, KINDS[index % len(KINDS)], family)
        if task is None:
            report.unreadable.append(task_id)
            log(f"BAD  {task_id}: the model gave no usable task")
            continue
        written.append(write_task(task, staging / task_id, f"{seed}:{index}"))
    verdicts = Validator(separate=False).check_all(
        [load_task(folder) for folder in written], jobs,
        on_verdict=lambda v: log(f"{'ok  ' if v.ok else 'BAD '} {v.task}" + (f": {v.problem}" if v.problem else "")))
    for folder, verdict in zip(written, verdicts):
        if verdict.ok:
            target = out / folder.name
            if target.exists():
                shutil.rmtree(target)
            folder.rename(target)
            report.kept.append(folder.name)
        else:
            report.rejected.append(verdict)
    shutil.rmtree(staging, ignore_errors=True)
    return report


def _ask(model: Model, prompts: Prompts, example: Task | None, description: str, kind: str,
         family: str) -> GeneratedTask | None:
    problem = ""
    for _ in range(ANSWER_TRIES):
        prompt = prompts.render("synthesize", example=_shown(example) if example else None,
                                description=description, kind=kind, problem=problem)
        answer = model.complete([{"role": "user", "content": prompt}], response_format=SCHEMA)
        try:
            return read_answer(answer.content, family)
        except ValueError as exc:
            problem = str(exc)
    return None


def read_answer(text: str, family: str) -> GeneratedTask:
    """The model's JSON object as a GeneratedTask; ValueError says what is wrong with it."""
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    try:
        data = json.loads(fenced.group(1) if fenced else text.strip())
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not one JSON object ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    for key in ("instruction", "solution", "tests"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ValueError(f'"{key}" must be a non-empty string')
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ValueError('"files" must map relative paths to file contents (strings)')
    for path in files:
        parts = Path(path).parts
        if not path or Path(path).is_absolute() or ".." in parts or parts[0] == ".git":
            raise ValueError(f'"files" holds {path!r}: give paths relative to /app, inside it')
    difficulty = data.get("difficulty") if data.get("difficulty") in DIFFICULTIES else "medium"
    tags = [str(tag) for tag in data.get("tags") or [] if isinstance(tag, (str, int))][:8]
    return GeneratedTask(family=family, category=str(data.get("category") or "synthesized")[:40],
                         difficulty=difficulty, instruction=data["instruction"], files=dict(files),
                         solution=data["solution"], tests=data["tests"], tags=["synthesized", *tags])


def _shown(task: Task) -> dict:
    """What the prompt shows of an example task: its text files (small ones), solution and tests."""
    files = {}
    if task.thin is not None:
        for path in sorted(task.thin.folder.rglob("*")):
            if path.is_file() and path.stat().st_size <= 4000 and not path.name.startswith(".gym-"):
                try:
                    files[str(path.relative_to(task.thin.folder))] = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
    tests = next((path.read_text(encoding="utf-8") for name, path in sorted(task.test_files.items())
                  if name.endswith(".py")), "")
    solution = task.solution_script.read_text(encoding="utf-8") if task.solution_script else ""
    return {"id": task.id, "instruction": task.instruction, "files": files, "solution": solution, "tests": tests}
