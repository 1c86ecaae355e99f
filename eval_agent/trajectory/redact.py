"""Secret redaction: applied to everything recorded, and again to everything exported.

Two kinds of secret are replaced with a placeholder: the values of secret-like environment
variables (names with KEY, TOKEN, SECRET, PASSWORD, CREDENTIAL), and the common credential
formats below. The formats are one alternation, so a string is searched once, not once a format."""

from __future__ import annotations

import os
import re
from typing import Any

PLACEHOLDER = "[REDACTED]"
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
SECRET_FORMATS = {
    "anthropic": r"sk-ant-[A-Za-z0-9_-]{20,}",
    "openai": r"sk-(?:proj-)?[A-Za-z0-9_-]{20,}",
    "github": r"gh[pousr]_[A-Za-z0-9]{30,}",
    "github_pat": r"github_pat_[A-Za-z0-9_]{30,}",
    "aws": r"(?:AKIA|ASIA)[0-9A-Z]{16}",
    "slack": r"xox[abposr]-[A-Za-z0-9-]{10,}",
    "huggingface": r"hf_[A-Za-z0-9]{30,}",
    "jwt": r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
    "private_key": r"(?s:-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----)",
    "bearer": r"(?<=Bearer )[A-Za-z0-9._~+/=-]{16,}",
    "url_password": r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",
}
SECRET_PATTERN = re.compile("|".join(f"(?:{pattern})" for pattern in SECRET_FORMATS.values()))
# every format holds one of these; a text with none skips the regex (an alternation scans slowly)
SECRET_MARKERS = ("sk-", "gh", "github_pat_", "AKIA", "ASIA", "xox", "hf_", "eyJ", "PRIVATE KEY", "Bearer ", "://")
SECRET_PATTERNS = [re.compile(pattern) for pattern in SECRET_FORMATS.values()]  # one by one, for tests and tools
MIN_SECRET_LENGTH = 8  # shorter values of secret-named variables are too common to replace


def secret_values(environ: dict[str, str]) -> list[str]:
    """The values of secret-like variables, longest first (so a value that holds another goes whole)."""
    return sorted({value for name, value in environ.items() if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH},
                  key=len, reverse=True)


class Redactor:
    def __init__(self, environ: dict[str, str] | None = None):
        self.values = secret_values(os.environ if environ is None else environ)
        self.count = 0

    def text(self, text: str) -> str:
        for value in self.values:
            if value in text:
                self.count += text.count(value)
                text = text.replace(value, PLACEHOLDER)
        if any(marker in text for marker in SECRET_MARKERS):
            text, found = SECRET_PATTERN.subn(PLACEHOLDER, text)
            self.count += found
        return text

    def finds(self, text: str) -> bool:
        """Whether text() would replace anything, without counting or replacing."""
        return any(value in text for value in self.values) or (
            any(marker in text for marker in SECRET_MARKERS) and SECRET_PATTERN.search(text) is not None)

    def data(self, value: Any) -> Any:
        """Redacts every string inside dicts and lists."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(item) for item in value]
        return value
