"""The model's tools against a real Docker sandbox, and the same cases on the local sandbox:
what the model reads back after each action, what lands on disk, and what is refused."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from eval_agent.models.base import ToolCall
from eval_agent.sandbox.docker_sandbox import DockerSandbox, DockerSandboxConfig
from eval_agent.sandbox.local_sandbox import LocalSandbox
from eval_agent.tools.base import Observation
from eval_agent.tools.bash import clamp_timeout
from eval_agent.tools.registry import default_tools, find_tool, run_tool, tool_schemas

WORKSPACE_OWNER = (1000, 1000)  # as root, the Docker workspace is given to this uid: a real owner check
_counter = itertools.count()


@pytest.fixture(scope="module", params=["docker", "local"])
def sandbox(request, tmp_path_factory, sandbox_image):
    """One sandbox per kind for the module, on a fresh workspace; `.owner` is who owns it."""
    workspace = tmp_path_factory.mktemp(request.param) / "ws"
    workspace.mkdir()
    owner = (os.getuid(), os.getgid())
    if request.param == "docker":
        owner = WORKSPACE_OWNER if os.getuid() == 0 else owner
        os.chown(workspace, *owner)
        box = DockerSandbox(DockerSandboxConfig(image=sandbox_image, workspace=workspace, network="none", ports=()))
    else:
        box = LocalSandbox(workspace)
    box.host_workspace, box.owner = workspace, owner
    box.start()
    yield box  # pytest runs the rest at teardown, whatever the tests did
    box.close()


@dataclass
class Area:
    """A fresh folder in the workspace for one test; `rel` is its path relative to it. Files
    made on the host are given to the workspace owner, as if the sandbox's user had made them."""

    sandbox: DockerSandbox | LocalSandbox
    rel: str

    @property
    def host(self) -> Path:
        return self.sandbox.host_workspace / self.rel

    def put(self, name: str, data: bytes | str) -> Path:
        self.mkdir(str(Path(name).parent), exist_ok=True)
        (self.host / name).write_bytes(data.encode() if isinstance(data, str) else data)
        return self._own(name)

    def mkdir(self, name: str, exist_ok: bool = False) -> Path:
        (self.host / name).mkdir(parents=True, exist_ok=exist_ok)
        return self._own(name)

    def _own(self, name: str) -> Path:
        for part in [Path(name), *Path(name).parents]:
            os.chown(self.host / part, *self.sandbox.owner)
        return self.host / name

    def call(self, tool: str, **arguments) -> Observation:
        return run_tool(default_tools(), ToolCall(tool, arguments), self.sandbox)


@pytest.fixture
def area(sandbox) -> Area:
    made = Area(sandbox, f"t{next(_counter)}")
    made.mkdir(".")
    return made


# -- edit_file ------------------------------------------------------------------------
CODE = "".join(f"line {n}: value_{n} = {n * 10}\n" for n in range(1, 21))


def test_edit_replaces_a_unique_match_and_shows_the_region(area):
    path = area.put("code.py", CODE)
    obs = area.call("edit_file", path=f"{area.rel}/code.py", old="value_7 = 70\n", new="value_7 = 77\nextra = 1\n")
    assert obs.ok, obs.output
    assert path.read_text() == CODE.replace("value_7 = 70\n", "value_7 = 77\nextra = 1\n")
    assert "     7\tline 7: value_7 = 77" in obs.output and "     8\textra = 1" in obs.output
    assert "     4\tline 4" in obs.output and "    11\tline 10" in obs.output  # context around it
    assert os.stat(path).st_uid == area.sandbox.owner[0]


def test_edit_keeps_bytes_exact(area):
    raw = area.put("raw.txt", b"caf\xe9 ok\nlast line")  # not UTF-8, no final newline
    assert area.call("edit_file", path=f"{area.rel}/raw.txt", old="last line", new="final line").ok
    assert raw.read_bytes() == b"caf\xe9 ok\nfinal line"
    dos = area.put("dos.txt", b"one\r\ntwo\r\nthree\r\n")  # read_file cannot show the \r
    assert area.call("edit_file", path=f"{area.rel}/dos.txt", old="one\ntwo\n", new="1\n2\n").ok
    assert dos.read_bytes() == b"1\r\n2\r\nthree\r\n"


def test_edit_miss_names_the_closest_line(area):
    path = area.put("code.py", CODE)
    obs = area.call("edit_file", path=f"{area.rel}/code.py", old="line 12: valeu_12 = 120", new="x")
    assert not obs.ok and "Did you mean lines 12-12" in obs.output
    assert "    12\tline 12: value_12 = 120" in obs.output and path.read_text() == CODE
    area.put("f.py", "def f():\n    if x:\n        return 1\n")
    obs = area.call("edit_file", path=f"{area.rel}/f.py", old="if x:\n    return 1\n", new="pass\n")
    assert not obs.ok and "Did you mean lines 2-3" in obs.output and "only in whitespace" in obs.output


def test_edit_refusals_change_nothing(area):
    text = "a\nx = 1\nb\nc\nx = 1\nd\ne\nf\nx = 1\n"
    path = area.put("many.py", text)
    several = area.call("edit_file", path=f"{area.rel}/many.py", old="x = 1", new="x = 2")
    assert not several.ok and "3 times" in several.output and "lines 2, 5, 9" in several.output
    assert "more surrounding" in several.output
    empty = area.call("edit_file", path=f"{area.rel}/many.py", old="", new="x")
    assert not empty.ok and "`old` is empty" in empty.output and path.read_text() == text
    missing = area.call("edit_file", path=f"{area.rel}/nope.txt", old="a", new="b")
    assert not missing.ok and "no such file" in missing.output and "write_file" in missing.output
    assert not (area.host / "nope.txt").exists()


# -- read_file ------------------------------------------------------------------------
def test_read_numbers_lines_and_reads_ranges(area):
    area.put("long.txt", "".join(f"row {n}\n" for n in range(1, 1001)))
    whole = area.call("read_file", path=f"{area.rel}/long.txt")
    assert whole.ok and whole.output.startswith("     1\trow 1\n     2\trow 2\n")
    assert "   400\trow 400" in whole.output and "row 401" not in whole.output
    assert "[lines 1-400 of 1000" in whole.output and "start_line=401" in whole.output
    part = area.call("read_file", path=f"{area.rel}/long.txt", start_line=10, end_line=12)
    assert part.output.split("\n")[:3] == ["    10\trow 10", "    11\trow 11", "    12\trow 12"]
    assert "[lines 10-12 of 1000; read on with start_line=13]" in part.output
    tail = area.call("read_file", path=f"{area.rel}/long.txt", start_line=999)
    assert tail.output == "   999\trow 999\n  1000\trow 1000\n[lines 999-1000 of 1000]"
    past = area.call("read_file", path=f"{area.rel}/long.txt", start_line=2000)
    assert not past.ok and "only 1000 lines" in past.output
    backwards = area.call("read_file", path=f"{area.rel}/long.txt", start_line=5, end_line=2)
    assert not backwards.ok and "before start_line" in backwards.output
    area.put("wide.txt", "short\n" + "x" * 5000 + "\n")
    wide = area.call("read_file", path=f"{area.rel}/wide.txt")
    assert wide.output.startswith("     1\tshort\n     2\txxx") and "[lines" not in wide.output
    assert "[... 3000 more characters on this line]" in wide.output


def test_read_reports_binary_and_foreign_files_directories_and_misses(area):
    area.put("blob.bin", bytes(range(256)) * 8)
    binary = area.call("read_file", path=f"{area.rel}/blob.bin")
    assert "binary file (2048 bytes)" in binary.output and "\x00" not in binary.output
    area.put("dir/inner.txt", "x")
    listing = area.call("read_file", path=f"{area.rel}/dir")
    assert not listing.ok and "is a directory" in listing.output and "inner.txt" in listing.output
    missing = area.call("read_file", path=f"{area.rel}/absent.txt")
    assert not missing.ok and "no such file" in missing.output
    area.put("latin.txt", b"na\xefve caf\xe9\n")  # and an absolute path inside the workspace
    latin = area.call("read_file", path=f"{area.sandbox.workdir}/{area.rel}/latin.txt")
    assert latin.ok and latin.output == "     1\tna\ufffdve caf\ufffd"


def test_big_files_are_left_to_bash_and_a_long_file_misses_fast(area):
    area.put("huge.log", b"x" * (3 * 1024 * 1024))
    for tool, extra in (("read_file", {}), ("edit_file", {"old": "x", "new": "y"})):
        obs = area.call(tool, path=f"{area.rel}/huge.log", **extra)
        assert not obs.ok and "over the 2097152 bytes" in obs.output and "sed -n" in obs.output
    area.put("long.py", "".join(f"    result_{n} = compute(alpha_{n % 97}, beta={n * 3})\n" for n in range(30000)))
    started = time.monotonic()
    obs = area.call("edit_file", path=f"{area.rel}/long.py", old="    result_21000 = compte(alpha_48", new="")
    assert "Did you mean lines 21001-21001" in obs.output and time.monotonic() - started < 10


# -- write_file -----------------------------------------------------------------------
def test_write_creates_parents_owned_by_the_workspace_owner(area):
    obs = area.call("write_file", path=f"{area.rel}/a/b/c.txt", content="one\ntwo\n")
    assert obs.ok and obs.output == f"Created {area.rel}/a/b/c.txt (8 bytes, 2 lines)."
    target = area.host / "a/b/c.txt"
    assert target.read_text() == "one\ntwo\n"
    for path in (target, area.host / "a", area.host / "a/b"):
        assert (path.stat().st_uid, path.stat().st_gid) == area.sandbox.owner
    again = area.call("write_file", path=f"{area.rel}/a/b/c.txt", content="é")
    assert again.output == f"Overwrote {area.rel}/a/b/c.txt (2 bytes, 1 line; it had 8 bytes)."
    assert target.read_bytes() == "é".encode()
    folder = area.call("write_file", path=f"{area.rel}/a", content="y")
    assert not folder.ok and "is a directory" in folder.output


# -- confinement ----------------------------------------------------------------------
@pytest.mark.parametrize("tool", ["read_file", "write_file", "edit_file"])
def test_paths_out_of_the_workspace_are_refused(area, tool):
    box = area.sandbox
    os.symlink("/etc", area.host / "etc_link")
    probe = f"eval-agent-probe-{area.rel}"
    escape = "../" * (len(Path(box.workdir).parts) + 1)  # far enough from any workdir
    passwd_digest = box.run("md5sum /etc/passwd").output
    cases = [f"../{probe}", f"{area.rel}/../../{probe}", f"{escape}tmp/{probe}", f"/etc/{probe}",
             f"{area.rel}/etc_link/{probe}"]
    # Harmless even if confinement broke: no write to an existing file outside (the local
    # sandbox runs as this user), and `old` is absent from /etc/passwd.
    arguments = {"read_file": {}, "write_file": {"content": "owned\n"},
                 "edit_file": {"old": "eval-agent-absent-text", "new": "x"}}[tool]
    if tool != "write_file":
        cases += ["/etc/passwd", f"{area.rel}/etc_link/passwd"]
    for path in cases:
        obs = area.call(tool, path=path, **arguments)
        assert not obs.ok and "outside the workspace" in obs.output and "root:" not in obs.output, (path, obs.output)
    linked = area.call(tool, path=f"{area.rel}/etc_link/{probe}", **arguments)
    assert "through a symbolic link to /etc/" in linked.output
    for leftover in (f"{Path(box.workdir).parent}/{probe}", f"/etc/{probe}", f"/tmp/{probe}"):
        assert box.run(f"test -e {leftover} && echo yes || echo no").output == "no\n"
    assert not (box.host_workspace.parent / probe).exists() and not Path(f"/etc/{probe}").exists()
    assert box.run("md5sum /etc/passwd").output == passwd_digest


def test_symlinks_that_stay_inside_are_followed_and_agree(area):
    area.mkdir("real")
    os.symlink("real", area.host / "link")
    assert area.call("write_file", path=f"{area.rel}/link/x.txt", content="here\n").ok
    assert (area.host / "real/x.txt").read_text() == "here\n"
    assert area.call("read_file", path=f"{area.rel}/link/x.txt").output == "     1\there"
    # `deep/../../x` is d1/x for the kernel but x for the sandbox's resolve_path, which normalises
    # `..` before following links: either way it must land inside, where read_file finds it.
    area.mkdir("d1/d2/d3")
    os.symlink("d1/d2/d3", area.host / "deep")
    name = f"{area.rel}-y.txt"
    assert area.call("write_file", path=f"{area.rel}/deep/../../{name}", content="why\n").ok
    landed = [p for p in (area.host / "d1" / name, area.sandbox.host_workspace / name) if p.exists()]
    assert len(landed) == 1 and landed[0].read_text() == "why\n"
    assert area.call("read_file", path=f"{area.rel}/deep/../../{name}").output == "     1\twhy"


# -- bash -----------------------------------------------------------------------------
def test_bash_reports_output_and_exit_codes(area):
    ok = area.call("bash", command="echo hello")
    assert ok.ok and ok.output == "hello" and ok.exit_code == 0 and ok.full_output == "hello\n"
    failed = area.call("bash", command="echo oops >&2; sh -c 'exit 3'")
    assert not failed.ok and failed.exit_code == 3 and failed.output == "oops\n[exit code: 3]"
    assert area.call("bash", command="true").output == "(no output)"
    assert area.call("bash", command=r"printf 'bad \xff\xfe bytes\n'").output == "bad \ufffd\ufffd bytes"


def test_bash_timeout_stops_the_command_and_keeps_the_shell(area):
    area.call("bash", command=f"cd {area.rel} && export KEPT=yes")
    obs = area.call("bash", command="echo started; sleep 30", timeout=1)
    assert obs.timed_out and not obs.ok and obs.duration < 10 and obs.output.startswith("started\n")
    assert "[timed out after 1 s; the command was stopped, the shell is still usable]" in obs.output
    assert area.call("bash", command="echo $KEPT; basename $PWD; cd -").output.startswith(f"yes\n{area.rel}\n")
    assert clamp_timeout(None) == 120 and clamp_timeout(5000) == 1800 and clamp_timeout(0) == 1


def test_bash_says_when_the_shell_was_restarted(area):
    obs = area.call("bash", command="exit 7")
    assert not obs.ok and "shell was restarted" in obs.output
    # The sandbox may not know the dead shell's status yet (exit_code None): then it says so.
    assert ("[exit code: 7]" in obs.output) if obs.exit_code is not None else ("exit code unknown" in obs.output)
    assert area.call("bash", command="echo back").output == "back"


def test_bash_cuts_long_output_for_the_model_but_keeps_it_whole(area):
    obs = area.call("bash", command="seq 1 200000")
    assert "characters cut from the middle of this output" in obs.output
    assert len(obs.output) < 10_500 and obs.output.startswith("1\n2\n") and obs.output.endswith("199999\n200000")
    assert "\n100000\n" in obs.full_output and obs.details["cut_chars"] > 0


# -- registry -------------------------------------------------------------------------
def test_schemas_describe_every_tool():
    schemas = tool_schemas(tools := default_tools())
    assert [s["function"]["name"] for s in schemas] == ["bash", "read_file", "write_file", "edit_file", "finish"]
    required = {s["function"]["name"]: s["function"]["parameters"]["required"] for s in schemas}
    assert required == {"bash": ["command"], "read_file": ["path"], "write_file": ["path", "content"],
                        "edit_file": ["path", "old", "new"], "finish": ["summary"]}
    assert all(len(s["function"]["description"]) > 80 for s in schemas)
    assert find_tool(tools, "edit_file").name == "edit_file" and find_tool(tools, "nope") is None


def test_run_tool_explains_bad_calls(area):
    unknown = area.call("run_shell", command="ls")
    assert not unknown.ok and "Unknown tool 'run_shell'" in unknown.output and "bash, read_file, write_file, edit_file, finish" in unknown.output
    missing = area.call("write_file", path=f"{area.rel}/x.txt")
    assert not missing.ok and "missing required argument 'content'" in missing.output
    assert "write_file(path: string, content: string)" in missing.output
    assert not (area.host / "x.txt").exists()
    wrong = area.call("read_file", path=f"{area.rel}/x.txt", start_line="5", lines=3)
    assert not wrong.ok and "'start_line' must be an integer, got a string '5'" in wrong.output and "unexpected argument 'lines'" in wrong.output
    not_a_dict = run_tool(default_tools(), ToolCall("bash", "ls"), area.sandbox)  # type: ignore[arg-type]
    assert not not_a_dict.ok and "must be a JSON object" in not_a_dict.output
    null_optional = area.call("bash", command="echo fine", timeout=None)
    assert null_optional.ok and null_optional.output == "fine"


@pytest.mark.parametrize("tool, arguments, problem", [
    ("bash", {"command": 5}, "'command' must be a string, got an integer 5"),
    ("bash", {"command": "touch ran.txt", "timeout": "10"}, "'timeout' must be a number, got a string '10'"),
    ("read_file", {"path": ["a.txt"]}, "'path' must be a string, got an array ['a.txt']"),
    ("write_file", {"path": "ran.txt", "content": 3}, "'content' must be a string, got an integer 3"),
    ("edit_file", {"path": "ran.txt", "old": "a", "new": False}, "'new' must be a string, got a boolean False"),
    ("finish", {"summary": {"done": True}}, "'summary' must be a string, got an object {'done': True}"),
])
def test_a_wrong_typed_argument_gets_the_registrys_one_answer_and_nothing_runs(area, tool, arguments, problem):
    arguments = {name: f"{area.rel}/{value}" if name == "path" and isinstance(value, str) else value
                 for name, value in arguments.items()}
    obs = area.call(tool, **arguments)
    usage = next(line for line in obs.output.splitlines() if line.startswith("Usage: "))
    assert obs.output == f"Invalid arguments for {tool}: {problem}.\n{usage}", "one message, from the registry only"
    assert not obs.ok and not obs.finished and obs.details == {"error": "invalid_arguments", "problems": [problem]}
    assert not (area.host / "ran.txt").exists()


def test_finish_ends_the_run_with_the_summary(area):
    obs = area.call("finish", summary="Built the todo service; run `make test`.")
    assert obs.finished and obs.ok and obs.output == "Built the todo service; run `make test`."
