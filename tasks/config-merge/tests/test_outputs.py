import json
import subprocess

EXPECTED = {
    "server": {"host": "127.0.0.1", "port": 9000, "tls": {"enabled": True, "cert": "/etc/certs/shop.pem"}},
    "logging": {"level": "info", "handlers": ["file"]},
    "features": {"beta": True, "search": True},
    "name": "shop",
    "debug": True,
}


def test_merged_file():
    text = open("/app/config/merged.json").read()
    assert json.loads(text) == EXPECTED
    assert text.strip() == json.dumps(EXPECTED, indent=2, sort_keys=True)


def test_merge_script_on_other_files(tmp_path):
    base, override = tmp_path / "base.json", tmp_path / "override.json"
    base.write_text(json.dumps({"a": {"b": 1, "c": [1, 2]}, "d": {"e": 1}}))
    override.write_text(json.dumps({"a": {"c": [3], "f": None}, "d": 5}))
    done = subprocess.run(["python3", "/app/merge.py", str(base), str(override)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"a": {"b": 1, "c": [3], "f": None}, "d": 5}
