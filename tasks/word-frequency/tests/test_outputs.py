import subprocess
from pathlib import Path


def run(text: str, n: int, tmp_path: Path) -> list[str]:
    path = tmp_path / "input.txt"
    path.write_text(text)
    done = subprocess.run(["python3", "/app/wordfreq.py", str(path), str(n)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_counts_and_order(tmp_path):
    text = "Beta alpha, beta! GAMMA beta alpha delta"
    assert run(text, 3, tmp_path) == ["beta 3", "alpha 2", "delta 1"]


def test_ties_are_alphabetical_and_punctuation_splits(tmp_path):
    assert run("don't stop; don't STOP-go", 10, tmp_path) == ["don 2", "stop 2", "t 2", "go 1"]


def test_fewer_words_than_asked(tmp_path):
    assert run("one", 5, tmp_path) == ["one 1"]


def test_sample_file():
    done = subprocess.run(["python3", "/app/wordfreq.py", "/app/sample.txt", "2"], capture_output=True, text=True, timeout=30)
    assert done.stdout.splitlines() == ["the 4", "dog 3"]
