"""The timeslots package template (see code_templates.py): times of day, slots, free time and clashes."""

TIMESLOTS = {
    "modules": {
        "clock": '''"""Times of day: 'HH:MM' text and minutes since midnight."""


def to_minutes(text):
    """'09:30' -> 570. ValueError for anything that is not a valid time of day."""
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"not a time: {text!r}")
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise ValueError(f"not a time: {text!r}")
    return h * 60 + m


def to_text(minutes):
    """570 -> '09:30'; counts wrap around midnight (1450 -> '00:10')."""
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
''',
        "slots": '''"""Busy slots of a day: (start, end) in minutes, the end excluded."""

from .clock import to_minutes


def parse_slot(text):
    """'09:00-10:30' -> (540, 630); ValueError unless the end comes after the start."""
    start, _, end = text.partition("-")
    slot = (to_minutes(start.strip()), to_minutes(end.strip()))
    if slot[1] <= slot[0]:
        raise ValueError(f"empty slot: {text!r}")
    return slot


def overlaps(a, b):
    """Whether two slots share a minute (slots that only touch do not)."""
    return a[0] < b[1] and b[0] < a[1]


def free_slots(busy, day_start=8 * 60, day_end=18 * 60):
    """The free (start, end) slots between day_start and day_end, in order."""
    free = []
    cursor = day_start
    for start, end in sorted(busy):
        if start > cursor:
            free.append((cursor, min(start, day_end)))
        cursor = max(cursor, end)
        if cursor >= day_end:
            break
    if cursor < day_end:
        free.append((cursor, day_end))
    return free
''',
        "agenda": '''"""A day's agenda: named meetings, checked for clashes."""

from .clock import to_text
from .slots import overlaps, parse_slot


def clashes(meetings):
    """(name, name) pairs of meetings whose slots overlap, each pair in input order, sorted."""
    parsed = [(name, parse_slot(slot)) for name, slot in meetings]
    found = []
    for i, (name_a, slot_a) in enumerate(parsed):
        for name_b, slot_b in parsed[i + 1:]:
            if overlaps(slot_a, slot_b):
                found.append((name_a, name_b))
    return sorted(found)


def describe(name, slot_text):
    """'standup 09:00-09:15 (15 min)'."""
    start, end = parse_slot(slot_text)
    return f"{name} {to_text(start)}-{to_text(end)} ({end - start} min)"
''',
    },
    "tests": {
        "clock": '''import pytest

from PKG.clock import to_minutes, to_text


def test_to_minutes():
    assert to_minutes("00:00") == 0
    assert to_minutes("09:30") == 570
    assert to_minutes("23:59") == 1439


@pytest.mark.parametrize("bad", ["24:00", "12:60", "9", "12:5", "ab:cd", "-1:00", ""])
def test_to_minutes_rejects(bad):
    with pytest.raises(ValueError):
        to_minutes(bad)


def test_to_text():
    assert to_text(570) == "09:30"
    assert to_text(0) == "00:00"
    assert to_text(1450) == "00:10"
''',
        "slots": '''import pytest

from PKG.slots import free_slots, overlaps, parse_slot


def test_parse_slot():
    assert parse_slot("09:00-10:30") == (540, 630)
    assert parse_slot(" 13:15 - 14:00 ") == (795, 840)
    for bad in ("10:00-10:00", "11:00-10:00"):
        with pytest.raises(ValueError):
            parse_slot(bad)


def test_overlaps():
    assert overlaps((540, 600), (570, 660)) and overlaps((570, 660), (540, 600))
    assert overlaps((500, 700), (540, 600))
    assert not overlaps((540, 600), (600, 660)) and not overlaps((600, 660), (540, 600))


def test_free_slots():
    assert free_slots([]) == [(480, 1080)]
    assert free_slots([(600, 660), (480, 540)]) == [(540, 600), (660, 1080)]
    assert free_slots([(600, 720), (630, 660)]) == [(480, 600), (720, 1080)]
    assert free_slots([(420, 1140)]) == []
    assert free_slots([(540, 600)], day_start=540, day_end=600) == []
''',
        "agenda": '''from PKG.agenda import clashes, describe


def test_clashes():
    meetings = [("standup", "09:00-09:15"), ("review", "09:10-10:00"), ("lunch", "12:00-13:00"),
                ("demo", "09:45-10:15"), ("call", "12:30-12:45")]
    assert clashes(meetings) == [("lunch", "call"), ("review", "demo"), ("standup", "review")]
    assert clashes([("a", "10:00-11:00"), ("b", "11:00-12:00")]) == []


def test_describe():
    assert describe("standup", "09:00-09:15") == "standup 09:00-09:15 (15 min)"
    assert describe("offsite", "08:30-17:05") == "offsite 08:30-17:05 (515 min)"
''',
    },
    "extra": '''from PKG.agenda import clashes, describe
from PKG.clock import to_minutes, to_text
from PKG.slots import free_slots


def test_more_edges():
    assert to_minutes("7:05") == 425 and to_text(-10) == "23:50"
    assert free_slots([(1000, 1200)]) == [(480, 1000)]
    assert clashes([("x", "08:00-09:00")]) == []
    assert describe("x", "23:00-23:59") == "x 23:00-23:59 (59 min)"
''',
    "spots": [
        ("clock", "if h > 23 or", "if h > 24 or", "easy", "an off-by-one bound"),
        ("clock", "or m > 59:", "or m >= 59:", "easy", "a wrong comparison"),
        ("clock", 'minutes %= 24 * 60\n    return f"', 'return f"', "medium", "a missing edge case"),
        ("clock", "{minutes // 60:02d}", "{minutes // 60}", "medium", "a wrong format"),
        ("clock", "return h * 60 + m", "return m * 60 + h", "easy", "swapped operands"),
        ("slots", "if slot[1] <= slot[0]:", "if slot[1] < slot[0]:", "easy", "a missing edge case"),
        ("slots", "a[0] < b[1] and b[0] < a[1]", "a[0] <= b[1] and b[0] <= a[1]", "easy", "a wrong comparison"),
        ("slots", "for start, end in sorted(busy):", "for start, end in busy:", "medium", "a missing sort"),
        ("slots", "cursor = max(cursor, end)", "cursor = end", "hard", "a missing edge case"),
        ("slots", "day_end=18 * 60)", "day_end=17 * 60)", "medium", "a wrong default"),
        ("slots", "if start > cursor:", "if start >= cursor:", "hard", "an off-by-one comparison"),
        ("agenda", "parsed[i + 1:]", "parsed[i:]", "easy", "an off-by-one slice"),
        ("agenda", "({end - start} min)", "({start - end} min)", "easy", "swapped operands"),
        ("agenda", "return sorted(found)", "return found", "hard", "a missing sort"),
    ],
    "renames": {"to_minutes": ["minutes_of", "parse_clock", "clock_minutes"],
                "parse_slot": ["read_slot", "slot_from_text", "parse_range"],
                "overlaps": ["collides", "intersects", "slots_overlap"],
                "to_text": ["format_clock", "clock_text", "as_hhmm"]},
    "module_renames": {"clock": ["clocktime", "timeofday", "hhmm"], "slots": ["busy", "periods", "intervals"]},
    "init": "from .agenda import clashes\nfrom .clock import to_minutes, to_text\nfrom .slots import parse_slot\n",
}
