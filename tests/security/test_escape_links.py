"""Escapes through links: the agent plants symbolic links in the workspace that point at host
files and folders, then asks the file tools, /undo, `traj replay` and `export` to use them. The
host's secret must never come back, no host file may change, and nothing may change owner."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from conftest import bash
from eval_agent.trajectory.recorder import trajectories_dir

SECRET = "host-secret-7d3f9a1c"


@pytest.fixture
def host_files(tmp_path):
    """A host file with a secret in it and a host folder, both outside the workspace."""
    secret = tmp_path / "host-secret.txt"
    secret.write_text(f"{SECRET}\n")
    folder = tmp_path / "host-folder"
    folder.mkdir()
    return secret, folder


def test_file_tools_never_reach_a_host_file_through_a_link(canary, host_files, scripted_session, eval_home):
    secret, folder = host_files
    events: list = []
    session = scripted_session(canary.workspace, [
        bash(f"ln -s {secret} leak && ln -s {folder} hostdir && ln -s / root-link"),
        {"tool": "read_file", "args": {"path": "leak"}},
        {"tool": "read_file", "args": {"path": f"root-link{secret}"}},
        {"tool": "write_file", "args": {"path": "hostdir/planted.txt", "content": "from the sandbox\n"}},
        {"tool": "write_file", "args": {"path": "leak", "content": "overwritten\n"}},
        {"tool": "edit_file", "args": {"path": "leak", "old": "host", "new": "edited"}},
        bash("cat leak; ls hostdir; cat hostdir/planted.txt"),
    ], events)
    assert session.run("x").outcome.status == "finished"
    session.close()
    observations = " ".join(e.observation + (e.full_output or "") for e in events if e.type == "tool_finished")
    assert SECRET not in observations
    assert secret.read_text() == f"{SECRET}\n" and list(folder.iterdir()) == []

    # the export of that run reads only the record: nothing of the host file there either
    out = eval_home / "export.jsonl"
    done = subprocess.run([sys.executable, "-m", "eval_agent", "export", "--format", "openai", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "EVAL_AGENT_HOME": str(eval_home)})
    assert done.returncode == 0, done.stderr
    assert out.exists() and SECRET not in out.read_text()
    assert all(SECRET not in path.read_text() for path in trajectories_dir(eval_home).glob("*.jsonl"))


def test_undo_restores_a_folder_the_agent_swapped_for_a_link_inside_the_workspace(canary, host_files, scripted_session):
    _, folder = host_files
    workspace = canary.workspace
    session = scripted_session(workspace, [
        bash("mkdir -p d && echo v1 > d/f.txt"),
        bash(f"rm -rf d && ln -s {folder} d"),
    ])
    assert session.run("x").outcome.status == "finished"
    undone = session.workspace.undo()
    session.close()
    assert "d" in undone.files and list(folder.iterdir()) == [], "nothing written through the link"
    assert not (workspace / "d").is_symlink() and (workspace / "d" / "f.txt").read_text() == "v1\n"


def test_replay_checks_out_a_poisoned_repository_without_running_or_following_it(canary, host_files,
                                                                                 scripted_session, eval_home):
    secret, _ = host_files
    workspace = canary.workspace
    # the user's repository before the run already holds a link to a host file; the agent adds
    # settings that would run on a clone or checkout on the host
    session = scripted_session(workspace, [
        canary.write_payload("replay"),
        bash(f"ln -sf {secret} leak && git config core.fsmonitor '{canary.command('replay')}' && "
             f"git config uploadpack.packObjectsHook '{canary.command('replay')}' && "
             f"git config core.alternateRefsCommand '{canary.command('replay')}' && "
             f"git config filter.pwn.smudge '{canary.command('replay')}' && echo '* filter=pwn' > .gitattributes && "
             f"mkdir -p .git/objects/info && echo {secret.parent} > .git/objects/info/alternates"),
        bash("cat leak; echo done"),
    ])
    run = session.run("x")
    session.close()
    done = subprocess.run([sys.executable, "-m", "eval_agent", "traj", "replay", run.run_id],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "EVAL_AGENT_HOME": str(eval_home)})
    assert "fresh checkout" in done.stdout, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert canary.tripped() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: eval-agent run as root on another user's folder")
def test_as_root_on_another_users_folder_no_owner_change_follows_a_link(canary, host_files, scripted_session):
    secret, folder = host_files
    workspace = canary.workspace
    os.chown(workspace, 4242, 4242)
    before = {path: os.lstat(path) for path in (secret, folder)}
    session = scripted_session(workspace, [
        bash(f"ln -s {secret} leak && ln -s {folder} dir-link && ln -s {secret} .git/hooks/post-commit && "
             f"ln -s {folder} .git/refs/evil && echo v1 > f.txt"),
        bash("echo v2 > f.txt"),
    ])
    assert session.run("x").outcome.status == "finished"
    session.workspace.undo()
    session.close()
    for path, was in before.items():
        now = os.lstat(path)
        assert (now.st_uid, now.st_gid, stat.S_IMODE(now.st_mode)) == (was.st_uid, was.st_gid, stat.S_IMODE(was.st_mode))
    owners = {os.lstat(os.path.join(root, name)).st_uid
              for root, dirs, files in os.walk(workspace) for name in dirs + files}
    assert owners == {4242}, "everything eval-agent made in the folder is its owner's"
