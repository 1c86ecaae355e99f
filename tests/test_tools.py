"""The model's tools against a real Docker sandbox, and the same cases on the local sandbox:
what the model reads back after each action, what lands on disk, and what is refused."""

from __future__ import annotations

import hashlib
import itertools
import os
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


@pytest.fixture(scope="module")
def sandbox_image() -> str:
    # The base image the sandbox image is built from; a conftest providing the real
    # eval-agent-sandbox tag replaces this fixture.
    return "eval-agent-base:bookworm"


@dataclass
class Env:
    kind: str
    sandbox: DockerSandbox | LocalSandbox
    workspace: Path
    owner: tuple[int, int]


@dataclass
class Area:
    """A fresh folder in the workspace for one test; `rel` is its path relative to it."""

    env: Env
    rel: str
    host: Path

    def put(self, name: str, data: bytes | str) -> Path:
        path = self.host / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        for part in [path, *path.relative_to(self.host).parents]:
            os.chown(self.host / part, *self.env.owner)
        return path

    def mkdir(self, name: str) -> Path:
        path = self.host / name
        path.mkdir(parents=True)
        for part in path.relative_to(self.host).parents:
            os.chown(self.host / part, *self.env.owner)
        os.chown(path, *self.env.owner)
        return path

    def call(self, tool: str, **arguments) -> Observation:
        return run_tool(default_tools(), ToolCall(tool, arguments), self.env.sandbox)


@pytest.fixture(scope="module", params=["docker", "local"])
def env(request, tmp_path_factory, sandbox_image):
    workspace = tmp_path_factory.mktemp(request.param) / "ws"
    workspace.mkdir()
    if request.param == "docker":
        owner = WORKSPACE_OWNER if os.getuid() == 0 else (os.getuid(), os.getgid())
        os.chown(workspace, *owner)
        sandbox = DockerSandbox(DockerSandboxConfig(image=sandbox_image, workspace=workspace,
                                                    network="none", ports=()))
    else:
        owner = (os.getuid(), os.getgid())
        sandbox = LocalSandbox(workspace)
    sandbox.start()
    try:
        yield Env(request.param, sandbox, workspace, owner)
    finally:
        sandbox.close()


@pytest.fixture
def area(env) -> Area:
    rel = f"t{next(_counter)}"
    host = env.workspace / rel
    host.mkdir()
    os.chown(host, *env.owner)
    return Area(env, rel, host)


# -- edit_file ------------------------------------------------------------------------
CODE = "".join(f"line {n}: value_{n} = {n * 10}\n" for n in range(1, 21))


def test_edit_replaces_a_unique_match_and_shows_the_region(area):
    path = area.put("code.py", CODE)
    obs = area.call("edit_file", path=f"{area.rel}/code.py", old="value_7 = 70\n", new="value_7 = 77\nextra = 1\n")
    assert obs.ok, obs.output
    assert path.read_text() == CODE.replace("value_7 = 70\n", "value_7 = 77\nextra = 1\n")
    assert "     7\tline 7: value_7 = 77" in obs.output and "     8\textra = 1" in obs.output
    assert "     4\tline 4" in obs.output and "    11\tline 10" in obs.output  # context around it
    assert os.stat(path).st_uid == area.env.owner[0]


def test_edit_keeps_a_missing_final_newline_and_foreign_bytes(area):
    path = area.put("raw.txt", b"caf\xe9 ok\nlast line")
    obs = area.call("edit_file", path=f"{area.rel}/raw.txt", old="last line", new="final line")
    assert obs.ok, obs.output
    assert path.read_bytes() == b"caf\xe9 ok\nfinal line"


def test_edit_accepts_newlines_for_a_crlf_file(area):
    path = area.put("dos.txt", b"one\r\ntwo\r\nthree\r\n")
    obs = area.call("edit_file", path=f"{area.rel}/dos.txt", old="one\ntwo\n", new="1\n2\n")
    assert obs.ok, obs.output
    assert path.read_bytes() == b"1\r\n2\r\nthree\r\n"


def test_edit_miss_names_the_closest_line(area):
    path = area.put("code.py", CODE)
    obs = area.call("edit_file", path=f"{area.rel}/code.py", old="line 12: valeu_12 = 120", new="x")
    assert not obs.ok
    assert "Did you mean lines 12-12" in obs.output
    assert "    12\tline 12: value_12 = 120" in obs.output
    assert path.read_text() == CODE


def test_edit_miss_on_indentation_says_so(area):
    area.put("f.py", "def f():\n    if x:\n        return 1\n")
    obs = area.call("edit_file", path=f"{area.rel}/f.py", old="if x:\n    return 1\n", new="pass\n")
    assert not obs.ok
    assert "Did you mean lines 2-3" in obs.output and "only in whitespace" in obs.output


def test_edit_with_several_matches_lists_their_lines(area):
    text = "a\nx = 1\nb\nc\nx = 1\nd\ne\nf\nx = 1\n"
    path = area.put("many.py", text)
    obs = area.call("edit_file", path=f"{area.rel}/many.py", old="x = 1", new="x = 2")
    assert not obs.ok
    assert "3 times" in obs.output and "lines 2, 5, 9" in obs.output and "more surrounding" in obs.output
    assert path.read_text() == text


def test_edit_refuses_an_empty_old_and_a_missing_file(area):
    path = area.put("f.txt", "hello\n")
    empty = area.call("edit_file", path=f"{area.rel}/f.txt", old="", new="x")
    assert not empty.ok and "`old` is empty" in empty.output
    assert path.read_text() == "hello\n"
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


def test_read_cuts_long_lines_and_shows_small_files_whole(area):
    area.put("wide.txt", "short\n" + "x" * 5000 + "\n")
    obs = area.call("read_file", path=f"{area.rel}/wide.txt")
    assert obs.output.startswith("     1\tshort\n     2\txxx")
    assert "[... 3000 more characters on this line]" in obs.output and "[lines" not in obs.output


def test_read_reports_binary_files_and_directories(area):
    area.put("blob.bin", bytes(range(256)) * 8)
    binary = area.call("read_file", path=f"{area.rel}/blob.bin")
    assert "binary file (2048 bytes)" in binary.output and "\x00" not in binary.output
    area.put("dir/inner.txt", "x")
    listing = area.call("read_file", path=f"{area.rel}/dir")
    assert not listing.ok and "is a directory" in listing.output and "inner.txt" in listing.output
    missing = area.call("read_file", path=f"{area.rel}/absent.txt")
    assert not missing.ok and "no such file" in missing.output


def test_read_shows_invalid_utf8_as_replacement_characters(area):
    area.put("latin.txt", b"na\xefve caf\xe9\n")
    obs = area.call("read_file", path=f"{area.rel}/latin.txt")
    assert obs.ok and obs.output == "     1\tna\ufffdve caf\ufffd"


def test_an_absolute_path_inside_the_workspace_is_fine(area):
    area.put("abs.txt", "inside\n")
    path = f"{area.env.sandbox.workdir}/{area.rel}/abs.txt"
    assert area.call("read_file", path=path).output == "     1\tinside"


# -- write_file -----------------------------------------------------------------------
def test_write_creates_parents_owned_by_the_workspace_owner(area):
    obs = area.call("write_file", path=f"{area.rel}/a/b/c.txt", content="one\ntwo\n")
    assert obs.ok and obs.output == f"Created {area.rel}/a/b/c.txt (8 bytes, 2 lines)."
    target = area.host / "a/b/c.txt"
    assert target.read_text() == "one\ntwo\n"
    for path in (target, area.host / "a", area.host / "a/b"):
        assert (path.stat().st_uid, path.stat().st_gid) == area.env.owner
    again = area.call("write_file", path=f"{area.rel}/a/b/c.txt", content="é")
    assert again.output == f"Overwrote {area.rel}/a/b/c.txt (2 bytes, 1 line; it had 8 bytes)."
    assert target.read_bytes() == "é".encode()


def test_write_refuses_a_directory(area):
    area.put("d/x", "x")
    obs = area.call("write_file", path=f"{area.rel}/d", content="y")
    assert not obs.ok and "is a directory" in obs.output


# -- confinement ----------------------------------------------------------------------
def outside_exists(env: Env, path: str) -> bool:
    return env.sandbox.run(f"test -e {path} && echo yes || echo no").output.strip() == "yes"


def passwd_digest(env: Env) -> str:
    return env.sandbox.run("md5sum /etc/passwd").output.split()[0]


@pytest.mark.parametrize("tool", ["read_file", "write_file", "edit_file"])
def test_paths_out_of_the_workspace_are_refused(area, tool):
    env = area.env
    os.symlink("/etc", area.host / "etc_link")
    probe_name = f"eval-agent-probe-{area.rel}"
    escape = "../" * (len(Path(env.sandbox.workdir).parts) + 1)  # far enough from any workdir
    before = passwd_digest(env)
    cases = [f"../{probe_name}", f"{area.rel}/../../{probe_name}", f"{escape}tmp/{probe_name}",
             "/etc/passwd", f"/etc/{probe_name}", f"{area.rel}/etc_link/passwd", f"{area.rel}/etc_link/{probe_name}"]
    # Harmless even if confinement broke: nothing writes to an existing file outside (the local
    # sandbox runs as this user), and `old` is absent from /etc/passwd.
    arguments = {"read_file": {}, "write_file": {"content": "owned\n"},
                 "edit_file": {"old": "eval-agent-absent-text", "new": "x"}}[tool]
    if tool == "write_file":
        cases = [path for path in cases if not path.endswith("passwd")]
    for path in cases:
        obs = area.call(tool, path=path, **arguments)
        assert not obs.ok and "outside the workspace" in obs.output, (path, obs.output)
        assert "root:" not in obs.output
    linked = area.call(tool, path=f"{area.rel}/etc_link/{probe_name}", **arguments)
    assert "through a symbolic link to /etc/" in linked.output
    parent = str(Path(env.sandbox.workdir).parent)
    for leftover in (f"{parent}/{probe_name}", f"/etc/{probe_name}", f"/tmp/{probe_name}"):
        assert not outside_exists(env, leftover)
    assert not (env.workspace.parent / probe_name).exists() and not Path(f"/etc/{probe_name}").exists()
    assert passwd_digest(env) == before


def test_symlinks_that_stay_inside_are_followed_and_agree(area):
    area.mkdir("real")
    os.symlink("real", area.host / "link")
    obs = area.call("write_file", path=f"{area.rel}/link/x.txt", content="here\n")
    assert obs.ok, obs.output
    assert (area.host / "real/x.txt").read_text() == "here\n"
    assert area.call("read_file", path=f"{area.rel}/link/x.txt").output == "     1\there"
    # `deep/../../x` is d1/x for the kernel but x for the sandbox's resolve_path, which normalises
    # `..` before following links: either way it must land inside, where read_file finds it.
    area.mkdir("d1/d2/d3")
    os.symlink("d1/d2/d3", area.host / "deep")
    name = f"{area.rel}-y.txt"
    assert area.call("write_file", path=f"{area.rel}/deep/../../{name}", content="why\n").ok
    landed = [p for p in (area.host / "d1" / name, area.env.workspace / name) if p.exists()]
    assert len(landed) == 1 and landed[0].read_text() == "why\n"
    assert area.call("read_file", path=f"{area.rel}/deep/../../{name}").output == "     1\twhy"


# -- bash -----------------------------------------------------------------------------
def test_bash_reports_output_and_exit_codes(area):
    ok = area.call("bash", command="echo hello")
    assert ok.ok and ok.output == "hello" and ok.exit_code == 0 and ok.full_output == "hello\n"
    failed = area.call("bash", command="echo oops >&2; sh -c 'exit 3'")
    assert not failed.ok and failed.exit_code == 3 and failed.output == "oops\n[exit code: 3]"
    quiet = area.call("bash", command="true")
    assert quiet.ok and quiet.output == "(no output)"


def test_bash_timeout_stops_the_command_and_keeps_the_shell(area):
    area.call("bash", command=f"cd {area.rel} && export KEPT=yes")
    obs = area.call("bash", command="echo started; sleep 30", timeout=1)
    assert obs.timed_out and not obs.ok and obs.duration < 10
    assert obs.output.startswith("started\n")
    assert "[timed out after 1 s; the command was stopped, the shell is still usable]" in obs.output
    after = area.call("bash", command="echo $KEPT; basename $PWD")
    assert after.output == f"yes\n{area.rel}"
    area.call("bash", command="cd -")


def test_bash_says_when_the_shell_was_restarted(area):
    obs = area.call("bash", command="exit 7")
    assert obs.exit_code == 7 and "[exit code: 7]" in obs.output and "shell was restarted" in obs.output
    assert area.call("bash", command="echo back").output == "back"


def test_bash_cuts_long_output_for_the_model_but_keeps_it_whole(area):
    obs = area.call("bash", command="seq 1 200000")
    assert "characters cut from the middle of this output" in obs.output
    assert len(obs.output) < 10_500 and obs.output.startswith("1\n2\n") and obs.output.endswith("199999\n200000")
    assert "\n100000\n" in obs.full_output and obs.details["chars_cut"] > 0


def test_bash_survives_output_that_is_not_utf8(area):
    obs = area.call("bash", command=r"printf 'bad \xff\xfe bytes\n'")
    assert obs.ok and obs.output == "bad \ufffd\ufffd bytes"


def test_bash_timeout_is_clamped():
    assert clamp_timeout(None) == 120 and clamp_timeout(5000) == 1800 and clamp_timeout(0) == 1


# -- registry -------------------------------------------------------------------------
def test_schemas_describe_every_tool():
    tools = default_tools()
    schemas = tool_schemas(tools)
    assert [s["function"]["name"] for s in schemas] == ["bash", "read_file", "write_file", "edit_file", "finish"]
    required = {s["function"]["name"]: s["function"]["parameters"]["required"] for s in schemas}
    assert required == {"bash": ["command"], "read_file": ["path"], "write_file": ["path", "content"],
                        "edit_file": ["path", "old", "new"], "finish": ["summary"]}
    assert all(len(s["function"]["description"]) > 80 for s in schemas)
    assert find_tool(tools, "edit_file").name == "edit_file" and find_tool(tools, "nope") is None


def test_run_tool_explains_bad_calls(area):
    unknown = area.call("run_shell", command="ls")
    assert not unknown.ok
    assert "Unknown tool 'run_shell'" in unknown.output and "bash, read_file, write_file, edit_file, finish" in unknown.output
    missing = area.call("write_file", path=f"{area.rel}/x.txt")
    assert not missing.ok and "missing required argument 'content'" in missing.output
    assert "write_file(path: string, content: string)" in missing.output
    assert not (area.host / "x.txt").exists()
    wrong = area.call("read_file", path=f"{area.rel}/x.txt", start_line="5", lines=3)
    assert not wrong.ok
    assert "'start_line' must be an integer, got a string '5'" in wrong.output and "unexpected argument 'lines'" in wrong.output
    not_a_dict = run_tool(default_tools(), ToolCall("bash", "ls"), area.env.sandbox)  # type: ignore[arg-type]
    assert not not_a_dict.ok and "must be a JSON object" in not_a_dict.output
    null_optional = area.call("bash", command="echo fine", timeout=None)
    assert null_optional.ok and null_optional.output == "fine"


def test_finish_ends_the_run_with_the_summary(area):
    obs = area.call("finish", summary="Built the todo service; run `make test`.")
    assert obs.finished and obs.ok and obs.output == "Built the todo service; run `make test`."
