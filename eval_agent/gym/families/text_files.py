"""Text chores: replace a term across a tree, count words, pull patterns out of messy notes.

Solutions and tests are a fixed body of Python under a line of parameters (`P = {...}`,
`EXPECTED = ...`): the parameters differ per task, the code that uses them reads the same."""

from __future__ import annotations

import calendar
import random
import re
from collections import Counter

from ..codegen import python_script, tests_module
from ..phrasing import (ADJECTIVES, CITIES, FIRST_NAMES, NOUNS, PRODUCTS, bullets, instruction, one_of, paragraph,
                        sample)
from ..spec import Family, GeneratedTask

MONTHS = list(calendar.month_name)[1:]


def _words(rng: random.Random, avoid: str = "") -> dict[str, str]:
    """Words to fill a sentence template with; none of them contains `avoid` (ignoring case)."""
    pools = {"name": FIRST_NAMES, "adj": ADJECTIVES, "noun": NOUNS, "city": CITIES, "product": PRODUCTS, "month": MONTHS}
    return {key: rng.choice([w for w in pool if not avoid or avoid not in w.lower()]) for key, pool in pools.items()}


def _filler(rng: random.Random, avoid: str = "") -> str:
    """A plain sentence; none of its words contains `avoid`."""
    return one_of(rng, "{name} reviewed the {adj} {noun} draft in {city}.", "Nobody expected the {noun} to be so {adj}.",
                  "The {product} order from {city} arrived {adj} and late.", "{name} keeps a {adj} {product} on the desk.",
                  "We meet in {city} next to the {adj} {noun}.").format(**_words(rng, avoid))


# -- text-replace ------------------------------------------------------------------------------

MENTIONS = ["The {x} service moved to {city} in {month}.", "Ask {name} about {x} before the {noun} review.",
            "We kept {x} in the {adj} {noun} notes.", "Every release of {x} ships with a {product}.",
            "{name} wrote the page on {x} for the team in {city}."]
LINE_STYLE = {"md": "- {}", "txt": "{}", "rst": "{}", "html": "<p>{}</p>", "py": "# {}", "cfg": "note = {}",
              "yaml": "- \"{}\""}


def generate_text_replace(rng: random.Random, difficulty: str) -> GeneratedTask:
    old = rng.choice(NOUNS) if rng.random() < 0.6 else f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    new = rng.choice([p for p in PRODUCTS + NOUNS if p not in old]) + one_of(rng, "", "hub", " cloud", " 2")
    avoid = old.split()[-1]  # filler never contains the term by accident
    exts = sample(rng, sorted(LINE_STYLE), 4)
    targets = exts[:2] if difficulty == "hard" else exts[:1]
    whole, nocase = difficulty != "easy", difficulty == "hard"
    skipped = one_of(rng, "archive", "vendor", "old") if difficulty == "hard" else None
    root = one_of(rng, "docs", "site", "handbook", "wiki", "project")
    folders = ["", "", "guides", "team", "api/v2", "notes"] + ([skipped] * 2 if skipped else [])
    count = {"easy": rng.randint(5, 7), "medium": rng.randint(8, 11), "hard": rng.randint(12, 16)}[difficulty]

    def mention() -> str:  # one occurrence of the term, in a shape the difficulty calls for
        shapes = [old, old, f"{old},", f"({old})", f'"{old}"', f"{old}-based"]
        if whole:  # inside a longer word: not a whole-word match
            shapes += [f"{old}s", f"{old}_id", f"sub{old}", f"{old}42"]
        if difficulty != "easy":  # another case: a match only when case is ignored
            shapes += [old.capitalize(), old.upper(), old.title()]
        return rng.choice(MENTIONS).format(x=rng.choice(shapes), **_words(rng, avoid))

    pattern = re.escape(old)
    if whole:
        pattern = rf"(?<![A-Za-z0-9_]){pattern}(?![A-Za-z0-9_])"
    regex = re.compile(pattern, re.IGNORECASE if nocase else 0)
    files, after, same = {}, {}, {}
    names = iter(rng.sample(NOUNS + [a + "_" + n for a in ADJECTIVES[:6] for n in NOUNS[:6]], count + 1))
    for index in range(count):
        ext = targets[index % len(targets)] if index < 2 * len(targets) else rng.choice(exts)
        folder = skipped if skipped and index == count - 1 else rng.choice(folders)
        path = "/".join(part for part in (folder, f"{next(names)}.{ext}") if part)
        sentences = [MENTIONS[0].format(x=old, **_words(rng, avoid))]  # at least one plain match per file
        sentences += [mention() if rng.random() < 0.5 else _filler(rng, avoid) for _ in range(rng.randint(2, 6))]
        rng.shuffle(sentences)
        text = "\n".join(LINE_STYLE[ext].format(s) for s in sentences) + "\n"
        files[f"{root}/{path}"] = text
        in_scope = ext in targets and not (skipped and path.startswith(skipped + "/"))
        (after if in_scope else same)[path] = regex.sub(lambda _: new, text) if in_scope else text
    if difficulty != "easy":  # a name that only looks like a match: notes.md.bak is not a .md file
        decoy = f"{next(names)}.{targets[0]}.bak"
        files[f"{root}/{decoy}"] = same[decoy] = MENTIONS[1].format(x=old, **_words(rng, avoid)) + "\n"

    globs = " and ".join(f"`*.{ext}`" for ext in targets)
    rules = [one_of(rng, f"Only files matching {globs} are edited", f"Touch only the {globs} files")
             + f", in /app/{root} and all its subfolders"
             + (f", except anything under /app/{root}/{skipped}/, which stays as it is." if skipped else ".")
             + " Every other file must stay byte-for-byte unchanged."]
    if whole:
        rules.append(f"Replace `{old}` only where it stands alone: not directly preceded or followed by a letter, "
                     f"a digit or an underscore (so `{old}s` and `{old}_id` stay, while `({old})`, `{old},` and "
                     f"`{old}-based` change).")
    else:
        rules.append(f"Replace every occurrence of `{old}`, exactly as written.")
    rules.append(f"Ignore case when matching (`{old.upper()}` and `{old.title()}` count too); the replacement is "
                 f"always written exactly `{new}`." if nocase else
                 f"Matching is case-sensitive: `{old.title()}` or `{old.upper()}` is not a match."
                 if difficulty != "easy" else "")
    intro = paragraph(one_of(
        rng, f"We renamed `{old}` to `{new}` and the text files under /app/{root} still use the old name.",
        f"The files in /app/{root} need an update: `{old}` is now called `{new}`.",
        f"Please replace `{old}` with `{new}` across the text files in /app/{root}."))
    closing = paragraph(one_of(rng, "Edit the files in place; do not rename or move anything.",
                               "Change the files where they are (no copies, no renames)."))
    tests = tests_module({"ROOT": f"/app/{root}", "AFTER": after, "SAME": same}, r'''
from pathlib import Path

def read(relative):
    path = Path(ROOT) / relative
    assert path.is_file(), f"{relative} is missing"
    return path.read_text(encoding="utf-8")


def test_matching_files_have_the_new_name():
    for relative, want in AFTER.items():
        assert read(relative).rstrip("\n") == want.rstrip("\n"), relative


def test_other_files_are_untouched():
    for relative, want in SAME.items():
        assert read(relative) == want, relative
''')
    solution = python_script({"root": f"/app/{root}", "pattern": pattern, "nocase": nocase, "new": new,
                        "exts": [f".{ext}" for ext in targets], "skip": skipped}, r'''
import os, re
regex = re.compile(P["pattern"], re.IGNORECASE if P["nocase"] else 0)
for folder, dirs, names in os.walk(P["root"]):
    if P["skip"] and os.path.relpath(folder, P["root"]).split(os.sep)[0] == P["skip"]:
        continue
    for name in names:
        if name.endswith(tuple(P["exts"])):
            path = os.path.join(folder, name)
            text = open(path, encoding="utf-8").read()
            open(path, "w", encoding="utf-8").write(regex.sub(lambda m: P["new"], text))
''')
    return GeneratedTask(
        family="text-replace", category="text", difficulty=difficulty,
        instruction=instruction(intro, rng.choice([bullets, lambda rs: paragraph(*rs)])([r for r in rules if r]),
                                closing), files=files, solution=solution,
        tests=tests, tags=["text", "find-replace"] + ["whole-word"] * whole + ["ignore-case"] * nocase)


# -- word-frequency ----------------------------------------------------------------------------

STOPWORDS = ["the", "a", "an", "and", "of", "to", "in", "is", "it", "that", "for", "on", "with", "was", "at", "but"]
WORD_RULES = {
    "letters": (r"[a-z]+", "a word is a run of letters a-z; everything else (spaces, digits, punctuation) separates words"),
    "apostrophes": (r"[a-z]+(?:'[a-z]+)*", ("a word is a run of letters a-z that may contain an apostrophe between two "
                                             "letters (`don't` and `falcon's` are single words); hyphens, digits and "
                                             "other punctuation separate words")),
}


def generate_word_frequency(rng: random.Random, difficulty: str) -> GeneratedTask:
    vocabulary = sample(rng, NOUNS + ADJECTIVES + PRODUCTS, {"easy": 20, "medium": 35, "hard": 50}[difficulty])
    vocabulary += [city.lower() for city in sample(rng, CITIES, 4)] + STOPWORDS
    rng.shuffle(vocabulary)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(vocabulary))]
    sentences = []
    for _ in range({"easy": 25, "medium": 45, "hard": 70}[difficulty]):
        words = rng.choices(vocabulary, weights, k=rng.randint(5, 13))
        for i, word in enumerate(words):  # decorations that a careless split gets wrong
            roll = rng.random()
            if difficulty != "easy" and roll < 0.06:
                words[i] = f'"{word}"' if roll < 0.03 else f"{word};"
            elif difficulty != "easy" and roll < 0.1:
                words[i] = f"{rng.randint(2, 2024)} {word}"
            elif difficulty == "hard" and roll < 0.16:
                words[i] = f"{word}-{rng.choice(vocabulary)}" if roll < 0.13 or word in STOPWORDS else f"{word}'s"
        if difficulty == "hard" and rng.random() < 0.2:
            words.insert(0, one_of(rng, "don't", "it's", "we'll"))
        sentence = " ".join(words)
        sentences.append(sentence[0].upper() + sentence[1:] + one_of(rng, ".", ".", "!", "?"))
    text = "".join(s + (" " if rng.random() < 0.7 else "\n") for s in sentences).rstrip() + "\n"
    rule = "apostrophes" if difficulty == "hard" else "letters"
    stopfile, stop_text, stop = None, "", set()
    if difficulty != "easy":
        listed = sample(rng, STOPWORDS, rng.randint(8, 12))
        stop = set(listed)
        lines = [w.title() if difficulty == "hard" and rng.random() < 0.3 else w for w in listed]
        if difficulty == "hard":
            lines = ["# words we do not count"] + lines[:4] + [""] + lines[4:]
        stopfile = one_of(rng, "stopwords.txt", "ignore_words.txt", "config/stopwords.txt")
        stop_text = "\n".join(lines) + "\n"
    counts = Counter(w for w in re.findall(WORD_RULES[rule][0], text.lower()) if w not in stop)
    top = rng.randint(*{"easy": (4, 6), "medium": (7, 10), "hard": (10, 15)}[difficulty])
    expected = [[w, n] for w, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    source = f"{rng.choice(NOUNS)}_{one_of(rng, 'notes', 'minutes', 'essay', 'transcript', 'letters')}.txt"
    out_format = rng.choice(["csv", "lines", "json"])
    target = one_of(rng, "", "reports/", "out/") + one_of(rng, "top_words", "word_counts", "frequent_words") + \
        {"csv": ".csv", "lines": ".txt", "json": ".json"}[out_format]
    shape = {"csv": "a CSV file with the header `word,count` and one row per word",
             "lines": "one line per word: the word, a single space, its count (no header)",
             "json": 'a JSON list of objects like `{"word": "maple", "count": 12}`'}[out_format]
    first = paragraph(one_of(rng, f"I need the {top} most frequent words of /app/{source}.",
                             f"Find the {top} words that occur most often in /app/{source}.",
                             f"/app/{source} is a long text; which {top} words does it use most?"))
    details = [f"Lower-case the text first; {WORD_RULES[rule][1]}.",
               "Rank by count, highest first; words with the same count go in alphabetical order.",
               f"Write {shape}, most frequent first, to /app/{target}"
               + (" (create the folder)." if "/" in target else ".")]
    if stopfile:
        details.insert(1, f"Leave out the words listed in /app/{stopfile}, one per line"
                       + (" (compare ignoring case; skip blank lines and lines starting with `#`)." if difficulty == "hard"
                          else ".") + " They do not count toward the top list.")
    tests = tests_module({"TARGET": f"/app/{target}", "FORMAT": out_format, "EXPECTED": expected}, r'''
import csv
import json
from pathlib import Path

def rows():
    path = Path(TARGET)
    assert path.is_file(), f"{TARGET} is missing"
    text = path.read_text(encoding="utf-8")
    if FORMAT == "json":
        return [[item["word"], int(item["count"])] for item in json.loads(text)]
    if FORMAT == "csv":
        reader = csv.reader(line for line in text.splitlines() if line.strip())
        assert [c.strip() for c in next(reader)] == ["word", "count"], "the header should be word,count"
        return [[word.strip(), int(count)] for word, count in reader]
    return [[line.split()[0], int(line.split()[1])] for line in text.splitlines() if line.strip()]


def test_the_top_words_in_order():
    assert [word for word, _ in rows()] == [word for word, _ in EXPECTED]


def test_the_counts():
    assert rows() == EXPECTED
''')
    solution = python_script({"source": f"/app/{source}", "stop": f"/app/{stopfile}" if stopfile else None,
                        "regex": WORD_RULES[rule][0], "top": top, "target": f"/app/{target}", "format": out_format}, r'''
import collections, csv, json, os, re
stop = set()
if P["stop"]:
    stop = {l.strip().lower() for l in open(P["stop"]) if l.strip() and not l.startswith("#")}
words = [w for w in re.findall(P["regex"], open(P["source"]).read().lower()) if w not in stop]
top = sorted(collections.Counter(words).items(), key=lambda kv: (-kv[1], kv[0]))[:P["top"]]
os.makedirs(os.path.dirname(P["target"]), exist_ok=True)
with open(P["target"], "w", newline="") as out:
    if P["format"] == "json":
        json.dump([{"word": w, "count": n} for w, n in top], out, indent=2)
    elif P["format"] == "csv":
        csv.writer(out, lineterminator="\n").writerows([("word", "count")] + top)
    else:
        out.writelines(f"{w} {n}\n" for w, n in top)
''')
    files = {source: text} | ({stopfile: stop_text} if stopfile else {})
    return GeneratedTask(
        family="word-frequency", category="text", difficulty=difficulty, files=files, solution=solution,
        instruction=instruction(first, rng.choice([bullets, lambda ds: paragraph(*ds)])(details)), tests=tests,
        tags=["text", "counting", out_format])


# -- regex-extract -----------------------------------------------------------------------------

# What the solution looks for, per kind (the instruction says the same in words).
EXTRACT = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": (r"(?<![\d+])(?:\+1[ -]\d{3}[ -]\d{3}[ -]\d{4}|\(\d{3}\) \d{3}-\d{4}|\d{3}-\d{3}-\d{4}"
              r"|\d{3}\.\d{3}\.\d{4})(?!\d)"),
    "date": r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)",
    "url": r"https?://[^\s<>()\[\]\"']+",
}
PHONE_STYLES = ["{a}-{b}-{c}", "({a}) {b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "+1-{a}-{b}-{c}"]
def _phone_styles(difficulty: str) -> list[str]:
    return PHONE_STYLES[:{"easy": 1, "medium": 3, "hard": 5}[difficulty]]


MENTION_LINES = ["Contact {m} if anything breaks.", "{name} mentioned {m} in the call.", "See {m} for the details.",
                 "- {m}", "Note from {name}: {m}", "Forwarded by {name}, {m} (from {city})"]


def _item(rng: random.Random, kind: str, difficulty: str) -> tuple[str, str]:
    """(the value as the output lists it, the value as the text writes it)."""
    noun, adj, n = rng.choice(NOUNS), rng.choice(ADJECTIVES), rng.randint(2, 99)
    if kind == "email":
        first = rng.choice(FIRST_NAMES).lower()
        value = (one_of(rng, first, f"{first}.{noun}", f"{first}{n}", f"{noun}+{adj}", f"{first}_{noun}") + "@"
                 + one_of(rng, f"{noun}.{rng.choice(['com', 'io', 'org', 'dev'])}", f"{adj}-{noun}.net",
                          f"mail.{noun}.co.uk"))
        written = value.title() if difficulty != "easy" and rng.random() < 0.3 else value
        return value, one_of(rng, written, f"{written},", f"{written}.", *(
            [f"<{written}>", f"({written})", f"mailto:{written}"] if difficulty != "easy" else []))
    if kind == "phone":
        a, b, c = rng.randint(201, 989), rng.randint(201, 989), rng.randint(0, 9999)
        return f"{a}-{b}-{c:04d}", rng.choice(_phone_styles(difficulty)).format(a=a, b=b, c=f"{c:04d}")
    if kind == "date":
        value = f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return value, one_of(rng, value, f"{value},", f"({value})", *(
            [f"{value}T{rng.randint(0, 23):02d}:{n % 60:02d}:00Z", f"{value} {rng.randint(0, 23):02d}:{n % 60:02d}",
             f"backup_{value}.tar.gz"] if difficulty != "easy" else []))
    value = (one_of(rng, "https", "http") + "://" + one_of(rng, f"{noun}.io", f"www.{noun}.com", f"{adj}.{noun}.org")
             + one_of(rng, "", "/", f"/{noun}", f"/docs/{adj}-{noun}.html", f"/{noun}/{n}")
             + one_of(rng, "", "", f"?id={n}", f"?q={adj}&page={n}") + one_of(rng, "", "", f"#{adj}"))
    return value, one_of(rng, value, f"{value}.", f"{value},", *(
        [f"<{value}>", f"({value})", f"[{noun}]({value})", f'"{value}"', f"{value}!"] if difficulty != "easy" else []))


def _decoys(rng: random.Random, kind: str, difficulty: str) -> list[str]:
    """Text that looks close to a match but is not one (by the rules the instruction states)."""
    noun, name, n = rng.choice(NOUNS), rng.choice(FIRST_NAMES), rng.randint(201, 989)
    return {
        "email": [f"{name.lower()}@localhost", f"@{noun}_team", f"{name.lower()} at {noun} dot com"],
        "phone": [f"{n}-{rng.randint(0, 9999):04d}", f"${rng.randint(1, 9)},{n}.50", f"order #{rng.randint(10**5, 10**6)}",
                  "2023-04-05"],
        "date": [f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2023",
                 f"{rng.randint(1, 28)} {rng.choice(MONTHS)} 2022",
                 *(["2023-02-30", f"2022-13-{rng.randint(1, 28):02d}", "2021-04-31"] if difficulty == "hard" else [])],
        "url": [f"ftp://files.{noun}.org/pub", f"www.{noun}.net", f"https:/{noun}.com"],
    }[kind][: (0 if difficulty == "easy" else 2 if difficulty == "medium" else None)]


def generate_regex_extract(rng: random.Random, difficulty: str) -> GeneratedTask:
    kind = rng.choice(list(EXTRACT))
    wanted = rng.randint(*{"easy": (5, 8), "medium": (10, 14), "hard": (15, 22)}[difficulty])
    values: dict[str, list[str]] = {}
    while len(values) < wanted:
        value, written = _item(rng, kind, difficulty)
        values.setdefault(value, []).append(written)
    mentions = [w for value, shapes in values.items() for w in shapes * rng.randint(1, 3 if difficulty != "easy" else 2)]
    mentions += _decoys(rng, kind, difficulty)
    rng.shuffle(mentions)
    folder = one_of(rng, "mail", "tickets", "notes", "exports")
    names = [f"{n}.txt" for n in sample(rng, NOUNS, 6)]
    if difficulty == "easy":
        names = [f"{rng.choice(NOUNS)}_{one_of(rng, 'notes', 'dump', 'tickets')}.txt"]
    elif difficulty == "hard":
        subfolders = [rng.choice(["", "2023/", "archive/", "inbox/"]) for _ in names]
        names = [f"{sub}{name[:-4]}.{ext}" for sub, name, ext in zip(subfolders, names, ["txt", "md", "log", "eml"] * 2)]
    names = names[: {"easy": 1, "medium": 3, "hard": 6}[difficulty]]
    chunks: dict[str, list[str]] = {name: [] for name in names}
    for mention in mentions:
        chunks[rng.choice(names)].append(rng.choice(MENTION_LINES).format(
            m=mention, name=rng.choice(FIRST_NAMES), city=rng.choice(CITIES)))
        chunks[rng.choice(names)].append(_filler(rng))
    prefix = "" if difficulty == "easy" else f"{folder}/"
    files = {prefix + name: "\n".join(lines) + "\n" for name, lines in chunks.items()}
    expected = sorted(values)
    what = {
        "email": ("e-mail addresses", "e-mail address", (
            "an address is a local part of letters, digits and `._%+-`, an `@`, and a domain of letters, digits, "
            "hyphens and dots that ends in a dot and two or more letters; write them in lower case (`Ada@Falcon.io` is "
            "`ada@falcon.io`)")),
        "phone": ("phone numbers", "phone number", "the numbers have 10 digits written as "
                  + ", ".join(f"`{s.format(a='NNN', b='NNN', c='NNNN')}`" for s in _phone_styles(difficulty))
                  + "; write each one as `NNN-NNN-NNNN`" + (" (without the +1)" if difficulty == "hard" else "")
                  + "; shorter numbers, prices and order numbers are not phone numbers"),
        "date": ("ISO dates", "ISO date",
                 "a date is `YYYY-MM-DD` (four digits, dash, two, dash, two, not part of a longer run of digits), "
                 "wherever it appears, also inside a timestamp or a file name; other date styles do not count"
                 + ("; leave out dates that do not exist on the calendar, such as `2023-02-30`" if difficulty == "hard"
                    else "")),
        "url": ("URLs", "URL", (
            "a URL starts with `http://` or `https://` and runs until whitespace or one of `< > ( ) [ ] \" '`; a `.`, "
            "`,`, `;`, `:`, `!` or `?` at its very end is punctuation, not part of it; keep URLs exactly as written")),
    }[kind]
    target = one_of(rng, f"{kind}s.txt", f"found_{kind}s.txt", f"out/{kind}s.txt", f"extracted/{kind}_list.txt")
    where = (f"/app/{names[0]}" if difficulty == "easy" else f"the files in /app/{folder}"
             + (" and its subfolders" if difficulty == "hard" else ""))
    asks = [paragraph(one_of(rng, f"I need all the {what[0]} that appear in {where}.",
                             f"Pull every {what[1]} out of {where}.",
                             f"Collect the {what[0]} mentioned in {where}."),
                      one_of(rng, "The text is messy.", "It is free text, written by hand.", ""),
                      f"For this job, {what[2]}."),
            paragraph(f"Write them to /app/{target}, one per line, sorted in ascending (plain character) order, with no "
                      "duplicates and nothing else on the lines." + (" Create the folder." if "/" in target else ""))]
    tests = tests_module({"TARGET": f"/app/{target}", "EXPECTED": expected}, r'''
from pathlib import Path

def listed():
    path = Path(TARGET)
    assert path.is_file(), f"{TARGET} is missing"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_no_duplicates_and_sorted():
    assert listed() == sorted(set(listed()))


def test_exactly_the_expected_values():
    assert listed() == EXPECTED
''')
    solution = python_script({"paths": [f"/app/{prefix}{name}" for name in names], "kind": kind, "regex": EXTRACT[kind],
                        "target": f"/app/{target}"}, r'''
import datetime, os, re
found = set()
for path in P["paths"]:
    for match in re.findall(P["regex"], open(path, encoding="utf-8").read()):
        if P["kind"] == "email":
            found.add(match.lower())
        elif P["kind"] == "phone":
            digits = re.sub(r"\D", "", match)[-10:]
            found.add(f"{digits[:3]}-{digits[3:6]}-{digits[6:]}")
        elif P["kind"] == "date":
            try:
                datetime.date.fromisoformat(match)
                found.add(match)
            except ValueError:
                pass
        else:
            found.add(match.rstrip(".,;:!?"))
os.makedirs(os.path.dirname(P["target"]), exist_ok=True)
open(P["target"], "w").write("".join(f"{value}\n" for value in sorted(found)))
''')
    return GeneratedTask(
        family="regex-extract", category="text", difficulty=difficulty, instruction=instruction(*asks), files=files,
        solution=solution, tests=tests, tags=["text", "regex", kind])


FAMILIES = [
    Family("text-replace", "text", generate_text_replace,
           "replace a word or phrase in the files of a tree that match a glob; whole-word, ignore-case variants"),
    Family("word-frequency", "text", generate_word_frequency,
           "the N most frequent words of a text (stopwords, ties alphabetical) as CSV, lines or JSON"),
    Family("regex-extract", "text", generate_regex_extract,
           "e-mails, phone numbers, ISO dates or URLs out of messy text into a unique sorted list"),
]
