"""The bench without containers: both task formats load, discovery and filters, the oracle's
script, results files and the summary's interval. Helpers here build small task folders for
test_bench_run.py too."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT
from eval_agent.bench.oracle import nop_actions, oracle_actions
from eval_agent.bench.report import AttemptResult, ResultsFile, summary_markdown, wilson_interval
from eval_agent.bench.tasks import discover, load_task, solution_steps
from eval_agent.errors import UsageError

SHIPPED = ROOT / "tasks"


def write(path: Path, text: str, executable: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    if executable:
        path.chmod(0o755)
    return path


def make_harbor_task(root: Path, name: str = "answer-file", base: str = "eval-agent-sandbox:0.1.0",
                     category: str = "demo") -> Path:
    """A tiny Harbor task: write 42 to /app/answer.txt. Its tests folder holds the answer, and
    its solution reads a second file of the solution folder."""
    folder = root / name
    write(folder / "instruction.md", "Write the number 42 to /app/answer.txt.\n")
    write(folder / "task.toml", f"""
        version = "1.0"
        [metadata]
        category = "{category}"
        tags = ["tiny"]
        [verifier]
        timeout_sec = 30.0
        [agent]
        timeout_sec = 60.0
        [environment]
        allow_internet = false
        """)
    write(folder / "environment" / "Dockerfile", f"FROM {base}\nWORKDIR /app\n")
    write(folder / "solution" / "solve.sh", "#!/bin/bash\ncp /solution/answer.txt /app/answer.txt\n", executable=True)
    write(folder / "solution" / "answer.txt", "42\n")
    write(folder / "tests" / "expected.txt", "42\n")
    write(folder / "tests" / "test.sh", """
        #!/bin/bash
        mkdir -p /logs/verifier
        if cmp -s /app/answer.txt /tests/expected.txt; then echo 1; else echo 0; fi > /logs/verifier/reward.txt
        """, executable=True)
    return folder


def make_terminal_bench_task(root: Path, name: str = "tb-hello", base: str = "eval-agent-sandbox:0.1.0",
                             solution: str = "sh") -> Path:
    """A Terminal-Bench 1.x task: hello.txt must say hello; judged by run-tests.sh's exit code."""
    folder = root / name
    write(folder / "task.yaml", """
        instruction: |-
          Create /app/hello.txt containing the line "hello".
        category: file-operations
        tags: [tiny, tb]
        difficulty: easy
        max_agent_timeout_sec: 60
        max_test_timeout_sec: 30
        """)
    write(folder / "Dockerfile", f"FROM {base}\nWORKDIR /app\n")
    if solution == "sh":
        write(folder / "solution.sh", "#!/bin/bash\necho hello > /app/hello.txt\n")
    else:
        write(folder / "solution.yaml", """
            - command: "echo hel > /app/hello.txt"
              min_timeout_sec: 0.1
              block: true
            - command: "sed -i 's/hel/hello/' /app/hello.txt"
            """)
    write(folder / "run-tests.sh", """
        #!/bin/bash
        python3 -m pytest -q -p no:cacheprovider "$TEST_DIR/test_outputs.py"
        """)
    write(folder / "tests" / "test_outputs.py", """
        def test_hello():
            assert open("/app/hello.txt").read() == "hello\\n"
        """)
    return folder


def test_the_shipped_tasks_load_as_harbor_tasks_with_solutions_and_tests():
    tasks = discover([SHIPPED])
    assert len(tasks) >= 12
    categories = {task.category for task in tasks}
    assert {"data", "web", "git", "bug-fix", "shell", "scripting"} <= categories
    for task in tasks:
        assert task.format == "harbor" and task.instruction
        assert task.dockerfile.read_text().startswith("FROM eval-agent-sandbox:")
        assert task.solution_script.name == "solve.sh"
        assert "test.sh" in task.test_files and task.test_command == "bash /tests/test.sh"
        assert task.reward_file_required and not task.allow_internet
        assert task.agent_timeout == 300 and task.verifier_timeout == 60


def test_harbor_fields(tmp_path):
    task = load_task(make_harbor_task(tmp_path))
    assert (task.id, task.category, task.tags, task.format) == ("answer-file", "demo", ["tiny"], "harbor")
    assert task.instruction == "Write the number 42 to /app/answer.txt."
    assert set(task.test_files) == {"expected.txt", "test.sh"}
    assert set(task.solution_files) == {"answer.txt"}
    assert (task.agent_timeout, task.verifier_timeout) == (60.0, 30.0)
    assert task.build_context == task.path / "environment"


def test_terminal_bench_fields(tmp_path):
    task = load_task(make_terminal_bench_task(tmp_path))
    assert task.format == "terminal-bench"
    assert task.instruction == 'Create /app/hello.txt containing the line "hello".'
    assert (task.category, task.tags, task.difficulty) == ("file-operations", ["tiny", "tb"], "easy")
    assert set(task.test_files) == {"run-tests.sh", "test_outputs.py"}
    assert task.test_command == "bash /tests/run-tests.sh" and task.test_env == {"TEST_DIR": "/tests"}
    assert not task.reward_file_required
    assert task.build_context == task.path and task.solution_script.name == "solution.sh"
    assert (task.agent_timeout, task.verifier_timeout) == (60.0, 30.0)


def test_terminal_bench_solution_yaml_becomes_one_step_per_command(tmp_path):
    task = load_task(make_terminal_bench_task(tmp_path, solution="yaml"))
    assert task.solution_script is None
    assert [step["command"] for step in solution_steps(task)] == [
        "echo hel > /app/hello.txt", "sed -i 's/hel/hello/' /app/hello.txt"]
    actions = oracle_actions(task)
    assert [a["tool"] for a in actions] == ["bash", "bash", "finish"]


def test_early_terminal_bench_descriptions_are_read(tmp_path):
    folder = make_terminal_bench_task(tmp_path)
    write(folder / "task.yaml", """
        descriptions:
          - key: base
            description: Say hello.
        """)
    assert load_task(folder).instruction == "Say hello."


def test_oracle_script_holds_the_whole_solution_then_finishes(tmp_path):
    task = load_task(make_harbor_task(tmp_path))
    actions = oracle_actions(task)
    assert [a["tool"] for a in actions] == ["bash", "finish"]
    command = actions[0]["args"]["command"]
    assert "cp /solution/answer.txt /app/answer.txt" in command and command.endswith("bash /solution/solve.sh")
    assert [a["tool"] for a in nop_actions()] == ["finish"]


def test_discovery_of_one_task_a_folder_of_tasks_and_filters(tmp_path):
    make_harbor_task(tmp_path, "alpha")
    make_terminal_bench_task(tmp_path, "beta")
    (tmp_path / "not-a-task").mkdir()
    assert [t.id for t in discover([tmp_path])] == ["alpha", "beta"]
    assert [t.id for t in discover([tmp_path / "beta"])] == ["beta"]
    assert [t.id for t in discover([tmp_path], ["a*"])] == ["alpha"]
    assert [t.id for t in discover([tmp_path], ["zz*", "b?ta"])] == ["beta"]
    with pytest.raises(UsageError, match="no task matches"):
        discover([tmp_path], ["zz*"])
    with pytest.raises(UsageError, match="holds no tasks"):
        discover([tmp_path / "not-a-task"])


def test_broken_task_files_are_one_clear_error(tmp_path):
    folder = make_harbor_task(tmp_path)
    (folder / "task.toml").write_text("version = [")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_task(folder)
    folder = make_harbor_task(tmp_path, "no-tests")
    (folder / "tests" / "test.sh").unlink()
    with pytest.raises(UsageError, match="tests/test.sh is missing"):
        load_task(folder)


def result(task: str, attempt: int, passed: bool, category: str = "c", error: str | None = None,
           **more) -> AttemptResult:
    return AttemptResult(task=task, attempt=attempt, passed=passed, reward=float(passed), steps=2, tokens=10,
                         input_tokens=8, output_tokens=2, cost=0.001, seconds=1.5, run_id=f"run-{task}-{attempt}",
                         error=error, category=category, **more)


def test_wilson_interval_known_values():
    assert wilson_interval(12, 12) == pytest.approx((0.7575, 1.0), abs=1e-3)
    assert wilson_interval(0, 12) == pytest.approx((0.0, 0.2425), abs=1e-3)
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)


def test_results_file_keeps_the_latest_line_per_attempt_and_skips_a_cut_line(tmp_path):
    results = ResultsFile(tmp_path)
    results.append(result("a", 1, False, error="docker went away"))
    results.append(result("a", 1, True))
    results.append(result("b", 1, False))
    with open(results.path, "a") as file:
        file.write('{"task": "c", "attem')  # a crash mid-line
    loaded = results.load()
    assert [(r.task, r.attempt, r.passed, r.error) for r in loaded] == [("a", 1, True, None), ("b", 1, False, None)]
    line = json.loads(results.path.read_text().splitlines()[0])
    assert {"task", "attempt", "passed", "reward", "steps", "tokens", "cost", "seconds", "run_id", "error"} <= line.keys()


def test_a_results_folder_holds_one_configuration(tmp_path):
    ResultsFile(tmp_path).check_meta({"agent": "oracle", "model": None})
    ResultsFile(tmp_path).check_meta({"agent": "oracle", "model": None})
    with pytest.raises(UsageError, match="pass another --out"):
        ResultsFile(tmp_path).check_meta({"agent": "eval", "model": "openai:x"})


def test_summary_has_the_table_the_interval_and_rates_by_category_family_and_difficulty():
    rows = [result("a", 1, True, "data", family="csv-aggregate", difficulty="easy"),
            result("b", 1, False, "data", family="csv-aggregate", difficulty="hard"),
            result("c", 1, True, "web", difficulty="easy"),
            result("d", 1, False, "web", error="the tests wrote no reward")]
    text = summary_markdown(rows, {"agent": "eval", "model": "openai:m"})
    assert "agent eval with model openai:m" in text
    assert "2/4 = 50.0% (95% interval 15.0% to 85.0%)" in text
    assert "| a | csv-aggregate | easy | 1 | pass | 1 | 2 | 10 | 1.5 | run-a-1 |  |" in text
    assert "| d | web |  | 1 | error |" in text, "a task with no family counts under its category"
    assert "| data | 2 | 1 | 50.0% |" in text and "| web | 2 | 1 | 50.0% |" in text
    by_family = text[text.index("## By family"):text.index("## By difficulty")]
    assert "| csv-aggregate | 2 | 1 | 50.0% |" in by_family and "| web | 2 | 1 | 50.0% |" in by_family
    by_difficulty = text[text.index("## By difficulty"):text.index("## Attempts")]
    assert "| easy | 2 | 2 | 100.0% |" in by_difficulty and "| unrated | 1 | 0 | 0.0% |" in by_difficulty


def test_rewards_are_read_from_reward_txt_then_reward_json():
    import base64

    from eval_agent.bench.verify import _fields, _reward

    def report(**files: str) -> dict:
        lines = ["exit=0"] + [f"{name.replace('_', '.')}={base64.b64encode(text.encode()).decode()}"
                              for name, text in files.items()]
        return _fields("\n".join(lines))

    assert _reward(report(reward_txt="1\n")) == (1.0, None)
    assert _reward(report(reward_txt="0.25", reward_json='{"reward": 1}')) == (0.25, None)
    assert _reward(report(reward_json='{"reward": 0.5, "quality": 1}')) == (0.5, None)
    assert _reward(report()) == (None, None)
    value, error = _reward(report(reward_txt="passed"))
    assert value is None and "does not hold a number" in error
