"""A GeneratedTask written as a Harbor task folder:

    ID/instruction.md
    ID/task.toml                 metadata: family, category, difficulty, tags, seed
    ID/environment/Dockerfile    FROM the sandbox image; COPY files/ to /app (and RUN the setup)
    ID/environment/files/        the task's own files
    ID/solution/solve.sh
    ID/tests/test.sh             Harbor's contract: the reward in /logs/verifier/reward.txt
    ID/tests/test_outputs.py

Every task of the gym has the same Dockerfile up to its `COPY files/`, so the bench builds that
part once and copies each task's files into a container of it (bench/tasks.py: ThinEnvironment):
no image per task. Any Harbor runner still builds the folder as it is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .. import __version__
from ..sandbox.image import image_tag
from .spec import WORKDIR, GeneratedTask

SETUP_FILE = ".gym-setup.sh"
TEST_SH = """#!/bin/bash
# Harbor's contract: write the reward to /logs/verifier/reward.txt (1 when every check passes).
mkdir -p /logs/verifier
cd /tests
# no bytecode left behind: a module the tests import must be read afresh by a later run (the
# validator runs the tests before and after the solution in one container)
export PYTHONDONTWRITEBYTECODE=1
if python3 -m pytest -q -p no:cacheprovider /tests/test_outputs.py; then
  echo 1 > /logs/verifier/reward.txt
else
  echo 0 > /logs/verifier/reward.txt
fi
"""


def dockerfile(task: GeneratedTask) -> str:
    lines = [f"FROM {image_tag()}", f"WORKDIR {WORKDIR}", f"COPY files/ {WORKDIR}/"]
    if task.setup:
        lines.append(f"RUN bash {WORKDIR}/{SETUP_FILE} && rm -f {WORKDIR}/{SETUP_FILE}")
    return "\n".join(lines) + "\n"


def task_toml(task: GeneratedTask, seed: str) -> str:
    def quoted(text: str) -> str:
        return json.dumps(text)  # a TOML basic string is a JSON string for what we write

    return "\n".join([
        'version = "1.0"',
        "",
        "[metadata]",
        f'author_name = {quoted(f"eval-agent {__version__} gym")}',
        f"family = {quoted(task.family)}",
        f"category = {quoted(task.category)}",
        f"difficulty = {quoted(task.difficulty)}",
        f"tags = [{', '.join(quoted(tag) for tag in task.tags)}]",
        f"seed = {quoted(seed)}",
        "",
        "[verifier]",
        "timeout_sec = 120.0",
        "",
        "[agent]",
        f"timeout_sec = {float(task.agent_timeout)}",
        "",
        "[environment]",
        "build_timeout_sec = 600.0",
        "cpus = 1",
        "memory_mb = 1024",
        f"allow_internet = {'true' if task.allow_internet else 'false'}",
        "",
    ])


def write_task(task: GeneratedTask, folder: Path, seed: str) -> Path:
    """Writes the task into `folder` (replaced if it exists); returns it."""
    if folder.exists():
        shutil.rmtree(folder)
    files = folder / "environment" / "files"
    files.mkdir(parents=True)
    for relative, contents in sorted(task.files.items()):
        path = files / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(contents, bytes):
            path.write_bytes(contents)
        else:
            path.write_text(contents, encoding="utf-8")
        path.chmod(0o755 if relative in task.executable else 0o644)
    if task.setup:
        (files / SETUP_FILE).write_text(task.setup if task.setup.endswith("\n") else task.setup + "\n")
    (folder / "environment" / "Dockerfile").write_text(dockerfile(task))
    (folder / "instruction.md").write_text(task.instruction.strip() + "\n", encoding="utf-8")
    (folder / "task.toml").write_text(task_toml(task, seed))
    (folder / "solution").mkdir()
    (folder / "solution" / "solve.sh").write_text("#!/bin/bash\nset -euo pipefail\ncd " + WORKDIR + "\n"
                                                  + task.solution.strip() + "\n")
    (folder / "tests").mkdir()
    (folder / "tests" / "test.sh").write_text(TEST_SH)
    (folder / "tests" / "test.sh").chmod(0o755)
    (folder / "tests" / "test_outputs.py").write_text(task.tests.strip() + "\n", encoding="utf-8")
    return folder
