import subprocess

REPO = "/app/repo"


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_release_branch_has_the_release_commit():
    assert git("log", "-1", "--format=%s", "release-1.0") == "Release 1.0"
    assert "## 1.0" in git("show", "release-1.0:CHANGELOG.md")
    assert git("rev-parse", "release-1.0~1") == git("rev-parse", "main")


def test_main_is_unchanged():
    assert git("log", "-1", "--format=%s", "main") == "Add changelog"
    assert git("rev-list", "--count", "main") == "2"


def test_annotated_tag_on_the_release_commit():
    assert git("cat-file", "-t", "v1.0") == "tag"
    assert git("rev-parse", "v1.0^{commit}") == git("rev-parse", "release-1.0")


def test_working_tree_is_clean():
    assert git("status", "--porcelain") == ""
