import subprocess

import pytest


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/app/fib", *args], capture_output=True, text=True, timeout=10)


def test_source_exists():
    with open("/app/fib.c") as file:
        assert "main" in file.read()


@pytest.mark.parametrize("n", [0, 1, 2, 10, 50, 90])
def test_values(n):
    done = run(str(n))
    assert done.returncode == 0
    assert done.stdout == f"{fib(n)}\n"


@pytest.mark.parametrize("args", [[], ["-1"], ["abc"], ["91"]])
def test_bad_arguments(args):
    done = run(*args)
    assert done.returncode == 2
    assert done.stderr.strip() and not done.stdout
