"""The sandbox image against the real Docker engine: built once, found again fast, holding the
tools requests need, usable by any uid; eval-agent's containers listed and pruned."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from docker.errors import ImageNotFound, NotFound

from eval_agent import __version__
from eval_agent.errors import EnvironmentProblem
from eval_agent.sandbox import image
from eval_agent.sandbox.docker_sandbox import BASE_ENV
from eval_agent.sandbox.engine import docker_client


@pytest.fixture(scope="module")
def client():
    return docker_client()  # raises DockerUnavailable, with its fix, when no engine answers


@pytest.fixture(scope="module")
def image_id(client):
    return image.ensure_image(client)


def run(client, image_id, script: str, **kwargs) -> str:
    out = client.containers.run(image_id, ["sh", "-c", script], remove=True, **kwargs)
    return out.decode()


def test_ensure_image_builds_a_labelled_image(client, image_id):
    built = client.images.get(image.image_tag())
    assert built.id == image_id
    assert image.image_tag() == f"eval-agent-sandbox:{__version__}"
    labels = built.labels
    # eval-agent=1 marks sandbox containers only: an image carrying it would pass it on to every
    # container made from images built on it (the agent's own image, bench task images)
    assert "eval-agent" not in labels and labels["eval-agent.image"] == "sandbox"
    assert labels["eval-agent.context-hash"] == image.context_hash()
    assert labels["eval-agent.version"] == __version__
    status = image.image_status(client)
    assert status["exists"] and status["up_to_date"] and status["id"] == image_id
    assert status["size"] > 0


def test_second_call_returns_at_once_without_building(client, image_id):
    lines: list[str] = []
    started = time.monotonic()
    again = image.ensure_image(client, log=lines.append)
    assert time.monotonic() - started < 2
    assert again == image_id
    assert lines == []  # nothing built, nothing said


def test_context_hash_is_stable_and_covers_the_build_files():
    assert image.context_hash() == image.context_hash()
    assert len(image.context_hash()) == 64
    assert set(image.CONTEXT_FILES) == {"Dockerfile", "build-base.sh", "packages.txt"}


def test_image_holds_the_tools_requests_need(client, image_id):
    out = run(client, image_id, (
        "python3 -c 'import flask, pytest, requests, venv; print(\"py-ok\")' && "
        "for t in git sqlite3 jq curl gcc make ps sleep base64 realpath; do command -v $t >/dev/null "
        "|| echo missing $t; done; "
        "python3 -m venv /tmp/v && /tmp/v/bin/pip --version >/dev/null && echo venv-ok; "
        "echo \"home=$HOME pwd=$(pwd) lang=$LANG pager=$PAGER git_pager=$GIT_PAGER\""
    ))
    assert "py-ok" in out and "venv-ok" in out
    assert "missing" not in out, out
    # no HOME of its own: a task image built on it keeps its user's (root's, here)
    assert "home=/root pwd=/workspace lang=C.UTF-8 pager=cat git_pager=cat" in out


def test_any_uid_can_write_in_workspace_and_home(client, image_id):
    """As the workspace sandbox runs it: any uid, with the HOME eval-agent gives it."""
    out = run(client, image_id, (
        "set -e; echo a > /workspace/f && echo b > $HOME/g && cat /workspace/f $HOME/g; id -u; "
        "git config --system --get-all safe.directory; "
        "cd /workspace && git init -q r && cd r && git status --short >/dev/null && echo git-ok"
    ), user="12345:12345", environment={"HOME": BASE_ENV["HOME"]})
    assert out.split() == ["a", "b", "12345", "*", "git-ok"]


def test_list_and_prune_find_and_remove_labelled_containers(client, image_id, tmp_path):
    # An extra, unique label keeps this test from pruning containers of other sessions.
    mark = f"eval-agent.test={uuid.uuid4().hex}"
    key, value = mark.split("=")
    container = client.containers.run(
        image_id, detach=True, labels={"eval-agent": "1", key: value},
        name=f"eval-agent-test-{value[:12]}", volumes={str(tmp_path): {"bind": "/workspace", "mode": "rw"}},
    )
    try:
        rows = image.list_containers(client, labels=[mark])
        assert [(r["name"], r["id"], r["status"], r["workspace"]) for r in rows] == [
            (container.name, container.short_id, "running", str(tmp_path))
        ]
        assert rows[0]["image"] and rows[0]["created"]
        assert container.name in [r["name"] for r in image.list_containers(client)]
        kept = image.prune_containers(client, labels=[mark])  # no owner recorded: kept unless --all
        assert kept.removed == [] and kept.skipped == [(container.name, "no owner recorded")]
        assert image.prune_containers(client, labels=[mark], everything=True).removed == [container.name]
        with pytest.raises(NotFound):
            client.containers.get(container.id)
        assert image.list_containers(client, labels=[mark]) == []
    finally:
        try:
            container.remove(force=True)
        except NotFound:
            pass


def test_changed_context_rebuilds(client, image_id, monkeypatch):
    # A tag of its own, so the real image is never stale for other tests running meanwhile.
    tag = f"eval-agent-sandbox:test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(image, "image_tag", lambda: tag)
    base = client.images.get(image_id).labels["eval-agent.base"]  # the base at hand, no pull
    try:
        monkeypatch.setattr(image, "context_hash", lambda: "a" * 64)
        first = image.ensure_image(client, base=base, log=lambda line: None)
        assert client.images.get(tag).labels["eval-agent.context-hash"] == "a" * 64

        monkeypatch.setattr(image, "context_hash", lambda: "b" * 64)
        lines: list[str] = []
        second = image.ensure_image(client, base=base, log=lines.append)
        assert second != first
        assert client.images.get(tag).labels["eval-agent.context-hash"] == "b" * 64
        assert len(lines) == 2 and lines[0].startswith(f"Building the sandbox image {tag} from {base}")
        with pytest.raises(ImageNotFound):
            client.images.get(first)  # the stale image does not linger
    finally:
        try:
            client.images.remove(tag)
        except ImageNotFound:
            pass


def test_build_failure_says_why(client, monkeypatch):
    monkeypatch.setattr(image, "image_tag", lambda: f"eval-agent-sandbox:test-{uuid.uuid4().hex[:8]}")
    with pytest.raises(EnvironmentProblem) as caught:
        image.ensure_image(client, base="eval-agent-test/no-such-base:0", log=lambda line: None)
    message = str(caught.value)
    assert "eval-agent-test/no-such-base:0" in message and "failed" in message
    assert caught.value.exit_code == 3


def test_offline_base_says_what_to_do_without_root_or_debootstrap(client, monkeypatch):
    # These checks come before any work, so faking the uid and PATH is the only way to reach them
    # when the tests run as root with debootstrap installed.
    monkeypatch.setattr(image.os, "geteuid", lambda: 1000)
    with pytest.raises(EnvironmentProblem, match=r"needs root .*`sudo eval-agent sandbox build` once"):
        image._build_offline_base(client, log=lambda line: None)
    monkeypatch.setattr(image.shutil, "which", lambda name: None)
    with pytest.raises(EnvironmentProblem, match=r"`sudo apt-get install debootstrap`"):
        image._build_offline_base(client, log=lambda line: None)


def test_prune_keeps_the_containers_of_a_running_process_and_removes_a_dead_ones(client, image_id, tmp_path):
    """A prune while another eval-agent works must not take its sandbox away: the owner (host, pid,
    start time) is on the container, and only a dead owner's containers go (--all: every one)."""
    import subprocess
    import sys

    from eval_agent.sandbox.engine import OWNER_PID, owner_labels
    from conftest import cli_env, run_cli

    mark = f"eval-agent.test={uuid.uuid4().hex}"
    key, value = mark.split("=")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = dead.stdout.strip()
    live = client.containers.run(image_id, "sleep 300", detach=True, name=f"eval-agent-live-{value[:8]}",
                                 labels={"eval-agent": "1", key: value, **owner_labels()})
    orphan = client.containers.run(image_id, "sleep 300", detach=True, name=f"eval-agent-dead-{value[:8]}",
                                   labels={"eval-agent": "1", key: value, **owner_labels(), OWNER_PID: dead_pid})
    try:
        pruned = image.prune_containers(client, labels=[mark])
        assert pruned.removed == [orphan.name]
        assert [name for name, _ in pruned.skipped] == [live.name] and f"pid {os.getpid()}" in pruned.skipped[0][1]
        assert client.containers.get(live.id).status == "running"
        # the CLI says what it kept, and --all removes it (its owner is this test: still running)
        home = tmp_path / "home"
        said = run_cli(["sandbox", "prune"], cli_env(home))
        assert said.returncode == 0 and "kept" in said.stdout and "--all" in said.stdout, said.stdout
        assert client.containers.get(live.id).status == "running"
        assert image.prune_containers(client, labels=[mark], everything=True).removed == [live.name]
    finally:
        for container in (live, orphan):
            try:
                container.remove(force=True)
            except NotFound:
                pass
