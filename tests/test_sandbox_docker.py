"""The Docker sandbox against the real engine: isolation (user, capabilities, pids, env, socket),
the persistent shell's behaviour, and the container's removal however the process ends.

No mocks and no skips: with no engine answering, the `client` fixture raises DockerUnavailable
with its fix, and every test here errors."""

from __future__ import annotations

import io
import os
import secrets
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from docker.errors import ImageNotFound

from eval_agent.errors import EvalAgentError
from eval_agent.sandbox.docker_sandbox import (
    DockerSandbox,
    DockerSandboxConfig,
    sandbox_env,
    sandbox_user,
)
from eval_agent.sandbox.docker_transport import DockerExecTransport, MainShellTransport, main_shell_command, new_nonce
from eval_agent.sandbox.engine import LABEL, docker_client

import sandbox_cases as cases

# The finished sandbox image (eval-agent-sandbox:<version>) is built elsewhere; the base holds
# everything these tests need (bash, coreutils, procps, python3, git, curl).
IMAGE = "eval-agent-base:bookworm"
UID = GID = 12345

CANARIES = {
    "OPENAI_API_KEY": "sk-canary-openai-0123456789",
    "MY_TOKEN": "canary-token-abc",
    "DB_PASSWORD": "canary-password",
    "AWS_SECRET_ACCESS_KEY": "canary-aws-secret",
    "FOO": "canary-foo-not-allow-listed",
}


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    client = docker_client()  # raises DockerUnavailable, with its fix, when no engine answers
    try:
        client.images.get(IMAGE)
    except ImageNotFound:
        pytest.fail(f"test image {IMAGE} is missing: build it first (sandbox/ build-base.sh)")
    return client


def new_session() -> str:
    return f"test-{secrets.token_hex(5)}"


def session_containers(client, session: str) -> list:
    return client.containers.list(all=True, filters={"label": [f"{LABEL}=1", f"{LABEL}.session={session}"]})


def owned_workspace(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir()
    os.chown(path, UID, GID)
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return owned_workspace(tmp_path_factory.mktemp("docker"), "ws")


@pytest.fixture(scope="module")
def sandbox(client, workspace):
    """One sandbox shared by the tests that leave it usable."""
    box = DockerSandbox(DockerSandboxConfig(image=IMAGE, workspace=workspace, session_id=new_session()), client)
    box.start()
    yield box
    box.close()


@pytest.fixture
def sh(sandbox):
    cases.reset(sandbox)
    return sandbox


@pytest.fixture
def fresh(client, tmp_path):
    """A sandbox of its own, for tests that may leave the shell broken."""
    box = DockerSandbox(
        DockerSandboxConfig(image=IMAGE, workspace=owned_workspace(tmp_path, "ws"), session_id=new_session()), client
    )
    box.start()
    yield box
    box.close()


# -- isolation ----------------------------------------------------------------------------------
def test_runs_as_the_workspace_owner(sh, workspace):
    assert os.getuid() == 0, "these tests run as root, so the workspace owner decides the user"
    assert sandbox_user(workspace) == f"{UID}:{GID}"
    assert sh.info.user == f"{UID}:{GID}"
    assert sh.run("id -u; id -g", timeout=10).output == f"{UID}\n{GID}\n"
    assert sh.run("echo from-shell > owned.txt", timeout=10).exit_code == 0
    sh.write_file("owned_by_tool.txt", b"from write_file\n")
    for name in ("owned.txt", "owned_by_tool.txt"):
        stat = (workspace / name).stat()
        assert (stat.st_uid, stat.st_gid) == (UID, GID), name
    sh.run("rm -f owned.txt owned_by_tool.txt", timeout=10)


def status_fields(sb, pid: str) -> dict[str, str]:
    text = sb.run(f"cat /proc/{pid}/status", timeout=10).output
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def test_no_capabilities_and_no_new_privileges(sh):
    for pid in ("self", "$$"):  # a child process and the shell itself
        fields = status_fields(sh, pid)
        for key in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
            assert int(fields[key], 16) == 0, (pid, key, fields[key])
        assert fields["NoNewPrivs"].strip() == "1", pid


def test_root_in_the_container_is_still_powerless(client, tmp_path):
    ws = owned_workspace(tmp_path, "ws")
    config = DockerSandboxConfig(image=IMAGE, workspace=ws, user="0:0", session_id=new_session())
    with DockerSandbox(config, client) as box:
        assert box.run("id -u", timeout=10).output == "0\n"
        assert int(status_fields(box, "self")["CapEff"], 16) == 0
        denied = box.run("touch /tmp/f && chown 1:1 /tmp/f", timeout=10)
        assert denied.exit_code != 0 and "not permitted" in denied.output
        assert box.run("mknod /tmp/dev c 1 3", timeout=10).exit_code != 0


def test_no_docker_socket_inside(sh):
    result = sh.run(
        "ls -la /var/run/docker.sock /run/docker.sock 2>&1; grep -c docker.sock /proc/mounts", timeout=10
    )
    assert "No such file or directory" in result.output
    assert result.output.strip().endswith("0")


def test_container_carries_the_limits_and_hardening(client, sandbox):
    attrs = client.containers.get(sandbox.name).attrs
    host = attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["PidsLimit"] == sandbox.config.pids_limit == sandbox.info.limits["pids"]
    assert host["Memory"] == 4 * 1024**3
    assert host["NanoCpus"] == int(sandbox.config.cpus * 1e9)
    assert host["Init"] is True and host["Privileged"] is False
    assert host["LogConfig"]["Type"] == "none"  # what commands print is not kept in the engine's logs
    assert attrs["Config"]["Labels"][LABEL] == "1"
    assert sandbox.info.ports and all(m.host_ip == "127.0.0.1" for m in sandbox.info.ports)


def test_host_environment_does_not_leak(client, tmp_path, monkeypatch):
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LANG", "C.UTF-8")
    config = DockerSandboxConfig(
        image=IMAGE, workspace=owned_workspace(tmp_path, "ws"), session_id=new_session(),
        extra_env={"GITHUB_TOKEN": "canary-gh", "my_api_key": "canary-lower", "EA_WANTED": "yes"},
    )
    with DockerSandbox(config, client) as box:
        env_text = box.run("env", timeout=10).output
        environ = box.run("cat /proc/1/environ | tr '\\0' '\\n'", timeout=10).output  # the container's own
    env = dict(line.split("=", 1) for line in env_text.splitlines() if "=" in line)
    for text in (env_text, environ):
        for name, value in CANARIES.items():
            assert name not in text and value not in text, name
        assert "canary-gh" not in text and "canary-lower" not in text
    assert env["LANG"] == "C.UTF-8" and env["HOME"] == "/tmp/home"
    assert env["EA_WANTED"] == "yes"


def test_sandbox_env_never_passes_secret_names():
    host = {**CANARIES, "LANG": "de_DE.UTF-8", "TZ": "Europe/Berlin", "PATH": "/host/bin", "LC_ALL": "C"}
    extras = {
        "OPENAI_API_KEY": "x", "GITHUB_TOKEN": "x", "aws_secret_access_key": "x", "DB_PASSWORD": "x",
        "PGPASSWD": "x", "GOOGLE_APPLICATION_CREDENTIALS": "x", "Api-Key": "x", "EA_WANTED": "yes",
    }
    env = sandbox_env(extras, host_env=host)
    assert not [name for name in env if any(word in name.upper() for word in ("KEY", "TOKEN", "SECRET", "PASSWORD"))]
    assert "FOO" not in env and "PATH" not in env  # not on the allow-list
    assert env["LANG"] == "de_DE.UTF-8" and env["TZ"] == "Europe/Berlin" and env["LC_ALL"] == "C"
    assert env["EA_WANTED"] == "yes" and env["HOME"] == "/tmp/home"


COUNT_FLOOD = (
    'n=0; for d in /proc/[0-9]*; do { read -r -d "" a; read -r -d "" b; } < $d/cmdline 2>/dev/null; '
    '[ "$a $b" = "sleep 30" ] && n=$((n+1)); done; echo $n'
)
# builtins only: with the pids limit reached, nothing can fork
KILL_FLOOD = (
    'for d in /proc/[0-9]*; do { read -r -d "" a; read -r -d "" b; } < $d/cmdline 2>/dev/null; '
    '[ "$a $b" = "sleep 30" ] && kill -9 ${d#/proc/}; done; echo cleaned'
)


@pytest.fixture
def small_pids(client, tmp_path):
    config = DockerSandboxConfig(
        image=IMAGE, workspace=owned_workspace(tmp_path, "ws"), pids_limit=64, session_id=new_session()
    )
    box = DockerSandbox(config, client)
    box.start()
    yield box
    box.close()


def test_pids_limit_stops_a_process_flood(small_pids):
    box = small_pids
    result = box.run("(for i in $(seq 200); do sleep 30 & done)", timeout=3)
    assert "Resource temporarily unavailable" in result.output
    # with every pid taken, nothing can be started to stop the command, so the shell may have
    # been replaced; what matters is that run() returned and the sandbox comes back
    spawned = int(box.run(COUNT_FLOOD, timeout=10).output)
    assert 0 < spawned <= 64
    assert box.run(KILL_FLOOD, timeout=10).output == "cleaned\n"
    time.sleep(0.3)
    assert box.run("id -u; pwd; echo ok", timeout=10).output == f"{UID}\n/workspace\nok\n"


def test_pids_flood_in_the_shell_itself_leaves_a_usable_sandbox(small_pids):
    """The loop of the brief, run by the persistent shell itself: the sandbox must come back to a
    usable shell (run() returns results, never raises) once the flood's processes are gone."""
    box = small_pids
    try:
        result = box.run("for i in $(seq 200); do sleep 30 & done", timeout=5)
        assert result.timed_out or result.shell_restarted or result.exit_code != 0, result
    finally:  # whatever happened, let the flood go before the next check
        time.sleep(1)
        try:
            box.run(KILL_FLOOD, timeout=10)
        except Exception:
            pass
    deadline = time.monotonic() + 40  # the flood's sleeps end within 30 s in any case
    while True:
        result = box.run("echo ok; id -u", timeout=10)
        if result.output == f"ok\n{UID}\n" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert result.output == f"ok\n{UID}\n", result


# -- the shell ----------------------------------------------------------------------------------
def test_state_persists(sh):
    cases.case_state_persists(sh)


def test_files_through_the_shell(sh, workspace):
    cases.case_files(sh, workspace)


# -- cleanup ------------------------------------------------------------------------------------
def test_close_removes_the_container(client):
    session = new_session()
    box = DockerSandbox(DockerSandboxConfig(image=IMAGE, session_id=session), client)
    box.start()
    assert [c.name for c in session_containers(client, session)] == [box.name]
    assert box.run("echo up", timeout=10).output == "up\n"
    box.close()
    assert session_containers(client, session) == []
    box.close()  # twice is harmless


def test_exception_inside_with_removes_the_container(client):
    session = new_session()
    with pytest.raises(RuntimeError, match="boom"):
        with DockerSandbox(DockerSandboxConfig(image=IMAGE, session_id=session), client) as box:
            assert session_containers(client, session)
            box.run("true", timeout=10)
            raise RuntimeError("boom")
    assert session_containers(client, session) == []


CHILD = textwrap.dedent(
    """
    import signal, sys
    from eval_agent.sandbox.docker_sandbox import DockerSandbox, DockerSandboxConfig

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))  # as the CLI does
    config = DockerSandboxConfig(image=sys.argv[1], session_id=sys.argv[2])
    with DockerSandbox(config) as sandbox:
        print("READY", sandbox.name, flush=True)
        sandbox.run("sleep 60", timeout=120)
    print("UNREACHABLE", flush=True)
    """
)


def start_child(tmp_path: Path, session: str) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), IMAGE, session], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ready, _, _ = select.select([child.stdout], [], [], 60)
    line = child.stdout.readline().decode() if ready else ""
    if not line.startswith("READY"):
        child.kill()
        pytest.fail(f"the child did not start its sandbox: {line!r} {child.stdout.read().decode()[:2000]}")
    time.sleep(0.5)  # inside sandbox.run("sleep 60") by now
    return child


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_to_the_process_removes_the_container(client, tmp_path, signum):
    session = new_session()
    child = start_child(tmp_path, session)
    try:
        assert len(session_containers(client, session)) == 1
        started = time.monotonic()
        child.send_signal(signum)
        child.wait(timeout=30)
        output = child.stdout.read().decode()
        assert "UNREACHABLE" not in output
        assert time.monotonic() - started < 15
        if signum == signal.SIGTERM:
            assert child.returncode == 143, output
        assert session_containers(client, session) == [], output
    finally:
        if child.poll() is None:
            child.kill()
        for container in session_containers(client, session):
            container.remove(force=True)


def test_sigkill_leaves_the_container_for_prune(client, tmp_path):
    session = new_session()
    child = start_child(tmp_path, session)
    child.kill()
    child.wait(timeout=30)
    left = session_containers(client, session)
    assert len(left) == 1 and left[0].status == "running"
    # the prune: every container labelled eval-agent=1, removed by force (limited here to this
    # test's session, so that sandboxes of other tests running now are spared)
    for container in client.containers.list(all=True, filters={"label": [f"{LABEL}=1", f"{LABEL}.session={session}"]}):
        container.remove(force=True)
    assert session_containers(client, session) == []


@pytest.fixture(scope="module")
def image_without_bash(client):
    tag = f"eval-agent-test-nobash:{secrets.token_hex(4)}"
    dockerfile = f"FROM {IMAGE}\nRUN rm -f /bin/bash /usr/bin/bash\n".encode()
    client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, forcerm=True)
    yield tag
    client.images.remove(tag, force=True)


def test_an_image_with_an_entrypoint_still_gets_its_shell(client):
    tag = f"eval-agent-test-entrypoint:{secrets.token_hex(4)}"
    dockerfile = f'FROM {IMAGE}\nENTRYPOINT ["false"]\n'.encode()
    client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, forcerm=True)
    try:
        with DockerSandbox(DockerSandboxConfig(image=tag, session_id=new_session()), client) as box:
            assert box.run("echo shell", timeout=10).output == "shell\n"
    finally:
        client.images.remove(tag, force=True)


@pytest.mark.parametrize("user", ["root", "app"])
def test_a_task_container_runs_as_its_image_says(client, user):
    """hardened=False (a bench task): the image's USER, that user's HOME from passwd, the image's
    ENV kept; Docker's default capabilities for root; no-new-privileges and the pids limit still."""
    tag = f"eval-agent-test-task:{secrets.token_hex(4)}"
    dockerfile = (f"FROM {IMAGE}\nRUN useradd --create-home --home-dir /home/app app\n"
                  f"ENV TASK_SETTING=from-the-image LANG=en_US.UTF-8\n" + (f"USER {user}\n" if user != "root" else ""))
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True)
    image_user = client.images.get(tag).attrs["Config"].get("User") or None
    config = DockerSandboxConfig(image=tag, session_id=new_session(), user=image_user or "0:0", hardened=False,
                                 ports=(), pids_limit=256)
    try:
        with DockerSandbox(config, client) as box:
            out = box.run('id -un; echo "$HOME $TASK_SETTING $LANG"; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; '
                          "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max", timeout=20).output
            name, env, caps, no_new, pids = out.split("\n")[:5]
            assert name == user and env == f"{'/root' if user == 'root' else '/home/app'} from-the-image en_US.UTF-8"
            assert (caps.split()[1] != "0000000000000000") == (user == "root"), "root holds Docker's default set"
            assert no_new.split()[1] == "1" and pids == "256"
            if user == "root":
                assert box.run("useradd -r svc && chown svc /tmp && echo ok", timeout=20).output.strip() == "ok"
    finally:
        client.images.remove(tag, force=True)


def test_failed_shell_start_leaves_no_container(client, image_without_bash):
    """A task image without bash: starting fails with an error the CLI can print in one line,
    and no container is left behind."""
    session = new_session()
    config = DockerSandboxConfig(image=image_without_bash, session_id=session)
    try:
        with pytest.raises(Exception) as caught:
            with DockerSandbox(config, client):
                pass
        left = [c.name for c in session_containers(client, session)]
        assert left == [], f"start failed ({caught.value!r}) but left {left} behind"
        assert isinstance(caught.value, EvalAgentError), f"a bare {caught.value!r} reaches the CLI"
    finally:
        for container in session_containers(client, session):
            container.remove(force=True)


def test_the_containers_own_shell_reports_its_exit(fresh):
    """The first shell is the container's main process, read through an attach: the end of that
    shell is a line its wrapper prints, which must never be taken from, or mixed into, output."""
    lookalike = fresh.run("printf '__EA_SHELL_EXITED_0123_1__\\n'; echo fine", timeout=10)
    assert lookalike.output == "__EA_SHELL_EXITED_0123_1__\nfine\n" and not lookalike.shell_restarted
    assert fresh.run("printf 'no newline_'", timeout=10).output == "no newline_"
    assert fresh.run("python3 -m http.server 8001 > /tmp/server.log 2>&1 &", timeout=10).exit_code == 0
    started = time.monotonic()
    last = fresh.run("sleep 30 & printf 'last words_'; exit 7", timeout=20)  # the job keeps the stream open
    assert (last.exit_code, last.output, last.shell_restarted) == (7, "last words_", True), last
    assert time.monotonic() - started < 5 and not last.timed_out
    # the server may still be starting on a loaded machine: wait for it to listen (20 s at most);
    # a server killed with the old shell never answers, and the probe prints nothing
    probe = ("python3 -c \"import time, urllib.request as u\nfor _ in range(100):\n try:\n"
             "  print(u.urlopen('http://127.0.0.1:8001/', timeout=3).status); break\n"
             " except OSError: time.sleep(0.2)\"")
    assert fresh.run(probe, timeout=30).output == "200\n"  # the replacement shell finds the server alive
    assert fresh.run("exit 9", timeout=10).exit_code == 9  # and the replacement's own exit is seen too


@pytest.mark.parametrize("case", cases.SHARED_SANDBOX_CASES, ids=lambda case: case.__name__[5:])
def test_shell_case(sh, case):
    case(sh)


@pytest.mark.parametrize("case", cases.FRESH_SANDBOX_CASES, ids=lambda case: case.__name__[5:])
def test_shell_case_on_a_fresh_sandbox(fresh, case):
    case(fresh)


@pytest.mark.parametrize("kind", ["main", "exec"])
def test_the_shells_start_up_chatter_never_reaches_the_stream(client, kind):
    """stdout and stderr reach eval-agent as two pipes multiplexed in no fixed order, so bash's
    start-up notices ("no job control", a first prompt) could land after its first reply and be
    pinned on a command's output (a git box once answered 'bash-5.2# ' in front of its reply).
    The stream must carry nothing but what the commands print, from its first byte."""
    nonce = new_nonce()
    container = client.containers.create(IMAGE, main_shell_command(nonce) if kind == "main" else ["sleep", "60"],
                                         entrypoint=[""], stdin_open=True, labels={LABEL: "1"})
    try:
        transport = MainShellTransport(client, container.id, None, nonce) if kind == "main" else None
        container.start()
        transport = transport or DockerExecTransport(client, container.id, None, "/")
        transport.send(b"echo first\nprintf 'second\\n'\n")
        seen, deadline = b"", time.monotonic() + 30
        while b"second\n" not in seen and time.monotonic() < deadline:
            seen += transport.recv(1) or b""
        time.sleep(0.5)  # anything late on the other pipe would be here by now
        seen += transport.recv(0.5) or b""
        transport.close()
        assert seen == b"first\nsecond\n"
    finally:
        container.remove(force=True)
