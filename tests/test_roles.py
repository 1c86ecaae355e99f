"""The seed's agent ideas, end to end through the CLI with the real openai client talking to the
scripted server, the real sandbox and real git: a reviewer that sends a premature finish back,
and tools the agent builds, kept in the workspace and used again by a later run."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import PLAN, bash, cli_env, finish, json_events, run_cli


def verdict(accept: bool, findings: str = "") -> dict:
    return {"content": json.dumps({"verdict": "accept" if accept else "revise", "findings": findings})}


def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"  # apart from EVAL_AGENT_HOME, which the tests keep in tmp_path too
    folder.mkdir()
    return folder


def test_a_review_sends_a_premature_finish_back_and_the_run_goes_on(tmp_path, eval_home, scripted_server, sandbox_image):
    ws = workspace(tmp_path)
    server = scripted_server([
        PLAN,
        bash("cat greeting.txt"),  # fails: the file is not there yet
        finish("All done: greeting.txt says hello."),  # the habit: finish right after a failure
        verdict(False, "greeting.txt does not exist: create it, then show it with cat."),
        {"tool": "write_file", "args": {"path": "greeting.txt", "content": "hello\n"}},
        bash("cat greeting.txt"),
        finish("Wrote greeting.txt; cat shows hello."),
        verdict(True),
    ])
    env = cli_env(eval_home, server)
    result = run_cli(["run", "write hello into greeting.txt", "--model", "openai:demo", "--review", "on", "--json",
                      "-w", str(ws)], env)
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    reviews = [event for event in events if event["type"] == "reviewed"]
    assert [review["accepted"] for review in reviews] == [False, True]
    assert (ws / "greeting.txt").read_text() == "hello\n"
    finished = events[-1]
    assert finished["status"] == "finished" and finished["summary"] == "Wrote greeting.txt; cat shows hello."
    # the first review saw the failed command and its exit code; the second saw the diff
    first, second = (review["messages"][1]["content"] for review in reviews)
    assert "bash: cat greeting.txt -> exit 1" in first and "No such file" in first
    assert "Note: the last action failed." in first
    assert "+hello" in second and "greeting.txt" in second
    # the working model got the findings as the answer to its finish call, and went on
    rejected = next(event for event in events if event["type"] == "tool_finished" and event["tool"] == "finish")
    assert not rejected["ok"] and "greeting.txt does not exist" in rejected["observation"]
    sent = server.requests[4]["messages"]  # the call after the first review
    assert any(message["role"] == "tool" and "a reviewer checked your work" in message["content"] for message in sent)
    # the review turns are not in the working model's conversation: it never saw the reviewer's prompt
    assert not any("You review a coding agent" in str(message.get("content")) for request in server.requests[4:7]
                   for message in request["messages"])

    # exports: the working model's dataset leaves review turns out; --role reviewer has one per turn
    agent_out, reviewer_out = tmp_path / "agent.jsonl", tmp_path / "reviewer.jsonl"
    assert run_cli(["export", "--format", "openai", "--out", str(agent_out)], env).returncode == 0
    conversation = json.loads(agent_out.read_text().splitlines()[0])["messages"]
    assert not any("verdict" in str(message.get("content")) for message in conversation)
    done = run_cli(["export", "--format", "openai", "--out", str(reviewer_out), "--role", "reviewer"], env)
    assert done.returncode == 0, done.stderr
    assert "exported 2 review turns" in done.stdout
    turns = [json.loads(line)["messages"] for line in reviewer_out.read_text().splitlines()]
    assert [turn[-1]["role"] for turn in turns] == ["assistant", "assistant"]
    assert json.loads(turns[0][-1]["content"])["verdict"] == "revise"
    assert turns[0][0]["role"] == "system" and "You review" in turns[0][0]["content"]


def test_reviews_are_bounded_then_finish_is_taken_at_its_word(tmp_path, eval_home, scripted_server, sandbox_image):
    ws = workspace(tmp_path)
    server = scripted_server([PLAN, finish("done?"), verdict(False, "nothing was done"), finish("done."),
                              verdict(False, "still nothing"), finish("done!")])
    result = run_cli(["run", "do it", "--model", "openai:demo", "--review", "on", "--max-reviews", "2", "--json",
                      "-w", str(ws)], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    assert [event["accepted"] for event in events if event["type"] == "reviewed"] == [False, False]
    assert events[-1]["status"] == "finished" and events[-1]["summary"] == "done!"
    assert len(server.requests) == 6, "no third review: --max-reviews 2"


def test_review_off_by_default_and_bad_value_is_one_line(tmp_path, eval_home, scripted_server, sandbox_image):
    ws = workspace(tmp_path)
    server = scripted_server([PLAN, finish("done")])
    result = run_cli(["run", "do it", "--model", "openai:demo", "--json", "-w", str(ws)], cli_env(eval_home, server))
    assert result.returncode == 0 and not [e for e in json_events(result.stdout) if e["type"] == "reviewed"]
    bad = run_cli(["run", "do it", "--model", "openai:demo", "--review", "maybe", "-w", str(ws)],
                  cli_env(eval_home, server))
    assert bad.returncode == 2 and "review" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


COUNT_SCRIPT = "#!/bin/bash\npath=$(jq -r .path)\nprintf 'lines=%s\\n' \"$(wc -l < \"$path\")\"\n"


def test_a_built_tool_is_kept_and_used_again_in_a_later_run(tmp_path, eval_home, scripted_server, sandbox_image):
    ws = workspace(tmp_path)
    (ws / "notes.txt").write_text("a\nb\nc\n")
    make = {"tool": "make_tool", "args": {
        "name": "count_lines", "description": "Count the lines of a file.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        "script": COUNT_SCRIPT}}
    first = scripted_server([PLAN, make, {"tool": "count_lines", "args": {"path": "notes.txt"}}, finish("built it")])
    result = run_cli(["run", "count the lines of notes.txt", "--model", "openai:demo", "--make-tools", "--json",
                      "-w", str(ws)], cli_env(eval_home, first))
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    used = [e for e in events if e["type"] == "tool_finished" and e["tool"] == "count_lines"]
    assert used and used[0]["ok"] and "lines=3" in used[0]["observation"]
    assert "kept in .eval-agent/tools/count_lines/" in used[0]["observation"]
    assert any(e["type"] == "tools_changed" and e["added"] == "count_lines" for e in events)
    offered_after = {tool["function"]["name"] for tool in first.requests[2]["tools"]}
    assert "count_lines" in offered_after and "make_tool" in offered_after
    kept = ws / ".eval-agent" / "tools" / "count_lines"
    assert json.loads((kept / "tool.json").read_text())["name"] == "count_lines"
    assert not (ws / ".eval-agent" / "tools" / ".pending" / "count_lines").exists()

    # a later run, without --make-tools: the kept tool is offered from the first call, and works
    (ws / "notes.txt").write_text("a\nb\nc\nd\ne\n")
    second = scripted_server([PLAN, {"tool": "count_lines", "args": {"path": "notes.txt"}}, finish("counted")])
    again = run_cli(["run", "count the lines again", "--model", "openai:demo", "--json", "-w", str(ws)],
                    cli_env(eval_home, second))
    assert again.returncode == 0, again.stderr
    later = json_events(again.stdout)
    offered = {tool["function"]["name"] for tool in later[0]["tools"]}
    assert "count_lines" in offered and "make_tool" not in offered
    assert "count_lines" in {tool["function"]["name"] for tool in second.requests[1]["tools"]}
    counted = next(e for e in later if e["type"] == "tool_finished" and e["tool"] == "count_lines")
    assert counted["ok"] and "lines=5" in counted["observation"]
    # the export carries the built tool's schema where it was offered
    out = tmp_path / "data.jsonl"
    assert run_cli(["export", "--format", "openai", "--out", str(out)], cli_env(eval_home)).returncode == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all("count_lines" in {tool["function"]["name"] for tool in row["tools"]} for row in rows)


def test_a_built_tool_that_fails_is_not_kept(tmp_path, eval_home, scripted_server, sandbox_image):
    ws = workspace(tmp_path)
    make = {"tool": "make_tool", "args": {"name": "broken", "description": "Always fails.",
                                          "parameters": {"type": "object", "properties": {}}, "script": "exit 4"}}
    bad_name = {"tool": "make_tool", "args": {"name": "bash", "description": "x", "parameters": {}, "script": "true"}}
    server = scripted_server([PLAN, make, {"tool": "broken", "args": {}}, bad_name, finish("gave up")])
    result = run_cli(["run", "try", "--model", "openai:demo", "--make-tools", "--json", "-w", str(ws)],
                     cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    finished = [e for e in json_events(result.stdout) if e["type"] == "tool_finished"]
    assert "[exit code: 4]" in finished[1]["observation"]
    assert "built-in tool's name" in finished[2]["observation"] and not finished[2]["ok"]
    assert not (ws / ".eval-agent" / "tools" / "broken").exists()


def test_workspace_tools_are_read_and_run_inside_the_sandbox_only(tmp_path, eval_home, scripted_server, sandbox_image):
    """Escape test: the tools folder is written by the container. A tool runs in the container
    (it cannot touch a host path), a tool.json that is a symlink is skipped, and a hostile name
    or description reaches the terminal escaped."""
    canary = tmp_path / "host-canary"
    tools = tmp_path / "ws" / ".eval-agent" / "tools"
    (tools / "probe").mkdir(parents=True)
    (tools / "probe" / "tool.json").write_text(json.dumps({
        "name": "probe", "description": "Probe \x1b]52;c;cHduZWQ=\x07 the host.", "parameters": {}}))
    (tools / "probe" / "run").write_text(f"#!/bin/bash\ntouch {canary} 2>&1; cat /proc/1/cgroup >/dev/null; "
                                         "test -f /.dockerenv && echo in-container\n")
    (tools / "probe" / "run").chmod(0o755)
    (tools / "linked").mkdir()
    (tools / "linked" / "tool.json").symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_text(json.dumps({"name": "linked", "description": "x", "parameters": {}}))
    (tools / "linked" / "run").write_text("#!/bin/bash\necho linked\n")
    (tools / "linked" / "run").chmod(0o755)
    (tools / "Bad\x1b[31mName").mkdir()
    (tools / "Bad\x1b[31mName" / "tool.json").write_text(json.dumps({"name": "Bad", "description": "x"}))
    (tools / "Bad\x1b[31mName" / "run").write_text("#!/bin/bash\n")
    (tools / "Bad\x1b[31mName" / "run").chmod(0o755)
    server = scripted_server([PLAN, {"tool": "probe", "args": {}}, finish("probed")])
    result = run_cli(["run", "probe", "--model", "openai:demo", "-w", str(tmp_path / "ws")], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    assert not canary.exists(), "a workspace tool ran on the host"
    assert "in-container" in result.stdout
    offered = {tool["function"]["name"] for tool in server.requests[1]["tools"]}
    assert "probe" in offered and "linked" not in offered
    assert "tool skipped" in result.stdout and "\x1b[31m" not in result.stdout and "\x1b]52" not in result.stdout
