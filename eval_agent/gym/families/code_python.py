"""Python from a spec: implement one or two functions in a stub module (python-function).

Each kind below writes its reference implementation as source text with the task's parameters in
it; the generator runs that source to compute the expected values, and the solution writes the
same source to /app. So the tests, the solution and the instruction come from one set of choices."""

from __future__ import annotations

import random
import string

from ..phrasing import ADJECTIVES, NOUNS, bullets, instruction, one_of, paragraph, sample
from ..spec import Family, GeneratedTask


def _run(source: str) -> dict:
    namespace: dict = {"__name__": "reference"}
    exec(source, namespace)
    return namespace


def _duration(rng, level):
    name = one_of(rng, "parse_duration", "duration_seconds", "to_seconds", "span_seconds")
    units = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    units = {u: v for u, v in units.items() if u in "hms" or (u == "d" and level != "easy") or level == "hard"}
    scale, factor = ("seconds", 1) if level == "easy" else rng.choice([("seconds", 1), ("milliseconds", 1000)])
    source = f'''import re

UNITS = {units!r}
PART = re.compile(r"(\\d+)([a-z])")


def {name}(text):
    found = []
    for token in text.split() if {level != "easy"} else [text]:
        position = 0
        while position < len(token):
            match = PART.match(token, position)
            if not match or match.group(2) not in UNITS:
                raise ValueError(f"bad duration: {{text!r}}")
            found.append((int(match.group(1)), match.group(2)))
            position = match.end()
    if not found:
        raise ValueError(f"bad duration: {{text!r}}")
    ranks = [list(UNITS).index(unit) for _, unit in found]
    if {level == "hard"} and ranks != sorted(set(ranks)):
        raise ValueError(f"bad duration: {{text!r}}")
    return sum(count * UNITS[unit] for count, unit in found) * {factor}
'''
    names = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    spec = ["`text` is made of parts, each a whole number directly followed by a unit letter: "
            + ", ".join(f"`{u}` ({names[u]})" for u in units) + ".",
            f"Return the total as an `int` number of {scale}."]
    cases = []
    for _ in range(7):
        chosen = sorted(rng.sample(list(units), rng.randint(1, len(units))), key=list(units).index)
        if level == "medium":
            chosen = [rng.choice(list(units)) for _ in range(rng.randint(1, 4))]
        parts = [f"{rng.randint(0 if level == 'hard' else 1, 99)}{u}" for u in chosen]
        cases.append(((rng.choice(["", " "]) if level != "easy" else "").join(parts),))
    errors = []
    if level == "easy":
        spec.insert(1, "The parts are written together, without spaces, larger units first (`2h5m`).")
    else:
        spec.insert(1, "Parts may be separated by whitespace (`1d 2h`, `1d2h`); whitespace around the whole "
                    "string is ignored.")
        spec.append("Raise `ValueError` for anything else: an empty string, a number without a unit, an unknown "
                    "unit, upper-case units, any other character.")
        errors = [("",), ("  ",), ("15",), ("3x",), ("h",), ("1h30",), ("2.5h",), ("1H",)]
        cases.append((f"  {cases[0][0]} ",))
    if level == "medium":
        spec.insert(2, "Parts may come in any order and a unit may repeat; all parts add up (`1m 1m` is 120 "
                    "seconds).")
    if level == "hard":
        spec.insert(2, "Each unit may appear at most once, larger units before smaller ones: `30m1h` and "
                    "`1m 1m` are errors (ValueError).")
        errors += [("30m1h",), ("1m1m",), ("5s 2h",)]
    return ["durations", "timespan", "timeparse"], [(name, "text")], spec, source, \
        [(name, args) for args in cases], [(name, args) for args in errors]


def _runs(rng, level):
    pair = rng.randrange(4)
    encode = ["rle_encode", "encode_runs", "compress_runs", "pack_runs"][pair]
    decode = ["rle_decode", "decode_runs", "expand_runs", "unpack_runs"][pair]
    count_first, omit = rng.random() < 0.5, rng.random() < 0.5
    token = r"(\d*)([A-Za-z])" if count_first else r"([A-Za-z])(\d*)"
    source = f'''import re

TOKEN = re.compile({token!r})


def {encode}(text):
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        count = "" if {omit} and j - i == 1 else str(j - i)
        out.append(count + text[i] if {count_first} else text[i] + count)
        i = j
    return "".join(out)


def {decode}(code):
    out, position = [], 0
    while position < len(code):
        match = TOKEN.match(code, position)
        if not match:
            raise ValueError(f"bad code: {{code!r}}")
        digits, letter = match.groups() if {count_first} else match.groups()[::-1]
        if (digits == "" and not {omit}) or digits.startswith("0"):
            raise ValueError(f"bad code: {{code!r}}")
        out.append(letter * int(digits or "1"))
        position = match.end()
    return "".join(out)
'''
    ref = _run(source)
    letters = sample(rng, list("abcdeXYZ"), 4)
    texts = ["".join(rng.choice(letters) * rng.choice([1, 1, 2, 3, 5, 12]) for _ in range(rng.randint(2, 7)))
             for _ in range(5)] + [""]
    example = "aaabccddddd"
    spec = [f"`{encode}(text)` replaces every run of one repeated letter by "
            + ("its length followed by the letter" if count_first else "the letter followed by its length")
            + (", leaving the length out when it is 1" if omit else ", also when the length is 1")
            + f": `{example}` becomes `{ref[encode](example)}`. Lengths can have several digits.",
            "`text` holds ASCII letters only; `A` and `a` are different letters. The empty string encodes to "
            "the empty string."]
    cases, errors, functions = [(encode, (t,)) for t in texts], [], [(encode, "text")]
    if level != "easy":
        functions.append((decode, "code"))
        spec.append(f"`{decode}(code)` is the inverse: `{decode}({encode}(text)) == text`.")
        cases += [(decode, (ref[encode](t),)) for t in texts]
    if level == "hard":
        bad = ["3", "0a"] if count_first else ["3a", "a0"]
        bad += ["2a-", "a b"] + ([] if omit else ["a2b"])
        spec.append(f"`{decode}` raises `ValueError` for a malformed code: a count with no letter, a count of "
                    "zero" + ("" if omit else ", a letter without its count") + ", or any character other "
                    "than ASCII letters and digits.")
        errors = [(decode, (b,)) for b in bad]
    return ["runlength", "rle", "codec"], functions, spec, source, cases, errors


def _intervals(rng, level):
    name = one_of(rng, "merge_intervals", "merge_ranges", "coalesce", "union_of_ranges")
    gap = 0 if level == "easy" else rng.choice([0, 1, 2])
    source = f'''def {name}(intervals):
    items = sorted((start, end) for start, end in intervals)
    if {level == "hard"} and any(start > end for start, end in items):
        raise ValueError("an interval ends before it starts")
    merged = []
    for start, end in items:
        if merged and start <= merged[-1][1] + {gap}:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
'''
    low = -20 if level != "easy" else 0
    size = {"easy": (3, 5), "medium": (5, 8), "hard": (7, 11)}[level]
    cases = []
    for _ in range(6):
        items = []
        for _ in range(rng.randint(*size)):
            start = rng.randint(low, 40)
            items.append((start, start + rng.randint(0, 7)))
        cases.append(([list(item) for item in items] if rng.random() < 0.5 else items,))
    cases.append(([],))
    spec = ["`intervals` is a list of `(start, end)` pairs of ints (tuples or 2-item lists), closed at both ends, "
            "in no particular order.",
            "Return the merged intervals as a list of `(start, end)` tuples sorted by start; the input list is "
            "left as it is.",
            "Two intervals merge when the later-starting one starts "
            + (f"no more than {gap} after the end of the other" if gap else "at or before the end of the other")
            + f": `(1, 3)` and `({3 + gap}, 5)` become `(1, 5)`, while `(1, 3)` and `({4 + gap}, 5)` stay apart."]
    errors = []
    if level == "hard":
        spec.append("Raise `ValueError` if any interval has `start > end`.")
        errors = [([(5, 3)],), ([(1, 2), (9, 4)],)]
    return ["intervals", "ranges", "spans"], [(name, "intervals")], spec, source, \
        [(name, args) for args in cases], [(name, args) for args in errors]


def _roman(rng, level):
    pair = rng.randrange(3)
    to, back = ["to_roman", "int_to_roman", "roman_numeral"][pair], ["from_roman", "roman_to_int", "parse_roman"][pair]
    lower = rng.random() < 0.4
    source = f'''PAIRS = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
         (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def {to}(number):
    if not 1 <= number <= 3999:
        raise ValueError(f"out of range: {{number}}")
    out = []
    for value, symbol in PAIRS:
        while number >= value:
            out.append(symbol)
            number -= value
    return "".join(out).lower() if {lower} else "".join(out)


def {back}(text):
    total, position, upper = 0, 0, text.upper()
    for value, symbol in PAIRS:
        while upper.startswith(symbol, position):
            total += value
            position += len(symbol)
    if position != len(text) or total == 0 or {to}(total) != text:
        raise ValueError(f"not a numeral: {{text!r}}")
    return total
'''
    numbers = [rng.randint(1, 3999) for _ in range(6)] + [rng.choice([4, 9, 14, 40, 90, 400, 900]), 3999, 1]
    ref = _run(source)
    cases, errors, functions = [(to, (n,)) for n in numbers], [], [(to, "number")]
    spec = [f"`{to}(number)` returns the Roman numeral for an int from 1 to 3999, in "
            + ("lower case" if lower else "upper case") + ", in the standard subtractive form ("
            + ("4 is iv, 90 is xc, 1994 is mcmxciv" if lower else "4 is IV, 90 is XC, 1994 is MCMXCIV") + ")."]
    if level != "easy":
        functions.append((back, "text"))
        spec.append(f"`{back}(text)` does the reverse for such numerals.")
        cases += [(back, (ref[to](n),)) for n in numbers[:6]]
    if level == "hard":
        bad = ", ".join(f"`{t.lower() if lower else t}`" for t in ("IIII", "VV", "IC"))
        spec.append(f"`{to}` raises `ValueError` outside 1..3999. `{back}` accepts only the exact form `{to}` "
                    f"produces (same letter case; not {bad}, not the empty string) and raises `ValueError` "
                    "for anything else.")
        odd = ["IIII", "VV", "IC", "XM", "MMMM", "", "ABC", "XIV".lower() if not lower else "XIV"]
        errors = [(to, (n,)) for n in (0, 4000, -7)] + [(back, (t.lower() if lower else t,)) for t in odd[:-1]]
        errors.append((back, (odd[-1],)))
    return ["roman", "numerals"], functions, spec, source, cases, errors


def _wrap(rng, level):
    name = one_of(rng, "wrap_text", "wrap_words", "fill_lines", "break_lines")
    joined, split_long, paragraphs = rng.random() < 0.5, level != "easy", level == "hard"
    source = f'''import re


def {name}(text, width):
    if width < 1:
        raise ValueError("width must be at least 1")
    lines = []
    for paragraph in re.split(r"\\n\\s*\\n", text) if {paragraphs} else [text]:
        words = []
        for word in paragraph.split():
            if {split_long} and len(word) > width:
                words += [word[i:i + width] for i in range(0, len(word), width)]
            else:
                words.append(word)
        if not words:
            continue
        if lines:
            lines.append("")
        line = words[0]
        for word in words[1:]:
            if len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return "\\n".join(lines) if {joined} else lines
'''
    pool = NOUNS + ADJECTIVES
    cases = []
    for _ in range(6):
        words = [rng.choice(pool) for _ in range(rng.randint(6, 18))]
        words.insert(rng.randrange(len(words)), "".join(rng.sample(pool, 3)))  # a long word
        text = " ".join(words)
        if paragraphs:
            text = text.replace(" ", rng.choice(["\n\n", "\n \n\n"]), 1).replace(" ", "\n", 1)
        cases.append((text, rng.randint(8, 26)))
    cases.append(("", 10))
    spec = ["Words are the runs of non-whitespace characters of `text`; newlines and repeated spaces count "
            "as plain whitespace.",
            "Fill lines greedily: a word goes on the current line, after one space, if the line stays at most "
            "`width` characters long; otherwise it starts the next line.",
            "A word longer than `width` is cut into pieces of `width` characters (the last one may be shorter), "
            "and the pieces are placed like words." if split_long else
            "A word longer than `width` goes on a line of its own, uncut.",
            "Return one string with the lines joined by `\\n` (no trailing newline; `\"\"` for no words)."
            if joined else "Return the lines as a list of strings (`[]` for a text without words)."]
    errors = []
    if paragraphs:
        spec.insert(1, "A blank line (a line holding only whitespace) separates paragraphs: each paragraph is "
                    "wrapped on its own, with one empty line between paragraphs in the result.")
        spec.append("Raise `ValueError` if `width` is less than 1.")
        errors = [(name, ("some text", 0)), (name, ("x", -3))]
    return ["wrapping", "layout", "textfill"], [(name, "text, width")], spec, source, \
        [(name, args) for args in cases], errors


def _identifier(rng, level):
    name = one_of(rng, "is_valid_name", "valid_identifier", "check_handle", "is_good_key")
    separators = rng.choice(["_", "-", "_-"])
    underscore_first = "_" in separators and rng.random() < 0.5
    lowercase = rng.random() < 0.5
    shortest, longest = rng.randint(1, 3), rng.randint(8, 16)
    strict = level != "easy"
    reserved = sorted(sample(rng, NOUNS, 3)) if level == "hard" else []
    letters = string.ascii_lowercase if lowercase else string.ascii_letters
    source = f'''def {name}(name):
    if not isinstance(name, str) or not {shortest} <= len(name) <= {longest}:
        return False
    if not (name[0] in {letters!r} or ({underscore_first} and name[0] == "_")):
        return False
    if any(c not in {letters + string.digits + separators!r} for c in name):
        return False
    if {strict} and (name[-1] in {separators!r} or any(a in {separators!r} and b in {separators!r}
                                                       for a, b in zip(name, name[1:]))):
        return False
    return name.lower() not in {reserved!r}
'''
    sep = separators[0]
    words = [rng.choice(NOUNS), rng.choice(ADJECTIVES)]
    candidates = [words[0], words[1] + sep + words[0], words[0].capitalize(), words[0] + "2", "2" + words[0],
                  "_" + words[0], words[0][:shortest], words[0][:max(shortest - 1, 0)] or "", "x" * longest,
                  "x" * (longest + 1), words[0] + " " + words[1], words[0] + "." + words[1], "caf\u00e9",
                  words[0] + "-" + words[1], words[0] + "_" + words[1], words[0] + sep + sep + words[1],
                  words[0] + sep, words[0].upper()]
    if level == "hard":
        candidates += [reserved[0], reserved[1].capitalize(), None, 42]
    allowed = "ASCII letters" + (" (lower case only)" if lowercase else "") + ", digits" + \
        "".join(f", `{s}`" for s in separators[:-1]) + f" and `{separators[-1]}`"
    spec = ["Return `True` when `name` is a valid name, `False` otherwise (never raise).",
            f"A valid name is {shortest} to {longest} characters long and uses only {allowed}.",
            "It starts with a letter" + (" or `_`" if underscore_first else "") + "."]
    if strict:
        spec.append(f"It does not end with {' or '.join(f'`{s}`' for s in separators)}, and never has two of "
                    "them in a row.")
    if reserved:
        spec.append("It is not one of the reserved words " + ", ".join(f"`{w}`" for w in reserved)
                    + " (in any letter case), and anything that is not a `str` is invalid.")
    return ["names", "validation", "identifiers"], [(name, "name")], spec, source, \
        [(name, (c,)) for c in dict.fromkeys(candidates)], []


KINDS = [_duration, _runs, _intervals, _roman, _wrap, _identifier]


def generate_python_function(rng: random.Random, difficulty: str) -> GeneratedTask:
    kind = rng.choice(KINDS)
    modules, functions, spec, source, calls, error_calls = kind(rng, difficulty)
    module = rng.choice(modules)
    ref = _run(source)
    cases = [(func, args, ref[func](*args)) for func, args in calls]
    for func, args in error_calls:  # the reference itself must reject what the tests expect rejected
        try:
            ref[func](*args)
        except ValueError:
            continue
        raise RuntimeError(f"{kind.__name__}: {func}{args!r} should raise ValueError")
    signatures = [f"{func}({params})" for func, params in functions]
    stub = f'"""{module}: see the task description."""\n' + "".join(
        f"\n\ndef {sig}:\n    raise NotImplementedError\n" for sig in signatures)
    shown = sorted((case for case in cases if case[2] not in ("", [], None)), key=lambda case: len(repr(case)))[:3]
    examples = bullets([f"`{func}({', '.join(map(repr, args))})` returns `{want!r}`" for func, args, want in shown])
    named = " and ".join(f"`{sig}`" for sig in signatures)
    lead = paragraph(one_of(
        rng, f"/app/{module}.py is a stub: implement {named} in it.",
        f"Please implement {named} in /app/{module}.py (the file is there, with a placeholder body).",
        f"Fill in {named}, stubbed out in the module /app/{module}.py."))
    rules = paragraph(one_of(rng, "Use only the standard library.", "No third-party packages."),
                      "Keep the module name and the signature" + ("s" if len(signatures) > 1 else "")
                      + " as they are; tests import the module and call the function" +
                      ("s" if len(signatures) > 1 else "") + " directly.")
    what = one_of(rng, "The behaviour:", "What it must do:", "Details:")
    parts = [lead, what + "\n\n" + bullets(spec), "For example:\n\n" + examples, rules]
    if rng.random() < 0.5:
        parts[2], parts[3] = parts[3], parts[2]
    tests = f'''import importlib
import sys

import pytest

sys.dont_write_bytecode = True  # a rewrite of the module within the same second must not be missed
sys.path.insert(0, "/app")

MODULE = {module!r}
CASES = {cases!r}
ERRORS = {error_calls!r}


def call(func, args):
    return getattr(importlib.import_module(MODULE), func)(*args)


def normal(value):
    """A list of pairs may come back as lists or tuples."""
    if isinstance(value, list):
        return [tuple(item) if isinstance(item, list) else item for item in value]
    return value


@pytest.mark.parametrize("func,args,want", CASES)
def test_returns(func, args, want):
    got = call(func, args)
    if isinstance(want, bool):
        assert got is want, (args, got)
    assert normal(got) == want, (args, got)


@pytest.mark.parametrize("func,args", ERRORS)
def test_rejects(func, args):
    with pytest.raises(ValueError):
        call(func, args)
'''
    return GeneratedTask(
        family="python-function", category="python", difficulty=difficulty, instruction=instruction(*parts),
        files={f"{module}.py": stub}, solution=f"cat > /app/{module}.py <<'EOF_MODULE'\n{source}EOF_MODULE",
        tests=tests, tags=["python", "function", kind.__name__.strip("_")])


FAMILIES = [
    Family("python-function", "python", generate_python_function,
           "implement a function from a precise spec (durations, run-length codes, intervals, roman numerals ...)"),
]
