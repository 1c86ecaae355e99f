"""What a task family makes: one task as plain data, before it is written as a Harbor folder.

A family is a name, a category and a `generate(rng, difficulty)` function. Everything that varies
between its tasks (names, data, formats, thresholds, which bug) comes from `rng`, so one seed gives
one task, and N seeds give N tasks whose answers differ: one task's solution fails another's tests."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

DIFFICULTIES = ("easy", "medium", "hard")
WORKDIR = "/app"  # where a generated task's files are and where the agent starts


@dataclass
class GeneratedTask:
    family: str
    category: str
    difficulty: str
    instruction: str  # as a person would write it; says where things are and what "done" means
    files: dict[str, str | bytes]  # the environment: path relative to WORKDIR -> contents
    solution: str  # bash, run in WORKDIR as root: the reference solution
    tests: str  # a pytest module, run as root after the agent: passes only when the task is done
    tags: list[str] = field(default_factory=list)
    setup: str = ""  # bash run as root in WORKDIR once the files are in (git history, users ...)
    executable: tuple[str, ...] = ()  # files (relative to WORKDIR) that get mode 755
    agent_timeout: float = 300.0
    allow_internet: bool = False


@dataclass(frozen=True)
class Family:
    name: str
    category: str
    generate: Callable[[random.Random, str], GeneratedTask]
    summary: str = ""  # one line for `eval-agent tasks families`
