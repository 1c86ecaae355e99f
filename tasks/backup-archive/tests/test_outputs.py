import subprocess
import tarfile


def test_archive_members():
    with tarfile.open("/app/backup.tar.gz", "r:gz") as archive:
        files = {member.name.removeprefix("./") for member in archive.getmembers() if member.isfile()}
        assert files == {"data/index.csv", "data/reports/q1.txt", "data/reports/q2.txt"}
        assert archive.extractfile("data/reports/q2.txt").read() == b"q2 revenue: 140\n"


def test_checksum_file():
    done = subprocess.run(["sha256sum", "-c", "backup.sha256"], cwd="/app", capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "backup.tar.gz" in open("/app/backup.sha256").read()
