"""Escapes through the terminal: command output, file names, diffs and summaries that carry escape
sequences (OSC 52 writes the clipboard, OSC 0 the window title, CSI 2J clears the screen) are
shown visibly (`^[`) by `eval-agent run`, `traj show`, the REPL and the bench's view, never
obeyed; our own colours still reach a terminal; the record keeps the bytes as they were."""

from __future__ import annotations

import io
import json
import re
import sys

import pexpect

from conftest import PLAN, bash, cli_env, finish, run_cli, script_file
from repl_pty import ReplUnderPty
from eval_agent.bench.progress import Progress
from eval_agent.bench.report import AttemptResult
from eval_agent.ui.terminal import console, json_line, printable

CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"
TITLE = "\x1b]0;PWNED TITLE\x07"
CLEAR = "\x1b[2J"
HOSTILE = CLIPBOARD + TITLE + CLEAR + "\x9b31m" + "\u202e"
# every escape sequence a terminal would obey; SGR (colours) is ours, anything else must not appear
ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)|[\x80-\x9f]")
SGR = re.compile(r"\x1b\[[0-9;]*m")


def obeyed(output: str) -> list[str]:
    """The escape sequences in `output` that are not plain colours."""
    return [match.group() for match in ESCAPE.finditer(output) if not SGR.fullmatch(match.group())]


HOSTILE_ACTIONS = [
    {"tool": "bash", "args": {"command": "printf '\\033]52;c;cHduZWQ=\\007\\033]0;PWNED TITLE\\007\\033[2J"
                                         "visible-after\\n'; touch \"$(printf 'name\\033]0;x\\007.txt')\"; ls"}},
    {"tool": "write_file", "args": {"path": "notes.txt", "content": f"text {HOSTILE} more\n"}},
    {"tool": "finish", "args": {"summary": f"done {TITLE} ok {CLEAR}"}},
]


def run_in_pty(args: list[str], env: dict, cwd, timeout: float = 180) -> str:
    child = pexpect.spawn(sys.executable, ["-m", "eval_agent", *args], env={**env, "TERM": "xterm-256color"},
                          cwd=str(cwd), dimensions=(50, 150), encoding="utf-8", codec_errors="replace")
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    return child.before


def test_run_and_traj_show_draw_escapes_visibly_on_a_terminal_and_in_a_pipe(tmp_path, eval_home, sandbox_image):
    env = cli_env(eval_home)
    script = script_file(tmp_path, HOSTILE_ACTIONS[:2])
    summary_script = tmp_path / "with-summary.json"
    summary_script.write_text(json.dumps(json.loads(script.read_text())[:-1] + [HOSTILE_ACTIONS[2]]))
    workspace = tmp_path / "ws"
    workspace.mkdir()

    screen = run_in_pty(["run", "x", "-w", str(workspace), "--model", f"scripted:{summary_script}"], env, tmp_path)
    assert "visible-after" in screen and "^[]52;c;cHduZWQ=" in screen and "^[]0;PWNED TITLE" in screen
    assert "^[[2J" in screen and "done ^[]0;PWNED TITLE" in screen.replace("\r\n", "\n")
    assert obeyed(screen) == [], "no escape sequence but colours reached the terminal"
    assert SGR.search(screen), "our own colours still work on a terminal"

    piped = run_cli(["run", "x", "-w", str(workspace), "--model", f"scripted:{summary_script}"], env)
    assert piped.returncode == 0, piped.stderr
    assert "\x1b" not in piped.stdout + piped.stderr and "^[]52;c;" in piped.stdout

    record = sorted((eval_home / "trajectories").glob("*.jsonl"))[-1]
    outputs = [json.loads(line).get("full_output") or "" for line in record.read_text(encoding="utf-8").splitlines()]
    assert any(CLIPBOARD + TITLE + CLEAR in output for output in outputs), "the record keeps the bytes as they were"

    shown = run_in_pty(["traj", "show", "last", "--full"], env, tmp_path)
    assert "^[]52;c;cHduZWQ=" in shown and obeyed(shown) == []
    listed = run_cli(["traj", "ls", "--json"], env)
    assert all(not obeyed(line) for line in listed.stdout.splitlines())


def test_the_repl_shows_a_hostile_diff_and_file_names_visibly(tmp_path, eval_home, scripted_server, sandbox_image, repls):
    server = scripted_server([PLAN, bash("printf 'a\\033]52;c;Y2xpcA==\\007b\\n' > \"$(printf 'evil\\033[2J.txt')\""),
                              finish(f"made it {TITLE}")])
    workspace = tmp_path / "todo"
    workspace.mkdir()
    repl = ReplUnderPty(["--model", "openai:demo"], cli_env(eval_home, server), workspace)
    repls.append(repl)
    repl.expect(r"todo ›")
    repl.send_line("make a file")
    repl.expect(r"made it \^\[\]0;PWNED TITLE")
    repl.expect(r"todo ›")
    repl.send_line("/diff")
    repl.expect(r"evil\\033\[2J\.txt")  # git quotes such a name itself
    repl.expect(r"a\^\[\]52;c;Y2xpcA==")
    repl.send_line("/undo")
    repl.expect(r"files back as they were: evil\^\[\[2J\.txt")
    repl.expect(r"todo ›")
    repl.child.sendeof()
    assert repl.wait_exit() == 0
    # the REPL moves the cursor and erases lines itself (prompt-toolkit, the live region); none of
    # the hostile sequences is among what reached the terminal
    assert "\x1b]52" not in repl.raw and "\x1b]0;PWNED" not in repl.raw and "\x1b[2J" not in repl.raw
    assert "\x9b" not in repl.raw


def test_the_bench_view_draws_escapes_from_attempts_visibly():
    stream = io.StringIO()
    view = Progress(1, 1, console=console(file=stream, force_terminal=True, width=120), live=True)
    with view:
        view.attempt_started(f"task{TITLE}", 1, 60)
        view.message(f"building the environment: {CLIPBOARD}{CLEAR}")
        view.attempt_done(AttemptResult(task=f"task{TITLE}", attempt=1, passed=False, reward=0.0, steps=1, tokens=0,
                                        input_tokens=0, output_tokens=0, cost=0.0, seconds=1.0, run_id=None,
                                        error=f"copy-error {CLEAR}", category="x", agent="oracle", model=""))
    shown = stream.getvalue()
    assert "^[]52;c;cHduZWQ=" in shown and "task^[]0;PWNED TITLE" in shown and "^[[2J" in shown
    assert "\x1b]" not in shown and "\x1b[2J" not in shown


def test_printable_keeps_text_and_draws_every_control_visibly():
    assert printable("plain ünïcode\ttab\nline") == "plain ünïcode\ttab\nline"
    assert printable(HOSTILE) == "^[]52;c;cHduZWQ=^G^[]0;PWNED TITLE^G^[[2J<U+009B>31m<U+202E>"
    assert printable("crlf\r\nline\rover") == "crlf\nline^Mover"
    assert json.loads(json_line({"x": HOSTILE})) == {"x": HOSTILE}, "--json keeps the data, escaped"
    assert "\x9b" not in json_line({"x": HOSTILE}) and "\x1b" not in json_line({"x": HOSTILE})
