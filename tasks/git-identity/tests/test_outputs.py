import subprocess

REPO = "/app/notes"


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_one_commit_with_the_message():
    assert git("log", "-1", "--format=%s") == "Add meeting notes"
    assert git("rev-list", "--count", "HEAD") == "2"
    assert set(git("show", "--name-only", "--format=", "HEAD").split()) == {"README.md", "meetings/2026-12-07.md"}


def test_made_with_the_machines_identity():
    assert git("log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Release Bot <release-bot@example.com>|Release Bot <release-bot@example.com>")


def test_the_identity_is_unchanged_and_the_tree_clean():
    assert "Release Bot" in open("/root/.gitconfig").read()
    local = subprocess.run(["git", "-C", REPO, "config", "--local", "--get-regexp", r"^user\."],
                           capture_output=True, text=True, timeout=30)
    assert local.stdout == "", "no identity of the repository's own"
    assert git("status", "--porcelain") == ""
