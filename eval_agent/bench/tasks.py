"""Task folders, in the two formats the field uses, read into one plain Task.

Harbor:             instruction.md, task.toml, environment/Dockerfile, solution/solve.sh,
                    tests/test.sh (writes a reward to /logs/verifier/reward.txt)
Terminal-Bench 1.x: task.yaml (its `instruction`), Dockerfile, solution.sh or solution.yaml,
                    run-tests.sh, tests/

Each format is a task source, an entry point of `eval_agent.task_sources` (plugins.py): an
installed package may add a layout of its own. The built-ins are asked first, in the order
above; a folder is the first source's that recognises it.

A PATH is a task folder, or a folder whose direct sub-folders are tasks."""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import plugins
from ..errors import UsageError

DEFAULT_AGENT_TIMEOUT = 600.0
DEFAULT_VERIFIER_TIMEOUT = 180.0
TESTS_DIR = "/tests"  # where both formats' tests are copied, once the agent is done
SOLUTION_DIR = "/solution"


@dataclass(frozen=True)
class ThinEnvironment:
    """A Dockerfile that ends with `COPY FOLDER/ DEST` (a folder of its build context) and perhaps
    RUN lines: the bench builds the part before the COPY once, for every task that shares it, and
    copies FOLDER into each task's container and runs the RUN lines there, as root, instead of
    building an image per task. The gym writes its tasks so; any Dockerfile of this shape gains."""

    base: str  # the Dockerfile up to the COPY
    folder: Path  # on the host
    target: str  # absolute, in the container
    commands: tuple[str, ...] = ()  # the RUN lines after the COPY, in shell form


@dataclass
class Task:
    id: str
    path: Path
    format: str  # the task source's name: harbor, terminal-bench, or a plugin's
    instruction: str
    category: str = "uncategorized"
    tags: list[str] = field(default_factory=list)
    difficulty: str | None = None
    # the environment: a Dockerfile in a build context, or a ready image (Harbor's docker_image)
    build_context: Path | None = None
    dockerfile: Path | None = None
    image: str | None = None
    # the reference solution: a script (Harbor solve.sh, TB solution.sh) or TB's solution.yaml
    solution_script: Path | None = None
    solution_yaml: Path | None = None
    # what is copied to /tests after the agent is done, as {path in /tests: file on the host}
    test_files: dict[str, Path] = field(default_factory=dict)
    test_command: str = ""
    test_env: dict[str, str] = field(default_factory=dict)
    reward_file_required: bool = True  # Harbor: no reward file is a failure; TB: the exit code counts
    agent_timeout: float = DEFAULT_AGENT_TIMEOUT
    verifier_timeout: float = DEFAULT_VERIFIER_TIMEOUT
    cpus: float | None = None
    memory_mb: int | None = None
    allow_internet: bool = True
    family: str = ""  # the generator family (the gym's); else the category: splits select by it
    thin: ThinEnvironment | None = None  # see ThinEnvironment; None: the Dockerfile is built whole

    @property
    def solution_files(self) -> dict[str, Path]:
        """Files of the solution folder besides the script (Harbor), as {relative path: file}."""
        if self.format != "harbor" or self.solution_script is None:
            return {}
        folder = self.solution_script.parent
        return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*"))
                if p.is_file() and p != self.solution_script}

    @property
    def has_solution(self) -> bool:
        return self.solution_script is not None or self.solution_yaml is not None


# -- task sources: entry points of eval_agent.task_sources --------------------------------
SOURCE_ORDER = ("harbor", "terminal-bench")


class HarborSource:
    name, title, layout = "harbor", "Harbor", "task.toml + instruction.md"

    def detect(self, folder: Path) -> bool:
        return (folder / "task.toml").is_file() and (folder / "instruction.md").is_file()

    def load(self, folder: Path) -> Task:
        return _load_harbor(folder)


class TerminalBenchSource:
    name, title, layout = "terminal-bench", "Terminal-Bench", "task.yaml"

    def detect(self, folder: Path) -> bool:
        return (folder / "task.yaml").is_file()

    def load(self, folder: Path) -> Task:
        return _load_terminal_bench(folder)


@functools.lru_cache(maxsize=1)
def task_sources() -> tuple[tuple[plugins.Plugin, Any], ...]:
    """(plugin, source) of every task source, built-ins first: they are all asked of each folder."""
    found = []
    for plugin in plugins.plugins(plugins.TASK_SOURCES, SOURCE_ORDER):
        found.append((plugin, plugin.expect(plugin.call(plugin.load()), "a task source", ("detect", "load"))))
    return tuple(found)


def _source_for(folder: Path) -> tuple[plugins.Plugin, Any] | None:
    return next(((plugin, source) for plugin, source in task_sources() if plugin.call(source.detect, folder)), None)


def _layouts(sep: str, titled: bool) -> str:
    """What each source looks for, as the errors say it: task.toml + instruction.md, task.yaml."""
    parts = []
    for plugin, source in task_sources():
        layout = getattr(source, "layout", f"a {plugin.name} task")
        parts.append(f"{getattr(source, 'title', plugin.name)}: {layout}" if titled else layout)
    return sep.join(parts)


def detect_format(folder: Path) -> str | None:
    found = _source_for(folder)
    return found[0].name if found else None


def load_task(folder: Path) -> Task:
    folder = folder.resolve()
    found = _source_for(folder)
    if found is None:
        raise UsageError(f"{folder} is not a task folder (no {_layouts(', no ', titled=False)})")
    plugin, source = found
    task = plugin.call(source.load, folder)
    if not isinstance(task, Task):
        raise plugins.PluginError(f"{plugin.label} gave {type(task).__name__}, not a Task (bench/tasks.py)")
    return task


def discover(paths: list[Path], patterns: list[str] | None = None) -> list[Task]:
    """The tasks under `paths`, sorted by id, keeping those whose id matches one of `patterns`
    (shell globs). A PATH is a task folder or a folder of task folders."""
    tasks: dict[str, Task] = {}
    for path in paths:
        if not path.is_dir():
            raise UsageError(f"{path} is not a folder")
        folders = [path] if detect_format(path) else sorted(p for p in path.iterdir() if p.is_dir() and detect_format(p))
        if not folders:
            raise UsageError(f"{path} holds no tasks ({_layouts('; ', titled=True)})")
        for folder in folders:
            task = load_task(folder)
            if task.id in tasks and tasks[task.id].path != task.path:
                raise UsageError(f"two tasks are named {task.id}: {tasks[task.id].path} and {task.path}")
            tasks[task.id] = task
    chosen = [task for task in tasks.values() if not patterns or any(fnmatch.fnmatchcase(task.id, p) for p in patterns)]
    if not chosen:
        raise UsageError(f"no task matches --filter {' '.join(patterns or [])}")
    return sorted(chosen, key=lambda task: task.id)


# -- Harbor ---------------------------------------------------------------------------
def _load_harbor(folder: Path) -> Task:
    try:
        config = tomllib.loads((folder / "task.toml").read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{folder / 'task.toml'} is not valid TOML: {exc}") from None
    metadata = _table(config, "metadata")
    task_table, agent, verifier = _table(config, "task"), _table(config, "agent"), _table(config, "verifier")
    environment = _table(config, "environment")
    instruction = (folder / "instruction.md").read_text(encoding="utf-8").strip()
    env_folder = folder / "environment"
    dockerfile = env_folder / "Dockerfile"
    image = environment.get("docker_image")
    if not dockerfile.is_file() and not image:
        raise UsageError(f"task {folder.name}: no environment/Dockerfile and no [environment] docker_image")
    tests = folder / "tests"
    if not (tests / "test.sh").is_file():
        raise UsageError(f"task {folder.name}: tests/test.sh is missing")
    solve = folder / "solution" / "solve.sh"
    memory = environment.get("memory_mb") or _megabytes(environment.get("memory"))
    return Task(
        id=folder.name, path=folder, format="harbor", instruction=instruction,
        category=str(metadata.get("category") or "uncategorized"),
        tags=[str(tag) for tag in (metadata.get("tags") or task_table.get("keywords") or [])],
        difficulty=metadata.get("difficulty"),
        build_context=env_folder if dockerfile.is_file() else None,
        dockerfile=dockerfile if dockerfile.is_file() else None,
        image=None if dockerfile.is_file() else str(image),
        solution_script=solve if solve.is_file() else None,
        test_files=_files_under(tests),
        test_command=f"bash {TESTS_DIR}/test.sh",
        test_env={str(k): str(v) for k, v in (verifier.get("env") or {}).items()},
        reward_file_required=True,
        agent_timeout=float(agent.get("timeout_sec") or DEFAULT_AGENT_TIMEOUT),
        verifier_timeout=float(verifier.get("timeout_sec") or DEFAULT_VERIFIER_TIMEOUT),
        cpus=float(environment["cpus"]) if environment.get("cpus") else None,
        memory_mb=int(memory) if memory else None,
        allow_internet=bool(environment.get("allow_internet", True)),
        family=str(metadata.get("family") or metadata.get("category") or "uncategorized"),
        thin=thin_environment(dockerfile.read_text(encoding="utf-8"), env_folder) if dockerfile.is_file() else None,
    )


def _table(config: dict, name: str) -> dict[str, Any]:
    value = config.get(name) or {}
    return value if isinstance(value, dict) else {}


def _megabytes(text: Any) -> int | None:
    """Harbor's older spelling: memory = "2G" / "512M"."""
    if not isinstance(text, str) or not text:
        return None
    units = {"G": 1024, "M": 1, "K": 1 / 1024}
    number, unit = text[:-1], text[-1].upper()
    try:
        return int(float(number) * units[unit]) if unit in units else int(text) // 2**20
    except ValueError:
        return None


def _files_under(folder: Path, prefix: str = "") -> dict[str, Path]:
    return {prefix + str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


# -- Terminal-Bench 1.x ----------------------------------------------------------------
def _load_terminal_bench(folder: Path) -> Task:
    try:
        config = yaml.safe_load((folder / "task.yaml").read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{folder / 'task.yaml'} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise UsageError(f"{folder / 'task.yaml'} must be a mapping")
    instruction = config.get("instruction")
    if not instruction:  # early 1.x: descriptions: [{key: base, description: ...}]
        descriptions = {d.get("key", "base"): d.get("description", "") for d in config.get("descriptions") or []
                        if isinstance(d, dict)}
        instruction = descriptions.get("base")
    if not instruction:
        raise UsageError(f"task {folder.name}: task.yaml has no instruction")
    dockerfile = folder / "Dockerfile"
    if not dockerfile.is_file():
        raise UsageError(f"task {folder.name}: Dockerfile is missing")
    run_tests = folder / "run-tests.sh"
    if not run_tests.is_file():
        raise UsageError(f"task {folder.name}: run-tests.sh is missing")
    test_files = {"run-tests.sh": run_tests}
    if (folder / "tests").is_dir():
        test_files.update(_files_under(folder / "tests"))
    solution_sh, solution_yaml = folder / "solution.sh", folder / "solution.yaml"
    return Task(
        id=folder.name, path=folder, format="terminal-bench", instruction=str(instruction).strip(),
        category=str(config.get("category") or "uncategorized"),
        tags=[str(tag) for tag in config.get("tags") or []],
        difficulty=config.get("difficulty"),
        build_context=folder, dockerfile=dockerfile,
        solution_script=solution_sh if solution_sh.is_file() else None,
        solution_yaml=solution_yaml if solution_yaml.is_file() and not solution_sh.is_file() else None,
        test_files=test_files,
        test_command=f"bash {TESTS_DIR}/run-tests.sh",
        test_env={"TEST_DIR": TESTS_DIR},
        reward_file_required=False,
        agent_timeout=float(config.get("max_agent_timeout_sec") or DEFAULT_AGENT_TIMEOUT),
        verifier_timeout=float(config.get("max_test_timeout_sec") or DEFAULT_VERIFIER_TIMEOUT),
        family=str(config.get("family") or config.get("category") or "uncategorized"),
        thin=thin_environment(dockerfile.read_text(encoding="utf-8"), folder),
    )


def thin_environment(text: str, context: Path) -> ThinEnvironment | None:
    """The Dockerfile as a ThinEnvironment, when it has that shape: a last `COPY SRC DEST` (no
    flags) of a folder of the context, only shell-form RUN lines after it, and no USER or SHELL
    before it (their RUN lines would run differently)."""
    instructions = _instructions(text)
    copies = [i for i, (word, _) in enumerate(instructions) if word == "COPY"]
    if not copies:
        return None
    at = copies[-1]
    before, (_, arguments), after = instructions[:at], instructions[at], instructions[at + 1:]
    if any(word in ("USER", "SHELL") for word, _ in before) or not any(word == "FROM" for word, _ in before):
        return None
    if any(word != "RUN" or rest.startswith(("[", "--")) for word, rest in after):
        return None
    parts = arguments.split()
    if len(parts) != 2 or arguments.startswith(("--", "[")):
        return None
    source, target = parts
    folder = (context / source).resolve()
    if not folder.is_dir() or not folder.is_relative_to(context.resolve()) or folder == context.resolve():
        return None
    workdirs = [rest for word, rest in before if word == "WORKDIR"]
    if not target.startswith("/"):
        if not workdirs or not workdirs[-1].startswith("/"):
            return None
        target = posixpath.join(workdirs[-1], target)
    base = "".join(line for _, _, line in _raw_instructions(text)[:at])
    return ThinEnvironment(base, folder, posixpath.normpath(target), tuple(rest for _, rest in after))


def _raw_instructions(text: str) -> list[tuple[str, str, str]]:
    """(WORD, arguments, the source lines) of each instruction; comments and blank lines go with
    the instruction that follows them; a trailing backslash continues a line."""
    found, pending, current = [], "", ""
    for line in text.splitlines(keepends=True):
        pending += line
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if stripped.endswith("\\"):
            continue
        word, _, rest = current.partition(" ")
        found.append((word.upper(), rest.strip(), pending))
        pending, current = "", ""
    return found


def _instructions(text: str) -> list[tuple[str, str]]:
    return [(word, rest) for word, rest, _ in _raw_instructions(text)]


def solution_steps(task: Task) -> list[dict[str, Any]]:
    """Terminal-Bench's solution.yaml: a list of {command, min_timeout_sec?, block?}, as
    [{command, timeout}]. Keystroke entries for interactive programs are not supported."""
    if task.solution_yaml is None:
        return []
    try:
        items = yaml.safe_load(task.solution_yaml.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise UsageError(f"{task.solution_yaml} is not valid YAML: {exc}") from None
    if not isinstance(items, list):
        raise UsageError(f"{task.solution_yaml} must be a list of {{command: ...}}")
    steps = []
    for item in items:
        command = item.get("command") if isinstance(item, dict) else item
        if not isinstance(command, str) or not command.strip():
            raise UsageError(f"{task.solution_yaml}: every entry needs a command")
        minimum = float(item.get("min_timeout_sec") or 0) if isinstance(item, dict) else 0.0
        steps.append({"command": command.rstrip("\n"), "timeout": max(minimum, task.agent_timeout)})
    return steps
