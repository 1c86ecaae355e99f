"""The REPL end to end: the real `eval-agent` process under a pseudo-terminal (pexpect), the real
openai client talking to the scripted OpenAI-compatible server, the real sandbox container, real
git. Keys are sent as a person types them; assertions read the screen text and the records."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pexpect
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from conftest import PLAN, TODO_SCRIPT, bash, cli_env, eval_agent_containers, finish
from eval_agent.ui.repl import ReplCompleter
from repl_pty import ReplUnderPty

DELETE_ENDPOINT = '@app.delete("/todos/<int:todo_id>")\ndef delete_todo(todo_id):\n    todos[:] = [t for t in todos if t["id"] != todo_id]\n    return "", 204\n\n\n'


def records(home: Path) -> list[list[dict]]:
    """Every run's record, oldest first (by the time its run started)."""
    runs = [[json.loads(line) for line in path.read_text().splitlines()]
            for path in (home / "trajectories").glob("*.jsonl")]
    return sorted(runs, key=lambda events: events[1]["time"])


def start_repl(repls: list, tmp_path: Path, eval_home: Path, server, *extra: str) -> tuple[ReplUnderPty, Path]:
    workspace = tmp_path / "todo"
    workspace.mkdir(exist_ok=True)
    repl = ReplUnderPty(["--model", "openai:demo", *extra], cli_env(eval_home, server), workspace)
    repls.append(repl)
    repl.expect(r"approve: \w+")
    repl.prompt()
    return repl, workspace


def test_build_follow_up_diff_undo_exit(tmp_path, eval_home, scripted_server, sandbox_image, repls):
    follow_up = [
        {"content": "- [ ] Add DELETE /todos/<id>"},
        {"tool": "edit_file", "args": {"path": "app.py", "old": "if __name__", "new": DELETE_ENDPOINT + "if __name__"}},
        finish("Added DELETE /todos/<id>."),
    ]
    server = scripted_server(TODO_SCRIPT + follow_up)
    repl, workspace = start_repl(repls, tmp_path, eval_home, server)

    repl.send_line("build a simple web todo service with GET and POST /todos")
    repl.expect(r"step 1 bash")
    repl.expect(r"\[x\] Finish with the URL")  # the plan, ticked as the model reported it done
    repl.expect(r"Built a Flask todo service")
    url = repl.expect(r"service running: (http://127\.0\.0\.1:\d+)").group(1)
    repl.prompt()
    import urllib.request
    with urllib.request.urlopen(url + "/todos", timeout=10) as response:  # the user opens it
        assert json.loads(response.read()) == [{"done": False, "id": 1, "title": "try eval-agent"}]

    repl.send_line("now add a DELETE /todos/<id> endpoint")
    repl.expect(r"step 1 edit_file app\.py")
    repl.expect(r"Added DELETE /todos/<id>\.")
    repl.prompt()
    follow_up_plan_call = server.requests[len(TODO_SCRIPT)]["messages"]
    said = [m["content"] for m in follow_up_plan_call if m["role"] == "user"]
    assert "build a simple web todo service" in said[0] and "DELETE" in said[-1], "the follow-up continues the conversation"
    assert any(m.get("tool_calls") for m in follow_up_plan_call), "the model sees its earlier actions"

    repl.send_line("/diff")
    repl.expect(r'\+@app\.delete\("/todos/<int:todo_id>"\)')
    assert "@app.delete" in (workspace / "app.py").read_text()

    repl.send_line("/undo")
    repl.expect(r"undone 1 step of the last request:\n  [0-9a-f]{8} eval-agent step 1: edit_file app\.py")
    repl.expect(r"files back as they were: app\.py")
    assert "@app.delete" not in (workspace / "app.py").read_text()
    assert "@app.get" in (workspace / "app.py").read_text(), "only the last request is undone"

    repl.send_line("/dif")
    repl.expect(r"unknown command /dif; did you mean /diff")
    repl.child.send("/co")  # the completion menu offers /cost; Tab takes it
    time.sleep(0.3)
    repl.child.send("\t")
    time.sleep(0.3)
    repl.child.send("\r")
    repl.expect(r"2 requests · 6 steps · \d+ in / \d+ out tokens")
    repl.send_line("/trajectory")
    runs = records(eval_home)
    assert len(runs) == 2
    for run in runs:
        repl.expect(re.escape(run[1]["run_id"]) + r"\.jsonl · [\d.]+ KB · \d+ events")

    session_id = runs[0][0]["session_id"]
    assert len(eval_agent_containers(session_id, role="sandbox")) == 1, "one sandbox for the whole session"
    assert len(eval_agent_containers(session_id, role="git")) == 1, "and one git box beside it"
    repl.send_line("/exit")
    assert repl.wait_exit() == 0
    assert not eval_agent_containers(session_id), "the container is removed on /exit"
    assert [run[-1]["type"] for run in runs] == ["run_finished", "run_finished"]
    history = (eval_home / "repl_history").read_text()
    assert "now add a DELETE /todos/<id> endpoint" in history and "/diff" in history


def test_confirm_mode_reject_edit_approve_a_half_done_merge_and_a_failing_request(tmp_path, eval_home, scripted_server, sandbox_image, repls):
    server = scripted_server([
        PLAN,
        bash("rm -rf notes"),
        bash("echo original"),
        bash("echo third-step"),
        finish("Did what you let me."),
        PLAN,  # a request whose step leaves git half-way through a merge: that step is not committed
        bash("echo x > stray.txt && touch .git/MERGE_HEAD"),
        finish("left git mid-merge"),
        PLAN,  # once the user sorted git out: the endpoint fails in the middle of a request
        {"status": 400},
        PLAN,  # after /clear: a new conversation
        finish("fresh"),
        finish("resumed"),  # after /resume of the first run
    ])
    repl, workspace = start_repl(repls, tmp_path, eval_home, server)
    (workspace / "notes").mkdir()
    (workspace / "notes" / "keep.txt").write_text("mine")
    repl.send_line("/approve confirm")
    repl.expect(r"approval: confirm")
    repl.prompt()

    repl.send_line("tidy up")
    repl.expect(r"rm -rf notes")
    repl.expect(r"approve\? ›")
    repl.send_line("no, keep my notes folder")
    repl.expect(r"rejected; the model reads your comment")
    repl.expect(r"echo original")
    repl.expect(r"approve\? ›")
    repl.child.send("\x05")  # Ctrl-E: edit the command
    repl.expect(r"edit ›")
    repl.child.send(" edited-by-user")
    time.sleep(0.2)
    repl.child.send("\x1b\r")  # Esc Enter runs it
    repl.expect(r"(?<!echo )original edited-by-user")
    repl.expect(r"echo third-step")
    repl.expect(r"approve\? ›")
    repl.child.send("\r")
    repl.expect(r"(?<!echo )third-step")
    repl.expect(r"Did what you let me\.")
    repl.prompt()
    assert (workspace / "notes" / "keep.txt").read_text() == "mine"
    after_rejection = json.dumps(server.requests[2]["messages"])
    assert "no, keep my notes folder" in after_rejection, "the rejection reaches the model with the comment"
    decisions = [(e["decision"], e["comment"], e["edited_arguments"]) for e in records(eval_home)[0]
                 if e["type"] == "user_decision"]
    assert decisions == [("rejected", "no, keep my notes folder", None),
                         ("edited", "", {"command": "echo original edited-by-user"}), ("approved", "", None)]

    repl.send_line("/approve auto")
    repl.expect(r"approval: auto")
    repl.send_line("make a stray file")
    repl.expect(r"step 1 is not committed: the repository at[\s\S]*?middle of a merge")
    repl.expect(r"left git mid-merge")  # the run itself goes on to its end
    repl.prompt()
    repl.send_line("and now?")
    repl.expect(r"the request did not start: the repository at[\s\S]*?middle of a merge")
    assert len(records(eval_home)) == 2, "a request that did not start leaves no record"

    (workspace / ".git" / "MERGE_HEAD").unlink()  # the user sorts git out; the session goes on
    repl.send_line("try again")
    repl.expect(r"scripted error 400")
    repl.prompt()
    assert records(eval_home)[2][-1]["status"] == "error", "the failed run's record still ends with its outcome"
    repl.send_line("/clear")
    repl.expect(r"new conversation")
    repl.send_line("start over")
    repl.expect(r"fresh")
    repl.prompt()
    assert [m["role"] for m in server.requests[-2]["messages"]] == ["system", "user"], "/clear starts a new conversation"
    assert "tidy up" not in json.dumps(server.requests[-1]["messages"])
    repl.send_line("/resume " + records(eval_home)[0][1]["run_id"])
    repl.expect(r"resumed \S+: \d+ messages")
    repl.send_line("go on where we were")
    repl.expect(r"resumed")
    repl.prompt()
    assert "no, keep my notes folder" in json.dumps(server.requests[-1]["messages"]), "/resume continues a recorded run"
    repl.child.sendeof()  # Ctrl-D on an empty line
    assert repl.wait_exit() == 0
    assert "Traceback" not in repl.text
    assert not eval_agent_containers(records(eval_home)[0][0]["session_id"])


def test_ctrl_c_once_keeps_the_session_twice_exits(tmp_path, eval_home, scripted_server, sandbox_image, repls):
    server = scripted_server([
        dict(PLAN, delay=8),  # a slow model call, interrupted
        PLAN, bash("sleep 60"),  # a long command, interrupted
        PLAN, bash("echo alive-$((20 + 22)); cat note.txt"), finish("still here"),
        PLAN, bash("sleep 60"),  # interrupted twice: the REPL exits
    ])
    repl, workspace = start_repl(repls, tmp_path, eval_home, server)
    (workspace / "note.txt").write_text("written before\n")

    repl.send_line("think slowly")
    time.sleep(2)
    repl.child.sendintr()
    repl.expect(r"interrupted")
    repl.prompt()
    time.sleep(2.5)  # not a double press

    repl.send_line("sleep a while")
    repl.expect(r"sleep 60")
    time.sleep(1.5)
    repl.child.sendintr()
    repl.expect(r"interrupted")
    repl.prompt()
    session_id = records(eval_home)[0][0]["session_id"]
    assert len(eval_agent_containers(session_id, role="sandbox")) == 1, "one Ctrl-C keeps the sandbox"
    time.sleep(2.5)

    repl.child.send("check you are alive")  # two lines: Esc Enter adds the second
    repl.child.send("\x1b\r")
    repl.send_line("and read note.txt")
    repl.expect(r"alive-42")
    repl.expect(r"written before")
    repl.expect(r"still here")
    repl.prompt()
    assert "check you are alive\nand read note.txt" in json.dumps(server.requests[-1]["messages"]).replace("\\n", "\n")

    repl.send_line("sleep again")
    repl.expect(r"sleep 60")
    time.sleep(1.5)
    repl.child.sendintr()
    time.sleep(0.3)
    repl.child.sendintr()
    assert repl.wait_exit() == 130
    assert not eval_agent_containers(session_id), "a double Ctrl-C removes the container"
    runs = records(eval_home)
    assert [run[-1].get("status") for run in runs] == ["interrupted", "interrupted", "finished", "interrupted"]


def test_closing_the_terminal_removes_the_container(tmp_path, eval_home, scripted_server, sandbox_image, repls):
    server = scripted_server([PLAN, bash("sleep 60")])
    repl, workspace = start_repl(repls, tmp_path, eval_home, server)
    repl.send_line("sleep a while")
    repl.expect(r"sleep 60")
    session_id = records(eval_home)[0][0]["session_id"]
    assert len(eval_agent_containers(session_id, role="sandbox")) == 1
    repl.child.kill(signal.SIGHUP)  # what closing the terminal window sends
    repl.child.expect(pexpect.EOF, timeout=60)
    repl.child.close()
    assert repl.child.exitstatus == 129
    assert not eval_agent_containers(session_id), "a hang-up removes the container like /exit"


def test_completion_offers_commands_and_workspace_files(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("")
    (tmp_path / "app.py").write_text("")
    (tmp_path / ".git").mkdir()
    completer = ReplCompleter(tmp_path)

    def complete(text: str, tab: bool = True) -> list[str]:
        event = CompleteEvent(completion_requested=tab)
        return [c.text for c in completer.get_completions(Document(text), event)]

    assert complete("/un") == ["/undo"]
    assert complete("/d", tab=False) == ["/diff"]
    assert complete("fix the bug in sr") == ["src/"]
    assert complete("look at src/m", tab=False) == ["src/main.py"]
    assert complete("open a") == ["app.py"]
    assert complete("open .") == [], ".git is never offered"
    assert complete("open ../", tab=True) == [], "nothing outside the workspace"


def test_tools_lists_kept_tools_and_review_switches_on(tmp_path, eval_home, scripted_server, sandbox_image, repls):
    kept = tmp_path / "todo" / ".eval-agent" / "tools" / "word_count"
    kept.mkdir(parents=True)
    (kept / "tool.json").write_text(json.dumps({"name": "word_count", "description": "Count the words of a file.",
                                                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}))
    (kept / "run").write_text("#!/bin/bash\njq -r .path | xargs wc -w\n")
    (kept / "run").chmod(0o755)
    server = scripted_server([PLAN, finish("done?"), {"content": '{"verdict": "revise", "findings": "prove it"}'},
                              finish("done."), {"content": '{"verdict": "accept", "findings": ""}'}])
    repl, workspace = start_repl(repls, tmp_path, eval_home, server)
    repl.send_line("/tools")
    repl.expect(r"bash\s+built-in")
    repl.expect(r"word_count\s+\.eval-agent/tools/word_count\s+Count the words of a file")
    repl.prompt()
    repl.send_line("/review on")
    repl.expect(r"review on \(up to 2 per request")
    repl.prompt()
    repl.send_line("do it")
    repl.expect(r"review: not done yet")
    repl.expect(r"prove it")
    repl.expect(r"done\.")
    repl.prompt()
    reviewed = [event for event in records(eval_home)[-1] if event.get("type") == "reviewed"]
    assert [event["accepted"] for event in reviewed] == [False, True]
