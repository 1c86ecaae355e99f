"""Escapes through git: the agent poisons the workspace's repository from inside the sandbox, then
eval-agent commits its steps, shows /diff and performs /undo. Nothing of it may run on the host.

Each vector is a real run (scripted model, real sandbox, real git box) followed by the same calls
the REPL's /diff and /undo make; the canary (see conftest) must stay untouched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import PLAN, bash, cli_env, finish
from repl_pty import ReplUnderPty

FILE_CHANGE = bash("echo one >> a.txt && echo two >> notes.md")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false", *args], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def vectors(canary) -> dict[str, list[dict]]:
    """name -> the agent's poisoning actions (each vector's payload is written first)."""
    p = canary.command
    inc = "[core]\\n\\tfsmonitor = " + p("include")
    return {
        "filter-clean": [bash(f"git config filter.pwn.clean '{p('filter-clean')}' && echo '* filter=pwn' > .gitattributes")],
        "filter-smudge": [bash(f"git config filter.pwn.smudge '{p('filter-smudge')}' && git config filter.pwn.clean cat"
                               " && echo '* filter=pwn' > .gitattributes")],
        "filter-process": [bash(f"git config filter.pwn.process '{p('filter-process')}'"
                                " && echo '* filter=pwn' > .gitattributes")],
        "fsmonitor": [bash(f"git config core.fsmonitor '{p('fsmonitor')}'")],
        "diff-external": [bash(f"git config diff.external '{p('diff-external')}'")],
        "textconv": [bash(f"git config diff.pwn.textconv '{p('textconv')}' && git config diff.pwn.cachetextconv false"
                          " && echo '* diff=pwn' > .gitattributes")],
        "merge-driver": [bash(f"git config merge.pwn.driver '{p('merge-driver')}' && echo '* merge=pwn' > .gitattributes")],
        "include-path": [bash(f"printf '{inc}\\n' > .pwn/inc.cfg && git config include.path ../.pwn/inc.cfg")],
        "include-if": [bash(f"printf '{inc}\\n' > .pwn/inc.cfg && git config includeIf.gitdir:/.path ../.pwn/inc.cfg")],
        "ssh-command": [bash(f"git config core.sshCommand '{p('ssh-command')}' && git config core.gitProxy '{p('ssh-command')}'"
                             " && git remote add origin ssh://example.invalid/r.git")],
        "pager": [bash(f"git config core.pager '{p('pager')}' && git config pager.diff '{p('pager')}'"
                       f" && git config pager.status '{p('pager')}' && git config pager.log '{p('pager')}'")],
        "editor": [bash(f"git config core.editor '{p('editor')}' && git config sequence.editor '{p('editor')}'")],
        "credential-helper": [bash(f"git config credential.helper '!{p('credential-helper')}'")],
        "gpg-program": [bash(f"git config gpg.program '{p('gpg-program')}' && git config gpg.ssh.program '{p('gpg-program')}'"
                             " && git config commit.gpgSign true && git config tag.gpgSign true"
                             " && git config user.signingKey ABCDEF")],
        "hooks-path": [bash("mkdir -p .pwn/hooks && for h in pre-commit commit-msg post-commit post-checkout "
                            "post-index-change reference-transaction post-rewrite pre-auto-gc; do "
                            f"printf '#!/bin/sh\\n{p('hooks-path')}\\n' > .pwn/hooks/$h; chmod +x .pwn/hooks/$h; done"
                            " && git config core.hooksPath .pwn/hooks")],
        "hooks-in-git-dir": [bash("for h in pre-commit commit-msg post-commit post-checkout post-index-change "
                                  f"reference-transaction; do printf '#!/bin/sh\\n{p('hooks-in-git-dir')}\\n' > .git/hooks/$h;"
                                  " chmod +x .git/hooks/$h; done")],
        "nested-repository": [bash("mkdir -p sub && cd sub && git init -q && "
                                   f"git config core.fsmonitor '{p('nested-repository')}' && "
                                   "echo x > f && git add f && git -c user.name=a -c user.email=a@b commit -qm x && cd .. && "
                                   "git config submodule.recurse true && git config status.submoduleSummary true && "
                                   "git config diff.submodule log"),
                              bash("echo y >> sub/f")],
    }


VECTOR_NAMES = ["filter-clean", "filter-smudge", "filter-process", "fsmonitor", "diff-external", "textconv",
                "merge-driver", "include-path", "include-if", "ssh-command", "pager", "editor",
                "credential-helper", "gpg-program", "hooks-path", "hooks-in-git-dir", "nested-repository"]


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_a_poisoned_repository_runs_nothing_on_the_host(name, canary, scripted_session):
    workspace = canary.workspace
    (workspace / "a.txt").write_text("the user's file\n")
    payloads = [canary.write_payload(n) for n in (name, "include")]
    events: list = []
    session = scripted_session(workspace, [*payloads, *vectors(canary)[name], FILE_CHANGE], events)
    result = session.run("poison the repository")
    assert result.outcome.status == "finished"
    steps = [e for e in events if e.type == "tool_finished" and e.tool != "finish"]
    assert steps[-1].commit, "the last step (a file change) was committed all the same"

    # what /diff and /undo do, over the poisoned repository
    assert "+two" in session.workspace.diff()
    undone = session.workspace.undo()
    assert sorted(undone.files) == ["a.txt", "notes.md"]
    assert "two" not in (workspace / "a.txt").read_text() and not (workspace / "notes.md").exists()
    session.close()

    assert canary.tripped() == [], f"{name}: something ran on the host"
    warnings = [e.message for e in events if e.type == "notice" and e.level == "warning"]
    assert any("changed the repository settings" in w for w in warnings), "the user is told to check"


def test_the_two_attacks_of_the_report_leave_nothing_on_the_host(canary, scripted_session):
    """Issue #12's own reproduction: a clean filter and core.fsmonitor, then one more change."""
    host_dir = canary.folder
    session = scripted_session(canary.workspace, [
        bash(f"git config filter.pwn.clean 'sh -c \"id > {host_dir}/PWNED_FILTER; cat\"' && "
             f"echo '*.txt filter=pwn' > .gitattributes && "
             f"git config core.fsmonitor 'sh -c \"id > {host_dir}/PWNED_FSMON\"; true'; echo hi > a.txt"),
        bash("echo more >> a.txt"),
    ])
    result = session.run("x")
    assert result.outcome.status == "finished"
    session.close()
    assert canary.tripped() == []
    assert git(canary.workspace, "log", "-1", "--format=%s").startswith("eval-agent step 2")


@pytest.fixture
def other_repo(tmp_path, canary) -> Path:
    """A host repository the agent must not reach, whose own config would trip the canary."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "precious.txt").write_text("mine\n")
    git(other, "add", "precious.txt")
    git(other, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "precious")
    trip = tmp_path / "other-repo-trip.sh"
    trip.write_text(canary.script("other-repo"))
    subprocess.run(["git", "config", "core.fsmonitor", f"sh {trip}"], cwd=other, check=True)
    return other


@pytest.mark.parametrize("how", ["gitfile", "symlink"])
def test_a_dot_git_pointing_at_another_host_repository_is_never_followed(how, canary, other_repo, scripted_session):
    workspace = canary.workspace
    head = git(other_repo, "rev-parse", "HEAD")
    replace = (f"rm -rf .git && printf 'gitdir: {other_repo}/.git\\n' > .git" if how == "gitfile"
               else f"mv .git .git-mine && ln -s {other_repo}/.git .git")
    events: list = []
    session = scripted_session(workspace, [bash(replace), bash("echo agent > agent.txt")], events)
    assert session.run("x").outcome.status == "finished"
    session.close()
    warnings = [e.message for e in events if e.type == "notice" and e.level == "warning"]
    assert any("not committed" in w for w in warnings), warnings

    # a later session on the same folder does not take the pointer either
    later: list = []
    again = scripted_session(workspace, [bash("echo again > again.txt")], later)
    assert again.run("y").outcome.status == "finished"
    assert any("steps are not committed" in e.message for e in later if e.type == "notice"), "said once, at the start"
    again.close()

    assert canary.tripped() == []
    assert git(other_repo, "rev-parse", "HEAD") == head, "the other repository got no commit"
    assert git(other_repo, "status", "--porcelain") == "", "nor any staged file"


def test_the_repls_diff_and_undo_over_a_poisoned_repository(tmp_path, eval_home, scripted_server, sandbox_image,
                                                            canary, repls):
    p = canary.command
    poison = ("git config diff.external '{0}' && git config diff.pwn.textconv '{0}' && "
              "git config core.fsmonitor '{0}' && git config filter.pwn.smudge '{0}' && "
              "git config filter.pwn.clean '{0}' && git config merge.pwn.driver '{0}' && "
              "git config core.pager '{0}' && git config core.hooksPath .pwn && "
              "printf '* diff=pwn filter=pwn merge=pwn\\n' > .gitattributes").format(p("repl"))
    server = scripted_server([PLAN, canary.write_payload("repl"), bash(poison),
                              bash("echo changed >> a.txt"), finish("poisoned")])
    (canary.workspace / "a.txt").write_text("mine\n")
    repl = ReplUnderPty(["--model", "openai:demo"], cli_env(eval_home, server), canary.workspace)
    repls.append(repl)
    repl.expect(r"ws ›")
    repl.send_line("poison it")
    repl.expect(r"changed the repository settings")
    repl.expect(r"ws ›")
    repl.send_line("/diff")
    repl.expect(r"\+changed")
    repl.send_line("/undo")
    repl.expect(r"files back as they were: [^\n]*a\.txt")
    repl.expect(r"ws ›")
    repl.child.sendeof()
    assert repl.wait_exit() == 0
    assert (canary.workspace / "a.txt").read_text() == "mine\n"
    assert canary.tripped() == []
