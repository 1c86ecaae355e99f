"""A fast, sound first pass for the redaction gate: every secret pattern (detect-secrets' and our
own), widened into RE2 syntax and searched all at once by RE2's automaton in one linear pass.

Widened: each RE2 pattern matches at least whatever the Python pattern matches; where RE2 lacks a
construct, it matches more. Anchors, word boundaries and lookarounds are dropped (a lookbehind
that opens the pattern, or a lookahead that closes it, is kept as plain text around the match); a backreference
becomes "anything"; \\d, \\w and \\s become their Unicode supersets (inside [^...] their ASCII
subsets, which widens the complement); counts over 100 become "or more". So a text that the set
does not match cannot match the Python pattern, and only texts that it does match go on to the
exact (slow) Python patterns. A pattern that cannot be widened (a conditional group, a negated
class under IGNORECASE) runs in Python on every text."""

from __future__ import annotations

import re
from re import _constants as C, _parser  # the stdlib's own parse of a pattern, to rewrite it

MAX_COUNT = 100  # RE2 unrolls counted repeats; larger upper bounds become unbounded ({m,})
# Python's IGNORECASE equates all four; RE2's case folding only i and I
TURKISH_I = {0x49, 0x69, 0x130, 0x131}

_UNICODE_CLASS = {  # what Python's Unicode \d, \s, \w may match: a superset in RE2 terms
    C.CATEGORY_DIGIT: r"\p{Nd}",
    C.CATEGORY_SPACE: r"\t\n\x{0B}\f\r \x{1C}-\x{1F}\x{85}\p{Z}",
    C.CATEGORY_WORD: r"\p{L}\p{N}_",
}
_ASCII_CLASS = {  # what they surely match: a subset, for use inside [^...]
    C.CATEGORY_DIGIT: "0-9",
    C.CATEGORY_SPACE: r"\t\n\x{0B}\f\r ",
    C.CATEGORY_WORD: "0-9A-Za-z_",
}
_NOT = {C.CATEGORY_NOT_DIGIT, C.CATEGORY_NOT_SPACE, C.CATEGORY_NOT_WORD}
ANY = r"(?s:.)"


class Unconvertible(Exception):
    pass


def widen(pattern: re.Pattern) -> str:
    """RE2 syntax for a superset of what `pattern` matches; Unconvertible when there is none."""
    if isinstance(pattern.pattern, bytes):
        raise Unconvertible("bytes pattern")
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception as exc:  # the stdlib's private parser changed shape: run the pattern in Python
        raise Unconvertible(str(exc)) from exc
    items = list(tree)
    # a lookbehind that opens the pattern (a lookahead that closes it) is text just before (after)
    # every match: searched as part of it, the set stays sound and gets far more selective
    if items and items[0][0] is C.ASSERT and items[0][1][0] < 0:
        items[0] = (C.SUBPATTERN, (None, 0, 0, items[0][1][1]))
    if items and items[-1][0] is C.ASSERT and items[-1][1][0] > 0:
        items[-1] = (C.SUBPATTERN, (None, 0, 0, items[-1][1][1]))
    return _sequence(items, bool(pattern.flags & re.IGNORECASE), bool(pattern.flags & re.DOTALL))


def _sequence(items: list, ignorecase: bool, dotall: bool) -> str:
    return "".join(_item(op, value, ignorecase, dotall) for op, value in items)


def _item(op, value, ignorecase: bool, dotall: bool) -> str:
    if op is C.LITERAL:
        if ignorecase and value in TURKISH_I:
            return _class([(C.LITERAL, value)], ignorecase)
        return _case(_char(value), ignorecase)
    if op is C.NOT_LITERAL:
        return ANY if ignorecase else f"[^{_char(value)}]"
    if op is C.ANY:
        return ANY if dotall else "."
    if op is C.IN:
        return _case(_class(value, ignorecase), ignorecase)
    if op is C.CATEGORY:
        return ANY if value in _NOT else f"[{_UNICODE_CLASS[value]}]"
    if op is C.BRANCH:
        return "(?:" + "|".join(_sequence(list(branch), ignorecase, dotall) for branch in value[1]) + ")"
    if op is C.SUBPATTERN:
        _group, add, remove, body = value
        ignorecase = (ignorecase or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
        dotall = (dotall or bool(add & re.DOTALL)) and not remove & re.DOTALL
        return "(?:" + _sequence(list(body), ignorecase, dotall) + ")"
    if op is C.ATOMIC_GROUP:  # without the atomic cut it backtracks more: matches a superset
        return "(?:" + _sequence(list(value), ignorecase, dotall) + ")"
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, body = value
        inner = "(?:" + _sequence(list(body), ignorecase, dotall) + ")"
        low = min(low, MAX_COUNT)
        if high is C.MAXREPEAT or high > MAX_COUNT:
            return f"{inner}{{{low},}}"
        return f"{inner}{{{low},{high}}}"
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):  # a condition dropped: more texts match
        return ""
    if op is C.GROUPREF:
        return ANY + "*"
    raise Unconvertible(f"{op} has no RE2 superset here")


def _class(items: list, ignorecase: bool) -> str:
    negated = bool(items) and items[0][0] is C.NEGATE
    parts = []
    for op, value in items[1:] if negated else items:
        if op is C.LITERAL:
            parts.append(_char(value))
        elif op is C.RANGE:
            parts.append(f"{_char(value[0])}-{_char(value[1])}")
        elif op is C.CATEGORY and value in _NOT:
            if negated:
                raise Unconvertible("a negated category in a negated class")
            return ANY
        elif op is C.CATEGORY:
            parts.append((_ASCII_CLASS if negated else _UNICODE_CLASS)[value])
        else:
            raise Unconvertible(f"{op} in a class")
    if negated and ignorecase:
        raise Unconvertible("a negated class under IGNORECASE")
    if ignorecase and any(_covers(op, value, code) for op, value in items for code in TURKISH_I):
        parts += [_char(code) for code in sorted(TURKISH_I)]
    if not parts:
        return ANY if negated else "[^\\x{0}-\\x{10FFFF}]"  # [^] anything; [] nothing
    return ("[^" if negated else "[") + "".join(parts) + "]"


def _covers(op, value, code: int) -> bool:
    return value == code if op is C.LITERAL else op is C.RANGE and value[0] <= code <= value[1]


def _char(code: int) -> str:
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:X}}}"


def _case(text: str, ignorecase: bool) -> str:
    return f"(?i:{text})" if ignorecase else text


class PatternSet:
    """Which of the given Python patterns might match a text: one RE2 pass for all the widened
    ones, plus the unconvertible ones (always candidates)."""

    def __init__(self, patterns: list[re.Pattern]):
        import re2

        self.patterns = patterns
        options = re2.Options()
        options.max_mem = 64 << 20
        self._set = re2.Set.SearchSet(options)
        self._index: list[int] = []  # the set's n-th pattern is patterns[_index[n]]
        self.always: list[int] = []
        for index, pattern in enumerate(patterns):
            try:
                self._set.Add(widen(pattern))
                self._index.append(index)
            except (Unconvertible, re2.error):
                self.always.append(index)
        self._set.Compile()

    def candidates(self, text: str) -> list[int]:
        """Indexes of the patterns that may match somewhere in text (a superset of those that do)."""
        try:
            found = self._set.Match(text)
        except UnicodeEncodeError:  # a lone surrogate: RE2 takes UTF-8 only, so every pattern runs
            return list(range(len(self.patterns)))
        if not found:
            return self.always
        return sorted({self._index[n] for n in found}.union(self.always))
