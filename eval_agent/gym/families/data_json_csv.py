"""JSON to CSV: turn a list of records into CSV with a stated column order and rules for missing,
boolean, list and nested values (uneven keys on harder tasks)."""

from __future__ import annotations

import json
import random
from pprint import pformat

from ..phrasing import CITIES, FIRST_NAMES, NOUNS, PRODUCTS, bullets, instruction, one_of, paragraph
from ..codegen import DOTTED_GET
from ..spec import Family, GeneratedTask
from .data_json import TAGS, _get, _value


NOTES = ["leave at door", "fragile, handle with care", 'ask for "Sam"', "urgent", "call first, then ring",
         'gift: wrap it, no "price" tag', "second attempt", "ok"]
CSV_THEMES = {
    # id key, fields as in THEMES plus ("list", pool), ("zip",) and ("text",)
    "contacts": ("contact_id", [("name", "choice", FIRST_NAMES), ("address.city", "choice", CITIES), ("address.zip", "zip"),
                                ("subscribed", "bool"), ("score", "int", 0, 100), ("tags", "list", TAGS),
                                ("note", "text")]),
    "orders": ("order_id", [("customer", "choice", FIRST_NAMES), ("items", "list", PRODUCTS), ("total", "float", 5, 900),
                            ("shipping.city", "choice", CITIES), ("shipping.method", "choice", ["post", "courier", "pickup"]),
                            ("paid", "bool"), ("comment", "text")]),
    "sensors": ("sensor_id", [("label", "choice", NOUNS), ("position.lat", "float", -60, 60), ("position.lon", "float", -170, 170),
                              ("unit", "choice", ["C", "F", "kPa", "lux"]), ("active", "bool"), ("alerts", "list", NOUNS),
                              ("remark", "text")]),
}
BOOL_STYLES = [("true", "false"), ("yes", "no"), ("1", "0"), ("Y", "N")]


def _csv_value(rng: random.Random, spec: tuple):
    if spec[1] == "list":
        return rng.sample(spec[2], rng.randint(0, 3))
    if spec[1] == "zip":
        return f"{rng.randint(0, 99999):05d}"  # a string: leading zeros must survive
    if spec[1] == "text":
        return rng.choice(NOTES)
    return _value(rng, spec)


def generate_json_to_csv(rng: random.Random, difficulty: str) -> GeneratedTask:
    theme_name = rng.choice(list(CSV_THEMES))
    id_key, fields = CSV_THEMES[theme_name]
    if difficulty == "easy":  # top-level scalars only
        fields = [s for s in fields if "." not in s[0] and s[1] not in ("list", "text")]
    elif difficulty == "medium":
        fields = [s for s in fields if s[1] != "text"]
    count = {"easy": 6, "medium": 10, "hard": 14}[difficulty] + rng.randint(0, 4)
    records = []
    for record_id in sorted(rng.sample(range(1, 500), count)):
        record: dict = {id_key: record_id}
        for spec in CSV_THEMES[theme_name][1]:
            *parents, leaf = spec[0].split(".")
            node = record
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = _csv_value(rng, spec)
        records.append(record)

    picked = rng.sample(fields, {"easy": 3, "medium": 5, "hard": 6}[difficulty])
    if difficulty != "easy":  # make sure the rules for lists and nesting are exercised
        for must in ([s for s in fields if s[1] == "list"][:1] + [s for s in fields if "." in s[0]][:1]
                     + ([s for s in fields if s[1] == "text"] if difficulty == "hard" else [])):
            if must not in picked:
                picked[rng.choice([i for i, s in enumerate(picked) if s[1] != "list" and "." not in s[0]
                                   and s[1] != "text"])] = must
    columns = [(id_key, id_key, "int")] + [(s[0], s[0], s[1]) for s in picked]
    rng.shuffle(columns)
    if difficulty != "easy":  # nested paths get a column name; hard renames a few more
        naming = rng.choice(["_", "."])
        columns = [(p.replace(".", naming) if "." in p else p, p, k) for _, p, k in columns]
    if difficulty == "hard":
        for i in rng.sample(range(len(columns)), 2):
            name, path, kind = columns[i]
            columns[i] = (rng.choice(["", "col_", "x_"]) + name.split(".")[-1].split("_")[-1]
                          + rng.choice(["_value", "_field", "2", "_out"]), path, kind)
    true_word, false_word = rng.choice(BOOL_STYLES)
    list_sep = rng.choice([";", "|", " "])

    def missing_some(share: float, whole_objects: bool) -> None:
        for record in rng.sample(records, int(len(records) * share)):
            spec = rng.choice(fields)
            *parents, leaf = spec[0].split(".")
            node = record[parents[0]] if parents else record
            if parents and whole_objects and rng.random() < 0.4:
                record.pop(parents[0])
            elif rng.random() < 0.5:
                node.pop(leaf, None)
            else:
                node[leaf] = None

    sort_column = None
    if difficulty == "medium":
        missing_some(0.25, False)
    elif difficulty == "hard":  # inconsistent keys: missing, null, whole objects gone, extras, shuffled order
        missing_some(0.4, True)
        for record in rng.sample(records, len(records) // 3):
            record[rng.choice(["legacy_id", "_rev", "source", "flags"])] = rng.choice([1, "x", True, [1, 2], {"a": 1}])
        for i, record in enumerate(records):
            items = list(record.items())
            rng.shuffle(items)
            records[i] = dict(items)
        sort_column = rng.choice([c for c in columns if c[2] == "choice"] or columns[:1])

    def cell(record: dict, path: str, kind: str) -> str:
        value = _get(record, path)
        if value is None:
            return ""
        if kind == "bool":
            return true_word if value else false_word
        if kind == "list":
            return list_sep.join(str(item) for item in value)
        return str(value)

    rows = [[cell(r, p, k) for _, p, k in columns] for r in records]
    if sort_column is not None:
        position = columns.index(sort_column)
        id_position = [c[1] for c in columns].index(id_key)
        rows.sort(key=lambda row: (row[position] == "", row[position], int(row[id_position])))
    header = [name for name, _, _ in columns]
    numeric = [i for i, c in enumerate(columns) if c[2] in ("int", "float")]
    source = f"{theme_name}{rng.choice(['', '_export', '_api', '_list'])}.json"
    target = f"{rng.choice(['out', 'csv', 'reports', 'export'])}/{theme_name}_{rng.choice(['table', 'flat', 'sheet'])}.csv"

    rules = [f"the header line is exactly `{','.join(header)}`, in that order"]
    mapped = [(name, path) for name, path, _ in columns if name != path or "." in path]
    if mapped:
        rules.append("these columns come from: " + "; ".join(f"`{n}` <- `{p}`" for n, p in mapped)
                     + " (a dotted path means a key inside a nested object); every other column is the key of the same name")
    if any(k == "bool" for _, _, k in columns):
        rules.append(f"booleans are written as `{true_word}` / `{false_word}`")
    if any(k == "list" for _, _, k in columns):
        rules.append(f"a list is written as its items joined by `{list_sep}`" + (" (a single space)" if list_sep == " " else "")
                     + "; an empty list is an empty cell")
    if difficulty != "easy":
        rules.append("a missing key, a missing nested object or a null is an empty cell")
    if difficulty == "hard":
        rules.append("keys that are not one of these columns are ignored")
        id_name = [n for n, p, _ in columns if p == id_key][0]
        rules.append(f"rows are sorted by `{sort_column[0]}` (A to Z, empty cells last), then by `{id_name}` (lowest first)")
        rules.append("text containing commas or quotes is quoted the usual CSV way")
    else:
        rules.append("one row per record, in the order of the JSON array")
    intro = one_of(rng, f"/app/{source} holds a JSON array of {theme_name[:-1]} records.",
                   f"I exported our {theme_name} as JSON to /app/{source} (an array of objects).",
                   f"The file /app/{source} is a list of {theme_name} objects"
                   + (", and not every record has the same keys." if difficulty == "hard" else "."))
    ask = one_of(rng, f"Convert it to CSV at /app/{target}.", f"Please turn it into a CSV file, /app/{target}.",
                 f"I need the same data as CSV in /app/{target}.")
    text = instruction(paragraph(*((intro, ask) if rng.random() < 0.6 else (ask, intro))),
                       one_of(rng, "Rules:", "The format:", "Details:") + "\n" + bullets(rules),
                       paragraph("Plain comma-separated values, numbers written as they are in the JSON (no extra "
                                 "formatting), text written as is (strings such as zip codes keep leading zeros)."))
    solution = f'''mkdir -p /app/{target.rsplit("/", 1)[0]}
python3 - <<'PY'
import csv, json

COLUMNS = {[(n, p) for n, p, _ in columns]!r}  # (header, path in the record)


{DOTTED_GET}

def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "{true_word}" if value else "{false_word}"
    if isinstance(value, list):
        return "{list_sep}".join(str(item) for item in value)
    return str(value)


records = json.load(open("/app/{source}"))
rows = [[cell(get(r, path)) for _, path in COLUMNS] for r in records]
'''
    if sort_column is not None:
        solution += (f"rows.sort(key=lambda row: (row[{position}] == '', row[{position}], int(row[{id_position}])))\n")
    solution += f'''with open("/app/{target}", "w", newline="") as handle:
    writer = csv.writer(handle, lineterminator="\\n")
    writer.writerow([name for name, _ in COLUMNS])
    writer.writerows(rows)
PY'''
    tests = f'''import csv
from pathlib import Path

TARGET = Path("/app/{target}")
HEADER = {header!r}
ROWS = {pformat(rows, width=110)}
NUMERIC = {numeric!r}  # columns compared as numbers (12.5 and 12.50 are the same value)


def read():
    assert TARGET.is_file(), "the CSV file is missing"
    with TARGET.open(newline="") as handle:
        return [row for row in csv.reader(handle) if row]


def test_header():
    assert read()[0] == HEADER


def test_one_row_per_record_in_order():
    got = read()[1:]
    assert len(got) == len(ROWS)
    key = HEADER.index({[n for n, p, _ in columns if p == id_key][0]!r})
    assert [row[key] for row in got] == [row[key] for row in ROWS]


def test_cells():
    for got, want in zip(read()[1:], ROWS):
        assert len(got) == len(want), got
        for i, (a, b) in enumerate(zip(got, want)):
            if i in NUMERIC and a != "" and b != "":
                assert abs(float(a) - float(b)) < 1e-9, (HEADER[i], a, b)
            else:
                assert a == b, (HEADER[i], a, b)
'''
    return GeneratedTask(family="json-to-csv", category="data", difficulty=difficulty, instruction=text,
                         files={source: json.dumps(records, indent=2) + "\n"}, solution=solution, tests=tests,
                         tags=["json", "csv", "python", theme_name])


FAMILIES = [
    Family("json-to-csv", "data", generate_json_to_csv,
           "convert a JSON list of records to CSV: column order, missing/boolean/list/nested values, uneven keys"),
]
