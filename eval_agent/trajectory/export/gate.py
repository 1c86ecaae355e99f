"""The redaction gate every exported record passes before it is written.

1. Redact: values of secret-like environment variables and the common secret patterns (the
   same Redactor the recorder uses) become a placeholder.
2. Scan what is about to be written with detect-secrets; if anything is still found, refuse:
   the export stops, names the run and the field, and writes nothing.

The scan uses detect-secrets' token-format plugins (AWS, GitHub, GitLab, Slack, Stripe, OpenAI,
JWT, private keys, basic auth in URLs, ...). Its heuristic plugins are off: the entropy ones flag
every git hash and base64 blob and the keyword one every `password = ...` line of ordinary code,
so an agent's work could never be exported; the public-IP one flags addresses, not secrets.

Speed: a record's strings not seen clean before are joined and searched once by an RE2 set of
every pattern, widened (prefilter.py); only a record that set matches goes string by string
through the redactor and the exact patterns, and only a string an exact pattern matches goes
through detect-secrets' own scan (its filters decide)."""

from __future__ import annotations

import contextlib
from typing import Any

from ...errors import EvalAgentError
from ..redact import SECRET_PATTERNS, Redactor
from .prefilter import PatternSet

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
        from detect_secrets.settings import get_plugins, transient_settings

        self.redactor = Redactor(environ)
        self.plugin_names = scanner_plugins()
        self._settings = contextlib.ExitStack()
        self._settings.enter_context(transient_settings({"plugins_used": [{"name": n} for n in self.plugin_names]}))
        plugins = get_plugins()
        self._patterns = [pattern for plugin in plugins for pattern in getattr(plugin, "denylist", ())]
        # a plugin that finds secrets without patterns (none of detect-secrets' own today) sees every string
        self._unfiltered = any(not getattr(plugin, "denylist", None) for plugin in plugins)
        # the plugins' patterns first, then the redaction formats: any hit sends a record down the exact path
        self._prefilter = PatternSet(self._patterns + SECRET_PATTERNS)
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
        strings: list[str] = []
        _collect(record, strings)
        fresh = {key: text for text in strings if (key := hash(text)) not in self._clean}
        if not fresh:
            return record
        joined = "\n".join(fresh.values())  # detect-secrets scans line by line: a join adds no finding it would make
        if not (self._unfiltered or self._prefilter.candidates(joined) or any(v in joined for v in self.redactor.values)):
            self._remember(fresh)
            return record
        return self._clean_value(record, run_id, "")

    def _remember(self, keys) -> None:
        if len(self._clean) >= CLEAN_CACHE_SIZE:
            self._clean.clear()
        self._clean.update(keys)

    def _clean_value(self, value: Any, run_id: str, where: str) -> Any:
        if isinstance(value, str):
            return self._clean_text(value, run_id, where)
        if isinstance(value, dict):  # keys too: a tool call's arguments come from the model
            return {self._clean_value(key, run_id, f"{where or 'record'} (a key)"):
                    self._clean_value(item, run_id, f"{where}.{key}" if where else str(key)) for key, item in value.items()}
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
            self._remember((key,))
        return redacted

    def find(self, text: str) -> str | None:
        """The type of the first secret detect-secrets finds in `text`, else None."""
        self.scanned += 1
        plugins = len(self._patterns)
        if self._unfiltered or any(self._patterns[index].search(text)
                                   for index in self._prefilter.candidates(text) if index < plugins):
            for line in text.splitlines():
                for secret in self._scan_line(line):
                    return secret.type
        return None


def _collect(value: Any, strings: list[str]) -> None:
    """Every string inside dicts and lists, keys included."""
    if isinstance(value, str):
        strings.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(key, strings)
            _collect(item, strings)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, strings)
