"""The gate's RE2 first pass must never let through a text that an exact pattern matches (else
a secret would reach an export unscanned), and should let ordinary work through untouched (else
it saves nothing). Every detect-secrets pattern and every redaction format is checked against
texts that Hypothesis generates to match it, in random surroundings."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval_agent.trajectory.export.gate import SecretGate
from eval_agent.trajectory.export.prefilter import PatternSet, widen
from eval_agent.trajectory.redact import SECRET_FORMATS, SECRET_PATTERNS


def _gate_patterns() -> list[tuple[str, re.Pattern]]:
    from detect_secrets.settings import get_plugins

    with SecretGate({}):
        found = [(f"{type(plugin).__name__}-{index}", pattern) for plugin in get_plugins()
                 for index, pattern in enumerate(getattr(plugin, "denylist", ()))]
    return found + [(f"ours-{name}", pattern) for name, pattern in zip(SECRET_FORMATS, SECRET_PATTERNS)]


PATTERNS = _gate_patterns()
ALL = PatternSet([pattern for _, pattern in PATTERNS])


def test_every_pattern_is_widened_into_the_set():
    assert len(PATTERNS) > 40, "detect-secrets' plugins were not loaded"
    assert ALL.always == [], "every shipped pattern has an RE2 superset: none has to run on every text"


@pytest.mark.parametrize("index", range(len(PATTERNS)), ids=[name for name, _ in PATTERNS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_text_an_exact_pattern_matches_is_always_a_candidate(index, data):
    pattern = PATTERNS[index][1]
    text = data.draw(st.from_regex(pattern))  # a match somewhere, any text around it
    joined = data.draw(st.sampled_from(["{}", "before\n{}", "{}\nafter", "x = '{}'"])).format(text)
    for sample in (text, joined):
        if pattern.search(sample):
            assert index in ALL.candidates(sample), f"{pattern.pattern!r} matches {sample!r}, the set missed it"


def test_unicode_classes_and_case_folding_are_widened_never_narrowed():
    everything = "".join(chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000)
    import re2

    cases = [re.compile(p) for p in (r"\d", r"\w", r"\s", r"\D", r"\W", r"\S", r"[^\d]", r"[^\w]", r"[^\s]",
                                     r"[^/\s@]", r"[\w.-]", ".")]
    cases += [re.compile(letter, re.IGNORECASE) for letter in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    cases += [re.compile(r"[a-z]", re.IGNORECASE), re.compile(r"[H-K]", re.IGNORECASE)]
    for pattern in cases:
        python = "".join(pattern.findall(everything))
        if re2.fullmatch(f"(?:{widen(pattern)})*", python) is None:  # one call; then find the culprits
            widened = re2.compile(widen(pattern))
            missed = [hex(ord(char)) for char in python if not widened.fullmatch(char)]
            pytest.fail(f"{pattern.pattern!r} (flags {pattern.flags}): RE2 misses {missed[:5]}")


def test_ordinary_work_is_not_a_candidate():
    work = "\n".join([
        "$ python3 -m pytest -q tests/test_app.py", "....F.", "FAILED tests/test_app.py::test_post - KeyError: 'title'",
        "def login(user, password):", "    token = make_token(user)  # never logged", "    return {'key': token}",
        "commit 5dcd5b5e8f0a3c1b2d4e6f7a8b9c0d1e2f3a4b5c", "https://github.com/acme/todo/blob/main/app.py#L12",
        "Authorization header missing", "curl -s localhost:8000/todos", "AWS_REGION=eu-west-1 aws s3 ls",
    ])
    assert ALL.candidates(work) == []


def test_a_lookbehind_that_opens_a_pattern_keeps_the_set_selective():
    bearer = SECRET_PATTERNS[list(SECRET_FORMATS).index("bearer")]
    index = [pattern for _, pattern in PATTERNS].index(bearer)
    assert index not in ALL.candidates("see tests/test_handlers_and_views.py for details")
    assert index in ALL.candidates("Authorization: Bearer abcdefghijklmnop0123")


def test_what_re2_cannot_take_runs_on_every_text():
    conditional = re.compile(r"(a)?(?(1)b|c)secret")  # no RE2 superset is built for a conditional group
    patterns = PatternSet([conditional, re.compile(r"AKIA[0-9A-Z]{16}")])
    assert patterns.always == [0]
    assert patterns.candidates("nothing here") == [0]
    assert patterns.candidates("key AKIA0123456789ABCDEF") == [0, 1]


def test_a_lone_surrogate_makes_every_pattern_a_candidate():
    text = "output with a broken byte \udc80 and no secret"  # RE2 reads UTF-8 only
    assert ALL.candidates(text) == list(range(len(PATTERNS)))
