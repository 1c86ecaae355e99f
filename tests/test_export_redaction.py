"""The redaction gate: a canary for every secret pattern (and a secret environment variable's
value) that must not survive any export format; and a secret only detect-secrets knows makes the
export refuse, name the run and the field, and write nothing."""

from __future__ import annotations

import pytest

from conftest import cli_env, run_cli
from eval_agent.trajectory.redact import SECRET_FORMATS
from eval_agent.trajectory.synthetic import SyntheticRun, write_run

ENV_CANARY = "tok-canary-value-1234567"  # no known format: only the variable's name says it is secret
CANARIES = {
    "anthropic": "sk-ant-api03-Canary0123456789abcdefghijklmnopqrstuvwxyz",
    "openai": "sk-proj-Canary0123456789abcdefghijklmnopqrstuvwxyzAB",
    "github": "ghp_Canary0123456789abcdefghijklmnopqrstu",
    "github_pat": "github_pat_11Canary0123456789abcdefghijklmnopqrstuvwxyz",
    "aws": "AKIACANARY0123456789",
    "slack": "xoxb-123456789012-1234567890123-Canaryabcdefghijklmnop",
    "huggingface": "hf_Canary0123456789abcdefghijklmnopqrs",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjYW5hcnkxMjM0NTY3ODkwIn0.Q2FuYXJ5c2lnbmF0dXJlMDEyMzQ1Njc4OQ",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAcanaryKEYmaterial0123456789\n-----END RSA PRIVATE KEY-----",
    "bearer": "CanaryBearer0123456789abcdef",
    "url_password": "deploy:Canary-pass-0123@",
}
SHOWN = {"bearer": "curl -H 'Authorization: Bearer {}' https://api.example.com",
         "url_password": "git clone https://{}example.com/repo.git"}


def test_every_pattern_has_a_canary():
    assert set(CANARIES) == set(SECRET_FORMATS)


@pytest.fixture(scope="module")
def leaky_home(tmp_path_factory):
    """Runs whose commands and outputs hold every canary, as a careless recording might."""
    home = tmp_path_factory.mktemp("redaction") / "home"
    for index, (name, canary) in enumerate(CANARIES.items()):
        shown = SHOWN.get(name, "{}").format(canary)  # some secrets are secrets only in their context
        write_run(home, SyntheticRun(run_id=f"leak-{name}", started_at=1_790_000_000 + index, steps=2,
                                     commands=[f"echo {shown}", "env"], secret=shown, request=f"use the {name} key: {shown}"))
    write_run(home, SyntheticRun(run_id="leak-env", started_at=1_790_000_100, steps=1, commands=[f"echo {ENV_CANARY}"],
                                 secret=ENV_CANARY))
    return home


@pytest.mark.parametrize("fmt", ["openai", "trl", "sharegpt", "alpaca"])
def test_no_canary_survives_any_format(leaky_home, tmp_path, fmt):
    out = tmp_path / ("train.jsonl" if fmt == "openai" else fmt)
    result = run_cli(["export", "--format", fmt, "--out", str(out)], cli_env(leaky_home, MY_SERVICE_TOKEN=ENV_CANARY))
    assert result.returncode == 0, result.stderr
    assert f"exported {len(CANARIES) + 1} of {len(CANARIES) + 1} runs" in result.stdout
    redactions = int(result.stdout.split("redactions ")[1].split()[0].replace(",", ""))
    assert redactions >= 3 * len(CANARIES), "each canary sits in the request, a command and an output"
    files = [out] if out.is_file() else [path for path in out.rglob("*") if path.is_file()]
    if fmt == "trl":  # parquet compresses: read the values back
        import datasets

        dataset = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf-cache"))
        written = "\n".join(str(row) for row in dataset)
    else:
        written = "\n".join(path.read_text() for path in files)
    for name, canary in CANARIES.items():
        core = canary.splitlines()[1] if name == "private_key" else canary.rstrip("@")
        assert core not in written, f"the {name} canary survived"
    assert ENV_CANARY not in written
    assert "[REDACTED]" in written


def test_a_secret_redaction_misses_stops_the_export_and_writes_nothing(tmp_path):
    home = tmp_path / "home"
    write_run(home, SyntheticRun(run_id="fine-run", steps=1, started_at=1_790_000_000))
    stripe = "sk_live_" + "Canary0123456789abcdefgh"  # a Stripe key: not a pattern of ours, detect-secrets knows it
    write_run(home, SyntheticRun(run_id="stripe-run", steps=2, started_at=1_790_000_001, secret=stripe))
    for fmt, out in (("openai", tmp_path / "train.jsonl"), ("trl", tmp_path / "trl")):
        result = run_cli(["export", "--format", fmt, "--out", str(out)], cli_env(home))
        assert result.returncode == 1, result.stdout + result.stderr
        message = " ".join(result.stderr.split())
        assert "refusing to export: run stripe-run" in message and "Stripe Access Key" in message
        assert "field messages[" in message and "nothing was written" in message and "Traceback" not in result.stderr
        assert not out.exists(), "nothing is written"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home"], "no partial output is left behind"
    ok = run_cli(["export", "--format", "openai", "--out", str(tmp_path / "ok.jsonl"), "--until", "2026-09-21T14:13:21"],
                 cli_env(home))
    assert ok.returncode == 0 and "exported 1 of 2 runs" in ok.stdout, "leaving the run out lets the rest through"
