"""JSON work: reshape a nested document (flatten, select and rename, filter, sort). The records'
themes and value helpers serve data_json_csv.py too."""

from __future__ import annotations

import json
import random
from pprint import pformat

from ..phrasing import CITIES, FIRST_NAMES, NOUNS, PRODUCTS, instruction, one_of, paragraph, slug
from ..codegen import DOTTED_GET
from ..spec import Family, GeneratedTask

# A theme: the records' fields as dotted paths, each with how its values are drawn:
# ("choice", pool) | ("int", low, high) | ("float", low, high) | ("bool",). "deep" fields (three
# levels) only appear in hard tasks. Last path segments are unique within a theme (renames use them).
THEMES = {
    "users": {
        "wrappers": ["users", "accounts", "members"],
        "fields": [("name", "choice", FIRST_NAMES), ("profile.city", "choice", CITIES), ("profile.age", "int", 18, 70),
                   ("account.plan", "choice", ["free", "basic", "pro", "team"]), ("account.active", "bool"),
                   ("stats.logins", "int", 0, 400), ("stats.score", "float", 0, 100)],
        "deep": [("profile.contact.verified", "bool"), ("stats.last_seen.days_ago", "int", 0, 90)],
    },
    "devices": {
        "wrappers": ["devices", "hosts", "machines"],
        "fields": [("hostname", "choice", NOUNS), ("location.site", "choice", CITIES), ("location.rack", "int", 1, 40),
                   ("status", "choice", ["up", "down", "maintenance", "retired"]), ("specs.cores", "int", 2, 64),
                   ("specs.ram_gb", "int", 4, 512), ("metrics.temp_c", "float", 20, 90)],
        "deep": [("metrics.disk.used_pct", "float", 5, 99), ("specs.os.release", "choice", ["11", "12", "22.04"])],
    },
    "products": {
        "wrappers": ["products", "items", "catalog"],
        "fields": [("title", "choice", PRODUCTS), ("vendor.country", "choice", CITIES), ("vendor.rating", "int", 1, 5),
                   ("category", "choice", ["home", "office", "outdoor", "audio"]), ("pricing.price", "float", 3, 400),
                   ("pricing.on_sale", "bool"), ("stock.units", "int", 0, 250)],
        "deep": [("stock.warehouse.aisle", "int", 1, 30), ("pricing.tax.rate_pct", "int", 0, 25)],
    },
}
TAGS = ["new", "legacy", "vip", "beta", "eu", "us", "trial", "internal"]


def _value(rng: random.Random, spec: tuple):
    kind = spec[1]
    if kind == "choice":
        return rng.choice(spec[2])
    if kind == "int":
        return rng.randint(spec[2], spec[3])
    if kind == "float":
        return round(rng.uniform(spec[2], spec[3]), rng.choice([1, 2]))
    return rng.random() < 0.6


def _records(rng: random.Random, fields: list[tuple], count: int) -> list[dict]:
    """Nested records built from dotted paths, with unique ids and a list of tags."""
    records = []
    for record_id in sorted(rng.sample(range(100, 1000), count)):
        record: dict = {"id": record_id}
        for spec in fields:
            *parents, leaf = spec[0].split(".")
            node = record
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = _value(rng, spec)
        record["tags"] = rng.sample(TAGS, rng.randint(0, 3))
        records.append(record)
    return records


def _get(record: dict, path: str):
    """The value at a dotted path, or None where it is missing."""
    node = record
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _flatten(obj: dict, separator: str, prefix: str = "") -> dict:
    out = {}
    for key, value in obj.items():
        name = f"{prefix}{separator}{key}" if prefix else key
        out.update(_flatten(value, separator, name) if isinstance(value, dict) else {name: value})
    return out


OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}
OP_WORDS = {">=": "at least", ">": "greater than", "<=": "at most", "<": "less than"}


def _threshold(rng: random.Random, values: list):
    """A cut inside the data, so a filter keeps some records and drops others."""
    ordered = sorted(v for v in values if v is not None)
    cut = ordered[int(len(ordered) * rng.uniform(0.3, 0.7))]
    return cut if isinstance(cut, int) else round(cut, 1)


def generate_json_transform(rng: random.Random, difficulty: str) -> GeneratedTask:
    theme_name = rng.choice(list(THEMES))
    theme = THEMES[theme_name]
    fields = theme["fields"] + (theme["deep"] if difficulty == "hard" else [])
    records = _records(rng, fields, {"easy": 8, "medium": 14, "hard": 20}[difficulty] + rng.randint(0, 4))
    wrapper = rng.choice(theme["wrappers"])
    source = f"{rng.choice(['export', 'dump', 'snapshot', 'raw'])}_{theme_name}.json"
    target = f"{rng.choice(['clean', 'flat', 'report', 'selected'])}_{wrapper}." + "json"
    categorical = [s for s in theme["fields"] if s[1] == "choice" and len(s[2]) <= 6]  # few values: filters keep some
    numeric = [s[0] for s in theme["fields"] if s[1] in ("int", "float")]
    meta = {"generated_by": slug(rng, "-"), "count": len(records)}
    separator = "." if difficulty != "easy" else one_of(rng, ".", "_", "/")

    if difficulty == "hard":  # some records lack values (missing or null): output keeps every key, as null
        for record in rng.sample(records, len(records) // 4):
            path = rng.choice(fields)[0]
            *parents, leaf = path.split(".")
            node = _get(record, ".".join(parents)) if parents else record
            if rng.random() < 0.5:
                node.pop(leaf, None)
            else:
                node[leaf] = None
        document = {"meta": meta, "data": {wrapper: records}}
        where = f'`data.{wrapper}`'
    else:
        document = {"meta": meta, wrapper: records}
        where = f"`{wrapper}`"

    keep = None  # the test on an original record
    flat_sort = ""
    if difficulty == "easy":
        cat_path = rng.choice(categorical)[0]
        seen = [_get(r, cat_path) for r in records]
        wanted = rng.choice(sorted({v for v in seen if seen.count(v) > 1} or set(seen)))  # keep 2+ when possible
        keep = lambda r: _get(r, cat_path) == wanted
        output = [_flatten(r, separator) for r in records if keep(r)]
        condition = f"`{cat_path}` is `{json.dumps(wanted)}`"
        outer, inner = fields[1][0].split(".")
        asks = [f"flatten each record: nested objects become single keys joined with `{separator}` (so "
                f"`{{\"{outer}\": {{\"{inner}\": ...}}}}` gives the key `{outer}{separator}{inner}`); lists stay lists",
                f"keep only the records where {condition}, in their original order",
                f"write them as a JSON array of objects to /app/{target}"]
    else:
        num_path = rng.choice(numeric)
        op = rng.choice(list(OPS))
        cut = _threshold(rng, [_get(r, num_path) for r in records])
        condition = f"`{num_path}` is {OP_WORDS[op]} {cut}"
        sort_path = rng.choice(numeric)
        if difficulty == "medium":
            chosen = ["id", sort_path] + rng.sample([s[0] for s in fields if s[0] != sort_path], rng.randint(2, 3))
            rng.shuffle(chosen)
            keep = lambda r: OPS[op](_get(r, num_path), cut)
        else:
            chosen = ["id"] + [s[0] for s in fields] + ["tags"]
            cat_path = rng.choice(categorical)[0]
            allowed = sorted(rng.sample(sorted({_get(r, cat_path) for r in records} - {None}), 2))
            keep = lambda r: (_get(r, num_path) is not None and OPS[op](_get(r, num_path), cut)
                              and _get(r, cat_path) in allowed)
            condition += f" and `{cat_path}` is one of {', '.join(f'`{a}`' for a in allowed)}"
        style = rng.choice(["last", "joined", "camel"])
        names = {}
        for path in chosen:
            parts = path.split(".")
            names[path] = {"last": parts[-1], "joined": "_".join(parts),
                           "camel": parts[0] + "".join(p.title().replace("_", "") for p in parts[1:])}[style]
        if difficulty == "hard":  # only a few renamed; the rest keep their dotted names
            renamed = rng.sample([p for p in chosen if "." in p], 3)
            names = {p: (names[p] if p in renamed else p) for p in chosen}
        descending = rng.random() < 0.5
        kept = [r for r in records if keep(r)]
        kept.sort(key=lambda r: (_get(r, sort_path) is None, -_get(r, sort_path) if descending and
                                 _get(r, sort_path) is not None else _get(r, sort_path) or 0, r["id"]))
        output = [{names[p]: _get(r, p) for p in chosen} for r in kept]
        flat_sort = (f"sorted by `{names[sort_path]}` {'from highest to lowest' if descending else 'from lowest to highest'}"
                     f" (ties by `id`, lowest first" + ("; records without a value last" if difficulty == "hard" else "")
                     + ")")
        table = "\n".join(f"   - `{p}` -> `{names[p]}`" for p in chosen)
        out_kind = "list" if difficulty == "medium" else rng.choice(["keyed", "jsonl"])
        if out_kind == "keyed":
            output = {str(row[names["id"]]): row for row in output}
            shape = (f"write /app/{target}: one JSON object whose keys are the ids as strings (e.g. "
                     f"`\"{records[0]['id']}\"`) and whose values are the reshaped records (id included)")
        elif out_kind == "jsonl":
            target = target.replace(".json", ".jsonl")
            shape = f"write /app/{target} as JSON Lines: one reshaped record per line, {flat_sort}"
        else:
            shape = f"write them to /app/{target} as a JSON array, {flat_sort}"
        asks = [f"keep only the records where {condition}" + ("; a record where either value is missing or "
                                                             "null is dropped" if difficulty == "hard" else ""),
                "reshape each kept record so it has exactly these keys (input path -> output key):\n" + table
                + ("\n   Every output record has all of these keys; use null where the input lacks the value."
                   if difficulty == "hard" else ""),
                shape]

    intro = one_of(rng, f"/app/{source} is a JSON export; the records are the array under {where}.",
                   f"There is a JSON document at /app/{source}. Its records sit in the array at {where}.",
                   f"Our {theme_name} come as nested JSON in /app/{source} (the list at {where}).")
    lead = one_of(rng, "Please:", "What I need:", "Steps:")
    text = instruction(paragraph(intro, one_of(rng, "Ignore the `meta` part.", "The `meta` object is not needed.")),
                       lead + "\n" + "\n".join(f"{i + 1}. {step}" for i, step in enumerate(asks)),
                       paragraph(one_of(rng, "Values are copied as they are (numbers stay numbers).",
                                        "Keep the value types of the input: numbers as numbers, booleans as booleans.")))
    solution = _transform_solution(difficulty, source, target, wrapper, separator, locals())
    tests = f'''import json
from pathlib import Path

TARGET = Path("/app/{target}")
EXPECTED = {pformat(output, width=110)}


def load():
    assert TARGET.is_file(), "the output file is missing"
    text = TARGET.read_text()
    if TARGET.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def test_the_records_kept():
    got = load()
    assert type(got) is type(EXPECTED)
    if isinstance(EXPECTED, dict):
        assert sorted(got) == sorted(EXPECTED)
    else:
        assert [row.get("id") for row in got] == [row["id"] for row in EXPECTED]


def test_the_records_shape_and_values():
    got = load()
    assert got == EXPECTED
    pairs = [(got[key], EXPECTED[key]) for key in EXPECTED] if isinstance(got, dict) else zip(got, EXPECTED)
    for row, want in pairs:  # True == 1 in Python: compare the types too
        assert {{k: type(v).__name__ for k, v in row.items()}} == {{k: type(v).__name__ for k, v in want.items()}}
'''
    return GeneratedTask(family="json-transform", category="data", difficulty=difficulty, instruction=text,
                         files={source: json.dumps(document, indent=2) + "\n"}, solution=solution, tests=tests,
                         tags=["json", "python", theme_name])


def _transform_solution(difficulty: str, source: str, target: str, wrapper: str, separator: str, v: dict) -> str:
    """The reference solution, written out from the task's parameters."""
    head = f'''python3 - <<'PY'
import json

doc = json.load(open("/app/{source}"))
records = doc{'["data"]' if difficulty == "hard" else ""}["{wrapper}"]


{DOTTED_GET}
'''
    if difficulty == "easy":
        return head + f'''
def flatten(obj, prefix=""):
    out = {{}}
    for key, value in obj.items():
        name = prefix + "{separator}" + key if prefix else key
        out.update(flatten(value, name) if isinstance(value, dict) else {{name: value}})
    return out


rows = [flatten(r) for r in records if get(r, "{v['cat_path']}") == {v['wanted']!r}]
json.dump(rows, open("/app/{target}", "w"), indent=2)
PY'''
    test = f'get(r, "{v["num_path"]}") is not None and get(r, "{v["num_path"]}") {v["op"]} {v["cut"]!r}'
    if difficulty == "hard":
        test += f' and get(r, "{v["cat_path"]}") in {v["allowed"]!r}'
    sort_key = (f'(get(r, "{v["sort_path"]}") is None, ' + ("-" if v["descending"] else "")
                + f'(get(r, "{v["sort_path"]}") or 0), r["id"])')
    body = head + f'''NAMES = {v['names']!r}
kept = sorted((r for r in records if {test}), key=lambda r: {sort_key})
rows = [{{name: get(r, path) for path, name in NAMES.items()}} for r in kept]
'''
    if v["out_kind"] == "keyed":
        body += f'json.dump({{str(row["{v["names"]["id"]}"]): row for row in rows}}, open("/app/{target}", "w"), indent=2)\n'
    elif v["out_kind"] == "jsonl":
        body += f'open("/app/{target}", "w").write("".join(json.dumps(row) + "\\n" for row in rows))\n'
    else:
        body += f'json.dump(rows, open("/app/{target}", "w"), indent=2)\n'
    return body + "PY"


FAMILIES = [
    Family("json-transform", "data", generate_json_transform,
           "flatten, select/rename and filter the records of a nested JSON document into a given shape"),
]
