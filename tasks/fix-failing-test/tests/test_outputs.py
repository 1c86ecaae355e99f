import hashlib
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, "/app")

ORIGINAL_TESTS_SHA256 = "1ebe5c0b3161cc2a0c36574eec153ce0076f3ae82e332a5133adf0d5d679831b"


def test_project_tests_are_unchanged():
    data = Path("/app/tests/test_stock.py").read_bytes()
    assert hashlib.sha256(data).hexdigest() == ORIGINAL_TESTS_SHA256


def test_project_suite_passes():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd="/app", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hidden_cases():
    from inventory.stock import OutOfStock, Stock

    stock = Stock()
    stock.add("gear", 2, 3.5)
    stock.add("gear", 1, 3.5)
    assert stock.value() == 10.5
    stock.remove("gear", 3)
    try:
        stock.remove("gear", 1)
    except OutOfStock:
        pass
    else:
        raise AssertionError("removing from an empty stock must raise OutOfStock")
