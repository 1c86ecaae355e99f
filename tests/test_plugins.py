"""Plugins through entry points, as a user gets them: a real package (tests/plugin_pkg: a tool, a
model provider, an export format, a task source) installed by pip, offline, into a folder on
PYTHONPATH, and the real CLI as a subprocess. It lists them, a run calls the tool in the Docker
sandbox, the provider, the format and the task source work, EVAL_AGENT_TOOLS narrows the tools; a
broken plugin is one line, a plugin cannot replace a built-in, and a scripted run loads neither
LangChain nor openai."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import cli_env, run_cli

PACKAGE = Path(__file__).resolve().parent / "plugin_pkg"


def install(source: Path, target: Path) -> Path:
    """pip install, offline and without build isolation: the venv's setuptools builds it."""
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-index",
                           "--target", str(target), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return target


def make_package(root: Path, name: str, entry_points: dict[str, dict[str, str]]) -> Path:
    """A package with no code of its own: its entry points name what it names."""
    root.mkdir(parents=True)
    groups = "".join(f'\n[project.entry-points."{group}"]\n' + "".join(f'{key} = "{value}"\n' for key, value in items.items())
                     for group, items in entry_points.items())
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "{name}"
        version = "0.2"
        [tool.setuptools]
        py-modules = []
        """) + groups)
    return root


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """tests/plugin_pkg installed into a folder of its own (copied first: a build writes beside it)."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return install(source, work / "site")


def env_with(home: Path, site: Path | None = None, **extra: str) -> dict[str, str]:
    env = cli_env(home, **extra)
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env


def listed(stdout: str) -> dict[str, dict[str, str]]:
    """`eval-agent plugins` as {group: {name: the rest of its line}}."""
    groups: dict[str, dict[str, str]] = {}
    for line in stdout.splitlines():
        if not line.startswith(" "):
            current = groups.setdefault(line.strip(), {})
        else:
            name, _, rest = line.strip().partition(" ")
            current[name] = rest.strip()
    return groups


def trajectory_events(home: Path) -> list[list[dict]]:
    return [[json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            for path in sorted((home / "trajectories").glob("*.jsonl"))]


def test_plugins_lists_the_package_beside_the_built_ins(plugin_site, eval_home):
    result = run_cli(["plugins", "--check"], env_with(eval_home, plugin_site))
    assert result.returncode == 0, result.stderr
    groups = listed(result.stdout)
    assert set(groups) == {"eval_agent.tools", "eval_agent.models", "eval_agent.export_formats", "eval_agent.task_sources"}
    word_count = groups["eval_agent.tools"]["word_count"]
    assert "eval-agent-word-count 0.1" in word_count and "eval_agent_word_count:WordCountTool" in word_count
    assert word_count.endswith("ok")
    assert "eval-agent-word-count" in groups["eval_agent.models"]["canned"]
    assert "eval-agent-word-count" in groups["eval_agent.export_formats"]["requests"]
    assert "(built in)" in groups["eval_agent.tools"]["bash"] and "(built in)" in groups["eval_agent.models"]["openai"]
    assert set(groups["eval_agent.task_sources"]) == {"harbor", "terminal-bench", "plain"}
    # without the package on the path, only the built-ins
    plain = listed(run_cli(["plugins"], env_with(eval_home)).stdout)
    assert "word_count" not in plain["eval_agent.tools"] and "canned" not in plain["eval_agent.models"]


def test_a_run_calls_the_plugin_tool_in_the_sandbox(plugin_site, eval_home, tmp_path, sandbox_image):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "words.txt").write_text("the quick brown fox\njumps over the lazy dog\n")
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"tool": "word_count", "args": {"path": "words.txt"}},
                                  {"tool": "finish", "args": {"summary": "counted"}}]))
    # -X importtime: the run also shows that a scripted model loads neither LangChain nor openai
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "eval_agent", "run", "--workspace", str(workspace),
                             "--model", f"scripted:{script}", "count the words"],
                            env=env_with(eval_home, plugin_site), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "9 words" in result.stdout
    [events] = trajectory_events(eval_home)
    started = next(e for e in events if e["type"] == "run_started")
    offered = [tool["function"]["name"] for tool in started["tools"]]
    assert "word_count" in offered and offered[-1] == "finish"
    call = next(e for e in events if e["type"] == "tool_finished" and e["tool"] == "word_count")
    assert call["ok"] and call["observation"] == "9 words" and call["arguments"] == {"path": "words.txt"}
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "eval_agent_word_count" in imported
    assert not {name for name in imported if name.split(".")[0] in ("openai", "langchain_core", "langchain_openai")}


def test_plugin_model_provider_export_format_and_narrowed_tools(plugin_site, eval_home, tmp_path, sandbox_image):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    env = env_with(eval_home, plugin_site, EVAL_AGENT_TOOLS="word_count")
    result = run_cli(["run", "--workspace", str(workspace), "--model", "canned:hello", "say hello"], env)
    assert result.returncode == 0, result.stderr
    assert "canned hello" in result.stdout
    [events] = trajectory_events(eval_home)
    started = next(e for e in events if e["type"] == "run_started")
    assert [tool["function"]["name"] for tool in started["tools"]] == ["word_count", "finish"]
    assert started["model"]["provider"] == "canned"

    out = tmp_path / "requests.jsonl"
    exported = run_cli(["export", "--format", "requests", "--out", str(out)], env)
    assert exported.returncode == 0, exported.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == [{"request": "say hello"}]
    # the built-ins keep their order in the error; an installed format is offered after them
    wrong = run_cli(["export", "--format", "csv", "--out", str(tmp_path / "x")], env)
    assert wrong.returncode == 2 and "use one of openai, trl, sharegpt, alpaca, requests" in wrong.stderr

    unknown = run_cli(["run", "--workspace", str(workspace), "--model", "canned:x", "hi"],
                      env_with(eval_home, plugin_site, EVAL_AGENT_TOOLS="bash,wc"))
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [(
        "eval-agent: EVAL_AGENT_TOOLS names wc, not installed: the tools are bash, read_file, write_file, "
        "edit_file, word_count, finish")]


def test_a_broken_plugin_is_one_line_naming_it(eval_home, tmp_path, sandbox_image):
    site = install(make_package(tmp_path / "broken", "eval-agent-broken", {
        "eval_agent.tools": {"shout": "no_such_module_anywhere:ShoutTool"},
        "eval_agent.models": {"decoder": "json:JSONDecoder"},  # imports, but is no model factory
    }), tmp_path / "site")
    script = tmp_path / "script.json"
    script.write_text("[]")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    run = run_cli(["run", "--workspace", str(workspace), "--model", f"scripted:{script}", "hi"], env_with(eval_home, site))
    assert run.returncode == 3 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [(
        "eval-agent: tool plugin 'shout' (from eval-agent-broken 0.2) does not load "
        "(no_such_module_anywhere:ShoutTool): ModuleNotFoundError: No module named 'no_such_module_anywhere'")]

    wrong = run_cli(["run", "--workspace", str(workspace), "--model", "decoder:x", "hi"], env_with(eval_home, site))
    assert wrong.returncode == 3 and "Traceback" not in wrong.stderr
    [line] = wrong.stderr.strip().splitlines()
    assert line.startswith("eval-agent: model provider plugin 'decoder' (from eval-agent-broken 0.2) failed (json:JSONDecoder): TypeError")

    checked = run_cli(["plugins", "--check"], env_with(eval_home, site))
    assert checked.returncode == 1
    shout = listed(checked.stdout)["eval_agent.tools"]["shout"]
    assert "FAILED: tool plugin 'shout' (from eval-agent-broken 0.2) does not load" in shout


def test_a_plugin_cannot_replace_a_built_in(eval_home, tmp_path):
    site = install(make_package(tmp_path / "shadow", "eval-agent-shadow", {
        "eval_agent.tools": {"bash": "json:JSONDecoder"}, "eval_agent.models": {"scripted": "json:loads"},
    }), tmp_path / "site")
    result = run_cli(["plugins", "--check"], env_with(eval_home, site))
    assert result.returncode == 0, result.stderr
    assert "warning: tool plugin 'bash' (from eval-agent-shadow 0.2) is ignored: the name is taken by the built-in" in result.stderr
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("bash ")]
    assert len(lines) == 2
    assert any("(built in)" in line and line.endswith("ok") for line in lines)
    assert any("eval-agent-shadow" in line and "ignored: the name is built in" in line for line in lines)


def test_a_plugin_task_source_recognises_its_own_folders(plugin_site, eval_home, tmp_path):
    for name in ("count-lines", "say-hello"):
        (tmp_path / "suite" / name).mkdir(parents=True)
        (tmp_path / "suite" / name / "prompt.txt").write_text(f"Do {name}.\n")
        (tmp_path / "suite" / name / "check.sh").write_text("true\n")
    counted = run_cli(["tasks", "ls", str(tmp_path / "suite")], env_with(eval_home, plugin_site))
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip().endswith("2 tasks") and "plain" in counted.stdout
    # without the package those folders are no tasks; the error names every layout it knows
    plain = run_cli(["tasks", "ls", str(tmp_path / "suite")], env_with(eval_home))
    assert plain.returncode == 2
    assert "holds no tasks (Harbor: task.toml + instruction.md; Terminal-Bench: task.yaml)" in plain.stderr
    (tmp_path / "empty").mkdir()
    empty = run_cli(["tasks", "ls", str(tmp_path / "empty")], env_with(eval_home, plugin_site))
    assert empty.returncode == 2
    assert "(Harbor: task.toml + instruction.md; Terminal-Bench: task.yaml; Plain: prompt.txt + check.sh)" in empty.stderr
