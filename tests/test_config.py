"""Settings from flags, the environment (EVAL_AGENT_*) and the config file: values are read as
their type, and a bad one is one line naming the setting and where it can come from, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import cli_env
from eval_agent.config import load_settings
from eval_agent.errors import UsageError


def test_values_from_the_environment_and_the_file_are_read_as_their_types(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('max_steps = 7.0\nsandbox_env = ["A_NAME"]\nmake_tools = true\nnetwork = "none"\n'
                      'prompts = "my-prompts"\n')
    monkeypatch.setenv("EVAL_AGENT_CONFIG", str(config))
    monkeypatch.setenv("EVAL_AGENT_MAX_TOKENS", "24")
    monkeypatch.setenv("EVAL_AGENT_CPUS", "1.5")
    monkeypatch.setenv("EVAL_AGENT_REVIEW", "on")
    monkeypatch.setenv("EVAL_AGENT_SANDBOX_ENV", "ONE, TWO")
    monkeypatch.setenv("EVAL_AGENT_MAKE_TOOLS", "no")
    settings = load_settings({"max_cost": 2, "model": "scripted:x.json", "temperature": None})
    assert (settings.max_steps, settings.max_tokens, settings.cpus) == (7, 24, 1.5)
    assert type(settings.max_steps) is int and type(settings.max_cost) is float and settings.max_cost == 2.0
    assert settings.sandbox_env == ["ONE", "TWO"]  # the environment over the file
    assert settings.make_tools is False and settings.review == "on" and settings.network == "none"
    assert str(settings.prompts) == "my-prompts" and settings.model == "scripted:x.json"
    assert settings.temperature is None and settings.command_timeout == 120  # a flag left out: the default
    changed = settings.replace(model="openai:demo")
    assert changed.model == "openai:demo" and settings.model == "scripted:x.json"


@pytest.mark.parametrize("name, value, says", [
    ("MAX_STEPS", "many", "'many' is not a whole number"),
    ("MAX_TOKENS", "2.5", "'2.5' is not a whole number"),
    ("TOOL_MODE", "xml", "use native, text, json or auto, not 'xml'"),
    ("MAKE_TOOLS", "maybe", "use true or false"),
    ("MODEL_TIMEOUT", "0", "0 is too small: use more than 0"),
    ("COMMAND_TIMEOUT", "100000", "100000 is too large: use at most 1800"),
    ("MAX_REVIEWS", "-1", "-1 is too small: use at least 0"),
    ("CPUS", "lots", "'lots' is not a number"),
])
def test_a_bad_value_is_one_line_with_exit_code_2(tmp_path, eval_home, name, value, says):
    env = cli_env(eval_home, **{f"EVAL_AGENT_{name}": value})
    done = subprocess.run([sys.executable, "-m", "eval_agent", "run", "hello", "-w", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"bad setting {name.lower()}: {says}" in lines[0] and f"EVAL_AGENT_{name}" in lines[0], lines[0]


def test_a_setting_the_file_names_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('max_step = 3\n')
    monkeypatch.setenv("EVAL_AGENT_CONFIG", str(config))
    with pytest.raises(UsageError, match=r"bad setting max_step in .*config.toml: there is no such setting; "
                                         r"the settings are model, .*max_steps"):
        load_settings({})
    for value, says in [('"ten"', "'ten'"), ("inf", "inf"), ("nan", "nan"), ("2.5", "2.5")]:
        config.write_text(f"max_steps = {value}\n")
        with pytest.raises(UsageError, match=f"bad setting max_steps: {says} is not a whole number"):
            load_settings({})
