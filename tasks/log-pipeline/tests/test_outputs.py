from pathlib import Path


def test_top_ips():
    assert Path("/app/top_ips.txt").read_text().splitlines() == ["125 10.0.0.1", "83 10.0.0.3", "55 10.0.0.7"]


def test_server_errors():
    assert Path("/app/server_errors.txt").read_text().strip() == "38"
