"""Small correct Python packages with their test suites, for bugfix-python (code_bugfix.py) and for
write-tests and refactor-rename (code_quality.py).

Each template lists `spots`: (module, original text, mutated text, level, what the mutation is).
Every spot is caught by the test file of its own module (tests/test_<module>.py): the families
rely on that. PKG in a template stands for the package name."""

from __future__ import annotations

import random

from ..phrasing import slug
from .code_templates_timeslots import TIMESLOTS


INVENTORY = {
    "modules": {
        "stock": '''"""Stock levels: a dict from item name to the count on hand."""


class OutOfStock(Exception):
    """Raised when more items are taken than there are."""


def add_items(levels, item, quantity=1):
    """Adds quantity (at least 1) of item; returns the new count."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    levels[item] = levels.get(item, 0) + quantity
    return levels[item]


def take_items(levels, item, quantity=1):
    """Takes quantity of item away; returns what is left. OutOfStock when there are too few."""
    have = levels.get(item, 0)
    if quantity > have:
        raise OutOfStock(item)
    levels[item] = have - quantity
    return levels[item]


def running_low(levels, threshold=3):
    """Names of the items with at most threshold left, sorted."""
    return sorted(item for item, count in levels.items() if count <= threshold)
''',
        "pricing": '''"""Prices: line totals with bulk discounts, rounded to cents."""

from .stock import take_items

TIERS = [(50, 20), (10, 10)]  # (minimum quantity, percent off), largest first


def discount_for(quantity):
    """Percent off for buying quantity items at once."""
    for minimum, percent in TIERS:
        if quantity >= minimum:
            return percent
    return 0


def line_total(unit_price, quantity, percent_off=0):
    """unit_price * quantity, less percent_off percent, rounded to cents."""
    return round(unit_price * quantity * (100 - percent_off) / 100, 2)


def sell(levels, prices, item, quantity):
    """Takes the items out of the levels and returns what the customer pays."""
    take_items(levels, item, quantity)
    return line_total(prices[item], quantity, discount_for(quantity))
''',
        "report": '''"""A stock report: one line per item, the low ones marked."""

from .pricing import line_total
from .stock import running_low


def stock_value(levels, prices):
    """What everything on hand is worth, at full price."""
    return round(sum(line_total(prices[item], count) for item, count in levels.items()), 2)


def report_lines(levels, prices, threshold=3):
    """'item: count (value)' per item, sorted by name; '!' instead of ' ' before the low ones."""
    low = set(running_low(levels, threshold))
    lines = []
    for item in sorted(levels):
        mark = "!" if item in low else " "
        lines.append(f"{mark}{item}: {levels[item]} ({line_total(prices[item], levels[item]):.2f})")
    return lines
''',
    },
    "tests": {
        "stock": '''import pytest

from PKG.stock import OutOfStock, add_items, running_low, take_items


def test_add_to_new_and_existing_items():
    levels = {}
    assert add_items(levels, "bolt", 5) == 5
    assert add_items(levels, "bolt") == 6
    assert levels == {"bolt": 6}


def test_add_rejects_zero_or_less():
    with pytest.raises(ValueError):
        add_items({}, "bolt", 0)
    with pytest.raises(ValueError):
        add_items({}, "bolt", -2)


def test_take_some_then_the_rest():
    levels = {"nut": 4}
    assert take_items(levels, "nut", 3) == 1
    assert take_items(levels, "nut") == 0
    assert levels == {"nut": 0}


def test_take_too_many():
    with pytest.raises(OutOfStock):
        take_items({"nut": 2}, "nut", 3)
    with pytest.raises(OutOfStock):
        take_items({}, "washer")


def test_running_low():
    levels = {"a": 0, "c": 3, "b": 4, "d": 1}
    assert running_low(levels) == ["a", "c", "d"]
    assert running_low(levels, 1) == ["a", "d"]
    assert running_low(levels, 4) == ["a", "b", "c", "d"]
''',
        "pricing": '''from PKG.pricing import discount_for, line_total, sell


def test_discount_tiers():
    assert [discount_for(q) for q in (1, 9, 10, 11, 49, 50, 120)] == [0, 0, 10, 10, 10, 20, 20]


def test_line_total():
    assert line_total(2.5, 4) == 10.0
    assert line_total(1.25, 3) == 3.75
    assert line_total(10.0, 3, 15) == 25.5


def test_sell_takes_stock_and_charges():
    levels = {"lamp": 30}
    prices = {"lamp": 2.0}
    assert sell(levels, prices, "lamp", 12) == 21.6
    assert levels == {"lamp": 18}
    assert sell(levels, prices, "lamp", 1) == 2.0
    assert levels == {"lamp": 17}
''',
        "report": '''from PKG.report import report_lines, stock_value


def test_stock_value():
    assert stock_value({"cup": 3, "pot": 2}, {"cup": 1.5, "pot": 4.25}) == 13.0


def test_report_is_sorted_and_marks_low_items():
    levels = {"pot": 2, "cup": 10, "jar": 4}
    prices = {"pot": 4.0, "cup": 1.5, "jar": 2.0}
    assert report_lines(levels, prices) == [" cup: 10 (15.00)", " jar: 4 (8.00)", "!pot: 2 (8.00)"]
    assert report_lines(levels, prices, threshold=5) == [" cup: 10 (15.00)", "!jar: 4 (8.00)", "!pot: 2 (8.00)"]
''',
    },
    "extra": '''import pytest

from PKG.pricing import discount_for, sell
from PKG.report import report_lines
from PKG.stock import OutOfStock, add_items, running_low, take_items


def test_more_edges():
    assert running_low({}) == []
    assert discount_for(0) == 0 and discount_for(10_000) == 20
    levels = {"fan": 3}
    with pytest.raises(OutOfStock):
        sell(levels, {"fan": 9.0}, "fan", 4)
    assert levels == {"fan": 3}
    assert add_items(levels, "fan", 2) == 5 and take_items(levels, "fan", 5) == 0
    assert report_lines({"zip": 0}, {"zip": 1.0}, threshold=0) == ["!zip: 0 (0.00)"]
''',
    "spots": [
        ("stock", "if quantity < 1:", "if quantity < 0:", "easy", "a missing edge case"),
        ("stock", "levels.get(item, 0) + quantity", "levels.get(item, 1) + quantity", "easy", "a wrong default"),
        ("stock", "if quantity > have:", "if quantity >= have:", "easy", "an off-by-one comparison"),
        ("stock", "count <= threshold", "count < threshold", "medium", "a wrong comparison"),
        ("stock", "def running_low(levels, threshold=3):", "def running_low(levels, threshold=2):", "medium",
         "a wrong default"),
        ("stock", "levels[item] = have - quantity", "levels[item] = quantity - have", "easy", "swapped operands"),
        ("pricing", "if quantity >= minimum:", "if quantity > minimum:", "easy", "an off-by-one comparison"),
        ("pricing", "(100 - percent_off) / 100, 2)", "(100 - percent_off) / 100, 1)", "medium", "wrong rounding"),
        ("pricing", "line_total(prices[item], quantity, discount_for(quantity))",
         "line_total(prices[item], discount_for(quantity), quantity)", "hard", "swapped arguments"),
        ("pricing", "take_items(levels, item, quantity)", "take_items(levels, item)", "hard", "a dropped argument"),
        ("pricing", "TIERS = [(50, 20), (10, 10)]", "TIERS = [(10, 10), (50, 20)]", "hard", "a wrong order"),
        ("report", "set(running_low(levels, threshold))", "set(running_low(levels))", "hard", "a dropped argument"),
        ("report", "for item in sorted(levels):", "for item in levels:", "medium", "a missing sort"),
    ],
    "renames": {"take_items": ["remove_items", "withdraw", "deduct_items"],
                "line_total": ["price_line", "total_for_line", "line_amount"],
                "running_low": ["low_items", "items_to_reorder", "scarce_items"],
                "discount_for": ["bulk_percent", "percent_off_for", "discount_rate"]},
    "module_renames": {"stock": ["stockroom", "on_hand", "inventory_levels"],
                       "pricing": ["tariffs", "billing", "checkout"]},
    "init": "from .pricing import line_total, sell\nfrom .stock import add_items, running_low, take_items\n",
}

TEXTKIT = {
    "modules": {
        "tokens": '''"""Splitting text into words, word runs and sentences."""

import re

WORD = re.compile(r"[A-Za-z']+")


def words(text, lower=True):
    """The words of text (runs of letters and apostrophes), lower-cased unless lower is False."""
    found = WORD.findall(text)
    return [word.lower() for word in found] if lower else found


def ngrams(items, n=2):
    """Every run of n consecutive items, as tuples, in order."""
    return [tuple(items[i:i + n]) for i in range(len(items) - n + 1)]


def sentences(text):
    """The sentences of text (each ends at '.', '!' or '?'), stripped, without empty ones."""
    return [part.strip() for part in re.split(r"[.!?]", text) if part.strip()]
''',
        "stats": '''"""Counting words."""

from collections import Counter

from .tokens import words


def top_words(text, k=3):
    """The k most common words as (word, count) pairs: most common first, ties in A-Z order."""
    counts = Counter(words(text))
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:k]


def average_length(text):
    """The mean length of the words of text; 0.0 when it has none."""
    found = words(text)
    if not found:
        return 0.0
    return sum(len(word) for word in found) / len(found)


def longest(text):
    """The longest word of text as written (the first one on ties); '' when it has none."""
    best = ""
    for word in words(text, lower=False):
        if len(word) > len(best):
            best = word
    return best
''',
        "layout": '''"""Laying text out: cutting to a width, padding to a column."""

from .stats import longest


def truncate(text, width, marker="..."):
    """text if it fits in width characters, else cut so that it fits with marker at its end."""
    if len(text) <= width:
        return text
    return text[: width - len(marker)] + marker


def pad_column(items, align="left"):
    """The items padded with spaces to the width of the longest, aligned left or right."""
    width = max((len(item) for item in items), default=0)
    if align == "right":
        return [item.rjust(width) for item in items]
    return [item.ljust(width) for item in items]


def headline(text, width=12):
    """The longest word of text in upper case, truncated to width."""
    return truncate(longest(text).upper(), width)
''',
    },
    "tests": {
        "tokens": '''from PKG.tokens import ngrams, sentences, words


def test_words():
    assert words("It's a Dog's life, isn't it?") == ["it's", "a", "dog's", "life", "isn't", "it"]
    assert words("Hello, World", lower=False) == ["Hello", "World"]
    assert words("42 + 7") == []


def test_ngrams():
    assert ngrams(["a", "b", "c", "d"]) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert ngrams([1, 2, 3], 3) == [(1, 2, 3)]
    assert ngrams([1, 2], 3) == []


def test_sentences():
    assert sentences("One. Two!  Three? ") == ["One", "Two", "Three"]
    assert sentences("No end") == ["No end"]
    assert sentences("...") == []
''',
        "stats": '''from PKG.stats import average_length, longest, top_words


def test_top_words():
    text = "b a c b a b d d e"
    assert top_words(text) == [("b", 3), ("a", 2), ("d", 2)]
    assert top_words(text, 1) == [("b", 3)]
    assert top_words("", 2) == []


def test_average_length():
    assert average_length("ab abcd") == 3.0
    assert average_length("!!") == 0.0


def test_longest():
    assert longest("Tiny Giant Small Huge") == "Giant"
    assert longest("") == ""
''',
        "layout": '''from PKG.layout import headline, pad_column, truncate


def test_truncate():
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdefghij", 8) == "abcde..."
    assert truncate("abcdefghij", 6, marker="~") == "abcde~"


def test_pad_column():
    assert pad_column(["a", "abc", "ab"]) == ["a  ", "abc", "ab "]
    assert pad_column(["a", "abc"], align="right") == ["  a", "abc"]
    assert pad_column([]) == []


def test_headline():
    assert headline("a remarkable extraordinary day") == "EXTRAORDI..."
    assert headline("short words only", width=4) == "S..."
''',
    },
    "extra": '''from PKG.layout import headline, truncate
from PKG.stats import average_length, longest, top_words
from PKG.tokens import ngrams, sentences, words


def test_more_edges():
    assert ngrams([], 2) == [] and ngrams([7], 1) == [(7,)]
    assert sentences("Wait?! Yes.") == ["Wait", "Yes"]
    assert top_words("x y z", 5) == [("x", 1), ("y", 1), ("z", 1)]
    assert longest("ab cd") == "ab" and average_length("a bcd") == 2.0
    assert truncate("", 3) == "" and headline("") == ""
    assert words("ONE two", lower=True) == ["one", "two"]
''',
    "spots": [
        ("tokens", "range(len(items) - n + 1)", "range(len(items) - n)", "easy", "an off-by-one range"),
        ("tokens", "def ngrams(items, n=2):", "def ngrams(items, n=3):", "medium", "a wrong default"),
        ("tokens", "for word in found] if lower else", "for word in found] if not lower else", "easy",
         "an inverted condition"),
        ("tokens", 're.split(r"[.!?]", text)', 're.split(r"[.!]", text)', "medium", "a missing case"),
        ("tokens", ", text) if part.strip()]", ", text)]", "easy", "a missing edge case"),
        ("stats", "key=lambda pair: (-pair[1], pair[0])", "key=lambda pair: (pair[1], pair[0])", "easy",
         "a wrong sort order"),
        ("stats", ")[:k]", ")[:k - 1]", "medium", "an off-by-one slice"),
        ("stats", "found = words(text)\n    if not found:\n        return 0.0\n", "found = words(text)\n",
         "medium", "a missing edge case"),
        ("stats", "if len(word) > len(best):", "if len(word) >= len(best):", "easy", "a wrong comparison"),
        ("stats", "in words(text, lower=False):", "in words(text):", "hard", "a dropped argument"),
        ("layout", "if len(text) <= width:", "if len(text) < width:", "easy", "an off-by-one comparison"),
        ("layout", "text[: width - len(marker)]", "text[: width - 1]", "medium", "a wrong length"),
        ("layout", 'if align == "right":', 'if align == "left":', "easy", "swapped branches"),
        ("layout", "width = max((len(item)", "width = min((len(item)", "medium", "a wrong function"),
        ("layout", "def headline(text, width=12):", "def headline(text, width=10):", "hard", "a wrong default"),
    ],
    "renames": {"ngrams": ["windows", "runs_of", "sliding_groups"], "truncate": ["shorten", "clip_text", "cut_to"],
                "longest": ["longest_word", "biggest_word", "widest_word"],
                "top_words": ["most_common_words", "frequent_words", "leading_words"]},
    "module_renames": {"tokens": ["tokenize", "splitting", "lexer"], "stats": ["counting", "wordstats", "frequency"]},
    "init": "from .layout import truncate\nfrom .stats import longest, top_words\nfrom .tokens import ngrams\n",
}

TEMPLATES = {"inventory": INVENTORY, "textkit": TEXTKIT, "timeslots": TIMESLOTS}
CONFTEST = "# pytest puts this folder on sys.path, so the tests can import the package from here.\n"


def render(template: dict, pkg: str, tests: bool = True) -> dict[str, str]:
    """The package under /app/PKG (and its tests under /app/tests), as task files."""
    files = {f"{pkg}/__init__.py": f'"""The {pkg} package."""\n\n' + template["init"]}
    for module, source in template["modules"].items():
        files[f"{pkg}/{module}.py"] = source.replace("PKG", pkg)
    if tests:
        files["conftest.py"] = CONFTEST
        for module, source in template["tests"].items():
            files[f"tests/test_{module}.py"] = source.replace("PKG", pkg)
    return files


def replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise RuntimeError(f"a mutation spot must occur exactly once: {old!r}")
    return text.replace(old, new)


def package_name(rng: random.Random) -> str:
    """amber_ledger, quiet_falcon_core ...: enough names that two tasks rarely share one."""
    return slug(rng) + rng.choice(["", "", "_core", "_lib", "_tools", "_utils", "_kit"])
