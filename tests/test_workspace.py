"""Workspace against real git repositories in tmp_path (no mocks: the git CLI does the work), its
git run in the git box (a real container, as with the Docker sandbox) and on the host (as with
--sandbox local)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from eval_agent.errors import UsageError
from eval_agent.git_runner import HostGit
from eval_agent.repo_layout import locate
from eval_agent.sandbox.docker_sandbox import sandbox_user
from eval_agent.sandbox.git_box import GitBox, box_mounts
from eval_agent.workspace import AGENT_EMAIL, SNAPSHOT_SUBJECT, Workspace


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path, monkeypatch):
    """No system or global git config, so "no identity configured" is really the case."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
                "GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG_COUNT", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    return home


@pytest.fixture(params=["box", "host"])
def open_ws(request, sandbox_image):
    """Workspace(folder, ...) with its git in a git box, or on the host."""
    boxes = []

    def open_(folder: Path, run_id: str = "", **options) -> Workspace:
        layout = locate(folder)
        if request.param == "host":
            return Workspace(folder, run_id, runner=HostGit(), layout=layout, **options)
        box = GitBox(sandbox_image, box_mounts(layout), sandbox_user(folder.resolve()),
                     f"test-ws-{os.getpid()}-{len(boxes)}-{id(request)}").start()
        boxes.append(box)
        return Workspace(folder, run_id, runner=box, layout=layout, **options)

    open_.kind = request.param
    yield open_
    for box in boxes:
        box.close()


def git(cwd: Path, *args: str, check: bool = True, trust: bool = True) -> str:
    """The test's own git; `trust` lets it read folders chowned to another uid."""
    pre = ["-c", "safe.directory=*"] if trust else []
    done = subprocess.run(["git", *pre, *args], cwd=cwd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"git {args} failed: {done.stderr}")
    return done.stdout + done.stderr if not check else done.stdout


def user_repo(path: Path, files: dict[str, str]) -> Path:
    """A repository the user made, with their own identity, and one commit of `files`."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Ada User")
    git(path, "config", "user.email", "ada@example.com")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "user: initial")
    return path


def files_in(path: Path, rev: str = "HEAD") -> set[str]:
    return set(git(path, "ls-tree", "-r", "--name-only", rev).split())


def author(path: Path, rev: str = "HEAD") -> str:
    return git(path, "log", "-1", "--format=%an <%ae>|%cn <%ce>", rev).strip()


def test_init_plain_folder_snapshots_existing_files_without_an_identity(tmp_path, open_ws):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    result = open_ws(folder, run_id="r1").prepare()
    assert result.initialized
    assert result.snapshot_commit == result.head == git(folder, "rev-parse", "HEAD").strip()
    # First an empty commit so HEAD exists, then the user's files in a commit of their own.
    assert files_in(folder, "HEAD~1") == set()
    assert files_in(folder) == {"notes.txt"}
    assert git(folder, "log", "-1", "--format=%s").strip() == SNAPSHOT_SUBJECT
    assert author(folder) == f"eval-agent <{AGENT_EMAIL}>|eval-agent <{AGENT_EMAIL}>"
    assert git(folder, "status", "--porcelain") == ""


def test_init_empty_folder_has_a_head(tmp_path, open_ws):
    folder = tmp_path / "empty"
    folder.mkdir()
    result = open_ws(folder).prepare()
    assert result.initialized and result.snapshot_commit is None
    assert git(folder, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(folder, "log", "-1", "--format=%s").strip() == "eval-agent: initialize repository"


def test_user_changes_get_their_own_commit_before_any_agent_commit(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    (repo / "a.txt").write_text("a edited\n")
    (repo / "b.txt").write_text("b staged\n")
    git(repo, "add", "b.txt")
    (repo / "new.txt").write_text("untracked\n")
    ws = open_ws(repo, run_id="r2")
    result = ws.prepare()
    assert not result.initialized
    snap = result.snapshot_commit
    assert git(repo, "log", "-1", "--format=%s", snap).strip() == SNAPSHOT_SUBJECT
    assert author(repo, snap) == "Ada User <ada@example.com>|Ada User <ada@example.com>"
    assert set(git(repo, "diff", "--name-only", f"{snap}~1", snap).split()) == {"a.txt", "b.txt", "new.txt"}
    ws.begin_request()
    (repo / "agent.py").write_text("print('hi')\n")
    step = ws.commit_step(1, "write agent.py")
    assert git(repo, "rev-parse", f"{step}~1").strip() == snap
    assert git(repo, "diff", "--name-only", snap, step).split() == ["agent.py"]
    assert author(repo, step).startswith("eval-agent <")


def test_commit_step_names_the_step_and_returns_none_when_nothing_changed(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {"a.txt": "a\n"})
    ws = open_ws(repo, run_id="run-42")
    ws.prepare()
    ws.begin_request()
    head = ws.head
    assert ws.commit_step(1, "looked around") is None
    assert ws.head == head
    (repo / "hello.py").write_text("print('hello')\n")
    sha = ws.commit_step(3, "write   hello.py\nwith a greeting")
    assert sha == ws.head != head
    message = git(repo, "log", "-1", "--format=%B", sha)
    assert message.splitlines()[0] == "eval-agent step 3: write hello.py with a greeting"
    assert "Eval-Agent-Run: run-42" in git(repo, "log", "-1", "--format=%(trailers)", sha)
    assert ws.commit_step(4, "nothing") is None


def test_undo_removes_exactly_the_agents_last_change(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {"keep.txt": "k\n", "gone.txt": "g\n"})
    ws = open_ws(repo)
    ws.prepare()
    ws.begin_request()
    (repo / "a.py").write_text("v1\n")
    first = ws.commit_step(1, "write a.py")
    (repo / "a.py").write_text("v2\n")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "b.py").write_text("new\n")
    (repo / "gone.txt").unlink()
    second = ws.commit_step(2, "edit a.py, add pkg/b.py, remove gone.txt")
    result = ws.undo()
    assert result.commit == second
    assert result.message == "eval-agent step 2: edit a.py, add pkg/b.py, remove gone.txt"
    assert sorted(result.files) == ["a.py", "gone.txt", "pkg/b.py"]
    assert ws.head == first
    assert (repo / "a.py").read_text() == "v1\n"
    assert (repo / "gone.txt").read_text() == "g\n"
    assert not (repo / "pkg").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert ws.undo().commit == first
    assert not (repo / "a.py").exists()
    with pytest.raises(UsageError, match="nothing to undo"):
        ws.undo()


def test_undo_refuses_when_the_last_commit_is_the_users(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {"a.txt": "a\n"})
    ws = open_ws(repo)
    ws.prepare()
    with pytest.raises(UsageError, match="nothing to undo"):
        ws.undo()  # no agent commit in this session
    (repo / "x.txt").write_text("agent\n")
    ws.commit_step(1, "write x.txt")
    (repo / "a.txt").write_text("user again\n")
    git(repo, "commit", "-qam", "user: my own commit")
    head = ws.head
    with pytest.raises(UsageError, match="not eval-agent's") as err:
        ws.undo()
    assert "\n" not in str(err.value)
    assert ws.head == head and (repo / "a.txt").read_text() == "user again\n"


@pytest.mark.parametrize("edit", ["modify", "untracked"])
def test_undo_refuses_when_the_user_edited_after_the_agents_commit(tmp_path, edit, open_ws):
    repo = user_repo(tmp_path / "r", {"a.txt": "a\n"})
    ws = open_ws(repo)
    ws.prepare()
    (repo / "x.txt").write_text("agent\n")
    step = ws.commit_step(1, "write x.txt")
    target = repo / ("x.txt" if edit == "modify" else "mine.txt")
    target.write_text("the user's later work\n")
    with pytest.raises(UsageError, match="changed since eval-agent's last step"):
        ws.undo()
    assert ws.head == step
    assert target.read_text() == "the user's later work\n"


def test_diff_since_begin_request_has_agent_changes_and_new_files_not_the_users_snapshot(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {"app.py": "x = 1\n"})
    (repo / "app.py").write_text("x = 1\nuser_line = True\n")
    ws = open_ws(repo)
    ws.prepare()
    base = ws.begin_request()
    (repo / "app.py").write_text("x = 1\nuser_line = True\nagent_line = True\n")
    ws.commit_step(1, "edit app.py")
    (repo / "fresh.py").write_text("created_but_not_committed = 1\n")
    text = ws.diff()
    assert "+agent_line = True" in text and "+created_but_not_committed = 1" in text
    assert "b/fresh.py" in text and "user_line" not in text.replace(" user_line = True", "")
    assert sorted(ws.changed_files()) == ["app.py", "fresh.py"]
    assert ws.diff(since=ws.head).count("diff --git") == 1  # only the uncommitted new file
    # Building the diff left the user's index alone: fresh.py is still untracked.
    assert git(repo, "status", "--porcelain") == "?? fresh.py\n"
    assert ws.base == base


def test_gitignored_files_are_not_committed(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {".gitignore": "*.log\nbuild/\n"})
    ws = open_ws(repo)
    ws.prepare()
    ws.begin_request()
    (repo / "run.log").write_text("noise\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_text("artifact\n")
    assert ws.commit_step(1, "build only") is None
    (repo / "src.py").write_text("code\n")
    ws.commit_step(2, "write src.py")
    assert files_in(repo) == {".gitignore", "src.py"}
    assert ws.changed_files() == ["src.py"]


def test_subfolder_of_a_larger_repo_limits_everything_to_the_folder(tmp_path, open_ws):
    outer = user_repo(tmp_path / "big", {"top.txt": "top\n", "other/o.txt": "o\n", "sub/s.txt": "s\n"})
    (outer / "top.txt").write_text("top edited, uncommitted\n")
    (outer / "other" / "o.txt").write_text("o staged\n")
    git(outer, "add", "other/o.txt")
    (outer / "sub" / "s.txt").write_text("s edited\n")
    ws = open_ws(outer / "sub")
    result = ws.prepare()
    assert not result.initialized
    assert not (outer / "sub" / ".git").exists()
    assert git(outer, "diff", "--name-only", "HEAD~1", "HEAD").split() == ["sub/s.txt"]
    ws.begin_request()
    (outer / "sub" / "agent.txt").write_text("agent\n")
    (outer / "elsewhere.txt").write_text("outside the folder\n")
    step = ws.commit_step(1, "write agent.txt")
    assert git(outer, "diff", "--name-only", f"{step}~1", step).split() == ["sub/agent.txt"]
    assert ws.changed_files() == ["agent.txt"]
    assert "b/agent.txt" in ws.diff()
    ws.undo()
    assert not (outer / "sub" / "agent.txt").exists()
    # The user's work outside the folder is exactly as they left it, staged state included.
    assert sorted(git(outer, "status", "--porcelain").splitlines()) == [
        " M top.txt", "?? elsewhere.txt", "M  other/o.txt"]


def test_folder_ignored_by_an_enclosing_repo_gets_its_own(tmp_path, open_ws):
    home = user_repo(tmp_path / "dotfiles", {".gitignore": "*\n!.gitignore\n"})
    (home / "project").mkdir()
    (home / "project" / "main.py").write_text("x\n")
    result = open_ws(home / "project").prepare()
    assert result.initialized and (home / "project" / ".git").is_dir()
    assert files_in(home / "project") == {"main.py"}


def test_merge_in_progress_is_refused(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {"f.txt": "base\n"})
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "f.txt").write_text("side\n")
    git(repo, "commit", "-qam", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "f.txt").write_text("main\n")
    git(repo, "commit", "-qam", "main")
    git(repo, "merge", "side", check=False)
    assert (repo / ".git" / "MERGE_HEAD").exists()
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(UsageError, match="middle of a merge") as err:
        open_ws(repo).prepare()
    assert "\n" not in str(err.value) and "git merge --abort" in str(err.value)
    assert git(repo, "rev-parse", "HEAD") == head


def test_large_files_are_left_out_with_a_note(tmp_path, open_ws):
    repo = user_repo(tmp_path / "r", {"a.txt": "a\n"})
    ws = open_ws(repo, max_file_bytes=1000)
    ws.prepare()
    (repo / "big.bin").write_bytes(b"\0" * 5000)
    (repo / "small.txt").write_text("ok\n")
    ws.commit_step(1, "write files")
    assert files_in(repo) == {"a.txt", "small.txt"}
    assert ws.skipped_large == ["big.bin"]
    assert ws.commit_step(2, "nothing new") is None
    ws.undo()  # the skipped file does not count as the user's later edit
    assert not (repo / "small.txt").exists() and (repo / "big.bin").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
@pytest.mark.parametrize("existing_repo", [True, False])
def test_folder_owned_by_another_uid_works(tmp_path, existing_repo, open_ws):
    folder = tmp_path / "theirs"
    if existing_repo:
        user_repo(folder, {"a.txt": "a\n"})
        (folder / "a.txt").write_text("uncommitted\n")
    else:
        folder.mkdir()
        (folder / "a.txt").write_text("a\n")
    subprocess.run(["chown", "-R", "12345:12345", str(folder)], check=True)
    if existing_repo:  # the situation is real: plain git refuses this repo
        assert "dubious ownership" in git(folder, "status", check=False, trust=False)
    ws = open_ws(folder)
    result = ws.prepare()
    assert result.snapshot_commit is not None
    ws.begin_request()
    (folder / "b.txt").write_text("b\n")
    assert ws.commit_step(1, "write b.txt")
    (folder / "c.txt").write_text("c\n")
    assert "b/c.txt" in ws.diff() and sorted(ws.changed_files()) == ["b.txt", "c.txt"]
    (folder / "c.txt").unlink()
    assert ws.undo().files == ["b.txt"]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
@pytest.mark.parametrize("open_ws", ["box"], indirect=True)  # local: git runs as the user running eval-agent
def test_root_leaves_git_files_to_the_folders_owner(tmp_path, open_ws):
    """eval-agent run as root on a user's folder: .git and undone files stay the user's."""
    folder = tmp_path / "users-project"
    folder.mkdir()
    (folder / "a.txt").write_text("mine\n")
    os.chown(folder, 12345, 12345)
    os.chown(folder / "a.txt", 12345, 12345)
    workspace = open_ws(folder, run_id="owner")
    workspace.prepare()
    workspace.begin_request()
    (folder / "a.txt").write_text("agent\n")
    workspace.commit_step(1, "edit a.txt")
    workspace.undo()
    root_owned = [str(p) for p in [folder, *folder.rglob("*")] if p.lstat().st_uid == 0]
    assert root_owned == []
    assert (folder / "a.txt").read_text() == "mine\n"


@pytest.mark.parametrize("kind", ["worktree", "submodule"])
def test_a_checkout_whose_dot_git_is_a_confirmed_pointer_commits_there(tmp_path, open_ws, kind):
    """A linked worktree or a submodule checkout: its .git is a file, confirmed by the repository
    it points at (outside the workspace), so steps are committed on that checkout's branch."""
    main = user_repo(tmp_path / "main", {"a.txt": "a\n"})
    if kind == "worktree":
        git(main, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
        folder = tmp_path / "wt"
    else:
        inner = user_repo(tmp_path / "inner", {"i.txt": "i\n"})
        git(main, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
        folder = main / "sub"
    assert (folder / ".git").is_file()
    ws = open_ws(folder)
    ws.prepare()
    assert not ws.disabled
    ws.begin_request()
    (folder / "new.txt").write_text("agent\n")
    sha = ws.commit_step(1, "write new.txt")
    assert sha and git(folder, "rev-parse", "HEAD").strip() == sha
    assert "new.txt" in git(folder, "show", "--name-only", "--format=", sha)
    ws.undo()
    assert not (folder / "new.txt").exists()


def test_a_dot_git_pointer_the_repository_does_not_confirm_is_refused(tmp_path, open_ws):
    other = user_repo(tmp_path / "other", {"o.txt": "o\n"})
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / ".git").write_text(f"gitdir: {other}/.git\n")
    ws = open_ws(folder)
    ws.prepare()
    assert "does not list this folder" in ws.disabled
    assert ws.begin_request() is None and ws.commit_step(1, "x") is None
    with pytest.raises(UsageError, match="not committed"):
        ws.diff()
