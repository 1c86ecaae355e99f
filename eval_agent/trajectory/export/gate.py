"""The redaction gate every exported record passes before it is written.

1. Redact: values of secret-like environment variables and the common secret patterns (the
   same Redactor the recorder uses) become a placeholder.
2. Scan what is about to be written with detect-secrets; if anything is still found, refuse:
   the export stops, names the run and the field, and writes nothing.

The scan uses detect-secrets' token-format plugins (AWS, GitHub, GitLab, Slack, Stripe, OpenAI,
JWT, private keys, basic auth in URLs, ...). Its heuristic plugins are off: the entropy ones flag
every git hash and base64 blob and the keyword one every `password = ...` line of ordinary code,
so an agent's work could never be exported; the public-IP one flags addresses, not secrets."""

from __future__ import annotations

import contextlib
import re
from re import _constants, _parser  # to read the patterns' literals (see required_literals)
from typing import Any

from ...errors import EvalAgentError
from ..redact import Redactor

HEURISTIC_PLUGINS = {"Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector", "IPPublicDetector"}
CLEAN_CACHE_SIZE = 200_000  # strings already scanned clean (system prompts and tool schemas repeat)


class SecretFound(EvalAgentError):
    exit_code = 1


def scanner_plugins() -> list[str]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return sorted(plugin.__name__ for plugin in get_mapping_from_secret_type_to_class().values()
                  if plugin.__name__ not in HEURISTIC_PLUGINS)


class SecretGate:
    def __init__(self, environ: dict[str, str] | None = None):
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import transient_settings

        self.redactor = Redactor(environ)
        self.plugin_names = scanner_plugins()
        self._settings = contextlib.ExitStack()
        self._settings.enter_context(transient_settings({"plugins_used": [{"name": n} for n in self.plugin_names]}))
        from detect_secrets.settings import get_plugins

        # each plugin's own patterns, run first: only a string that one of them matches goes
        # through detect-secrets' full scan (its filters decide), so clean text costs one pass.
        # A pattern runs only on text that holds the literals any match of it must hold.
        self._patterns = [(pattern, required_literals(pattern))
                          for plugin in get_plugins() for pattern in getattr(plugin, "denylist", ())]
        self._literals = sorted({literal for _, clauses in self._patterns for clause in clauses for literal in clause})
        self._by_literals: dict[frozenset[str], list[re.Pattern]] = {}
        self._scan_line = scan_line
        self._clean: set[int] = set()
        self.scanned = 0

    @property
    def redactions(self) -> int:
        return self.redactor.count

    def close(self) -> None:
        self._settings.close()

    def __enter__(self) -> "SecretGate":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def clean(self, record: Any, run_id: str) -> Any:
        """The record, redacted; raises SecretFound when a secret survives redaction."""
        return self._clean_value(record, run_id, "")

    def _clean_value(self, value: Any, run_id: str, where: str) -> Any:
        if isinstance(value, str):
            return self._clean_text(value, run_id, where)
        if isinstance(value, dict):
            return {key: self._clean_value(item, run_id, f"{where}.{key}" if where else str(key)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._clean_value(item, run_id, f"{where}[{index}]") for index, item in enumerate(value)]
        return value

    def _clean_text(self, text: str, run_id: str, where: str) -> str:
        key = hash(text)
        if key in self._clean:  # seen before: nothing to redact, nothing found
            return text
        redacted = self.redactor.text(text)
        finding = self.find(redacted)
        if finding is not None:
            raise SecretFound(f"refusing to export: run {run_id}, field {where or 'record'} still holds a "
                              f"{finding} after redaction (detect-secrets); nothing was written. "
                              "Leave the run out (e.g. --until, --status) or remove the secret from its record.")
        if redacted is text or redacted == text:
            if len(self._clean) >= CLEAN_CACHE_SIZE:
                self._clean.clear()
            self._clean.add(key)
        return redacted

    def _candidates(self, present: frozenset[str]) -> list[re.Pattern]:
        """The patterns whose required literals are all in the text (few distinct sets recur)."""
        candidates = self._by_literals.get(present)
        if candidates is None:
            candidates = [pattern for pattern, clauses in self._patterns
                          if all(not clause.isdisjoint(present) for clause in clauses)]
            self._by_literals[present] = candidates
        return candidates

    def find(self, text: str) -> str | None:
        """The type of the first secret detect-secrets finds in `text`, else None."""
        self.scanned += 1
        folded = fold(text)
        present = frozenset(literal for literal in self._literals if literal in folded)
        if any(pattern.search(text) for pattern in self._candidates(present)):
            for line in text.splitlines():
                for secret in self._scan_line(line):
                    return secret.type
        return None


# characters that re.IGNORECASE matches to an ASCII letter but str.casefold() does not turn into it
_FOLD_EXTRA = str.maketrans({"\u0131": "i"})


def fold(text: str) -> str:
    return text.casefold().translate(_FOLD_EXTRA)


def required_literals(pattern: re.Pattern) -> list[frozenset[str]]:
    """What every match of `pattern` must contain, as clauses (each: at least one of these
    strings, casefolded): a sound, cheap test run before the regex. [] when nothing is certain."""
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # a private parser: if it changes, every pattern simply runs
        return []
    return _clauses(list(tree))


def _clauses(items: list) -> list[frozenset[str]]:
    clauses: list[frozenset[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            clauses.append(frozenset({fold("".join(run))}))
            run.clear()

    for op, value in items:
        if op is _constants.LITERAL:
            run.append(chr(value))
            continue
        close_run()
        if op is _constants.SUBPATTERN:
            clauses += _clauses(list(value[-1]))
        elif op is _constants.BRANCH:
            best = [_most_selective(_clauses(list(alternative))) for alternative in value[1]]
            if all(best):  # every alternative needs one of its literals: the match needs one of all
                clauses.append(frozenset().union(*best))
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and value[0] >= 1:
            clauses += _clauses(list(value[2]))
    close_run()
    return clauses


def _most_selective(clauses: list[frozenset[str]]) -> frozenset[str] | None:
    return max(clauses, key=lambda clause: min(len(literal) for literal in clause), default=None)
