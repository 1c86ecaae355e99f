"""CSV work: aggregate a table by a key (sum, mean, count, max), written in a given shape."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict

from ..phrasing import CITIES, FIRST_NAMES, PRODUCTS, instruction, one_of, paragraph, sample
from ..spec import Family, GeneratedTask

SCHEMAS = [
    # (file stem, key column, key pool, numeric column, its unit, extra text column)
    ("sales", "region", CITIES, "units", "units sold", "product"),
    ("orders", "customer", FIRST_NAMES, "amount", "amount paid", "product"),
    ("inventory", "item", PRODUCTS, "quantity", "quantity on hand", "warehouse"),
]
OPERATIONS = {
    "sum": ("total", lambda values: sum(values)),
    "mean": ("average", lambda values: round(sum(values) / len(values), 2)),
    "max": ("largest", lambda values: max(values)),
    "count": ("number of rows", lambda values: len(values)),
}


def generate_csv_aggregate(rng: random.Random, difficulty: str) -> GeneratedTask:
    stem, key, pool, number, unit, extra = rng.choice(SCHEMAS)
    keys = sample(rng, pool, {"easy": 3, "medium": 5, "hard": 7}[difficulty])
    rows = []
    for _ in range(rng.randint(12, 18) if difficulty == "easy" else rng.randint(25, 45)):
        value = rng.randint(1, 60) if number != "amount" else round(rng.uniform(2, 300), 2)
        rows.append({key: rng.choice(keys), extra: rng.choice(PRODUCTS if extra == "product" else CITIES),
                     number: value})
    operation = rng.choice(["sum", "max", "count"] if difficulty == "easy" else list(OPERATIONS))
    word, apply = OPERATIONS[operation]
    threshold = None
    if difficulty == "hard":  # a filter first, and rows with a missing number to skip
        threshold = rng.choice([5, 10, 15]) if number != "amount" else rng.choice([20.0, 50.0])
        for row in rng.sample(rows, 3):
            row[number] = ""
    groups: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row[number] == "" or (threshold is not None and float(row[number]) < threshold):
            continue
        groups[row[key]].append(float(row[number]) if number == "amount" else int(row[number]))
    result = {name: apply(values) for name, values in groups.items()}
    out_format = rng.choice(["csv", "json"]) if difficulty != "easy" else "csv"
    order = rng.choice(["key", "value"])
    ordered = sorted(result.items(), key=(lambda kv: kv[0]) if order == "key" else (lambda kv: (-kv[1], kv[0])))
    column = f"{word.replace(' ', '_').replace('number_of_rows', 'rows')}_{number}" if operation != "count" else "rows"
    target = f"{stem}_by_{key}.{out_format}"

    source = io.StringIO()
    writer = csv.DictWriter(source, [key, extra, number], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)

    what = f"the {word} of `{number}`" if operation != "count" else "how many rows there are"
    sort_words = (f"sorted by {key} (A to Z)" if order == "key"
                  else f"from the largest value to the smallest (ties by {key}, A to Z)")
    shape = (f"a CSV file with the header `{key},{column}` and one line per {key}, {sort_words}"
             if out_format == "csv" else
             f"a JSON list of objects `{{\"{key}\": ..., \"{column}\": ...}}`, one per {key}, {sort_words}")
    asks = [
        paragraph(one_of(rng, f"`{stem}.csv` in /app has one row per record.", f"There is a CSV export at /app/{stem}.csv.",
                         f"Our {stem} data is in /app/{stem}.csv."),
                  f"For each {key}, work out {what}"
                  + (f", counting only rows whose `{number}` is at least {threshold:g} and skipping rows where it is "
                     "empty." if threshold is not None else ".")),
        paragraph(one_of(rng, "Write the result to", "Save it as", "Put the answer in"), f"/app/{target}:", shape + ".",
                  "Means are rounded to 2 decimals." if operation == "mean" else "",
                  "Keep the numbers as plain numbers (no units, no thousands separators)."),
    ]
    expected = [{key: name, column: value} for name, value in ordered]
    solution = f"""python3 - <<'PY'
import csv, json
from collections import defaultdict
groups = defaultdict(list)
with open("/app/{stem}.csv", newline="") as handle:
    for row in csv.DictReader(handle):
        if row["{number}"] == "":
            continue
        value = float(row["{number}"]) if "{number}" == "amount" else int(row["{number}"])
        if {threshold!r} is not None and value < {threshold!r}:
            continue
        groups[row["{key}"]].append(value)
ops = {{"sum": sum, "max": max, "count": len, "mean": lambda v: round(sum(v) / len(v), 2)}}
result = {{name: ops["{operation}"](values) for name, values in groups.items()}}
order = (lambda kv: kv[0]) if "{order}" == "key" else (lambda kv: (-kv[1], kv[0]))
rows = [{{"{key}": name, "{column}": value}} for name, value in sorted(result.items(), key=order)]
if "{out_format}" == "json":
    json.dump(rows, open("/app/{target}", "w"), indent=2)
else:
    with open("/app/{target}", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["{key}", "{column}"], lineterminator="\\n")
        writer.writeheader()
        writer.writerows(rows)
PY"""
    tests = f'''import csv
import json
from pathlib import Path

TARGET = Path("/app/{target}")
EXPECTED = {json.dumps(expected)}


def rows():
    assert TARGET.is_file(), "the result file is missing"
    if TARGET.suffix == ".json":
        return json.loads(TARGET.read_text())
    with TARGET.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["{key}", "{column}"], reader.fieldnames
        return list(reader)


def test_one_row_per_group_in_order():
    assert [str(row["{key}"]) for row in rows()] == [row["{key}"] for row in EXPECTED]


def test_the_values():
    for got, want in zip(rows(), EXPECTED):
        assert abs(float(got["{column}"]) - float(want["{column}"])) < 0.006, (got, want)
'''
    return GeneratedTask(
        family="csv-aggregate", category="data", difficulty=difficulty, instruction=instruction(*asks),
        files={f"{stem}.csv": source.getvalue()}, solution=solution, tests=tests,
        tags=["csv", "python", operation, out_format])


FAMILIES = [Family("csv-aggregate", "data", generate_csv_aggregate,
                   "group a CSV by a key and sum/average/count/max a column, in a given file shape")]
