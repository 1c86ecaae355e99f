"""The plan: a Markdown checklist the model writes first and restates as it works."""

from __future__ import annotations

import re

CHECKLIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[([ xX])\]\s+(.+?)\s*$", re.MULTILINE)


def parse_checklist(text: str) -> list[dict]:
    """The checklist items in `text` ({"text", "done"}), or [] when it holds none."""
    return [{"text": match.group(2), "done": match.group(1) != " "} for match in CHECKLIST_ITEM.finditer(text or "")]
