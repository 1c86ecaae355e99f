"""SQLite work: a report from a join and an aggregate over a small database (built into bytes at
generation time, with _database, which data_sqlite_import.py uses too)."""

from __future__ import annotations

import random
import re
import sqlite3
import tempfile
from pathlib import Path
from pprint import pformat

from ..phrasing import CITIES, FIRST_NAMES, NOUNS, PRODUCTS, bullets, instruction, one_of, paragraph, sample, slug
from ..spec import Family, GeneratedTask


def _database(tables: dict[str, tuple[str, list[tuple]]], query: str = "") -> tuple[bytes, list[tuple]]:
    """An SQLite file as bytes (table name -> (column definitions, rows)), and the rows `query` gives on it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db.sqlite"
        con = sqlite3.connect(path)
        for name, (columns, rows) in tables.items():
            con.execute(f"CREATE TABLE {name} ({columns})")
            if rows:
                con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        con.commit()
        found = con.execute(query).fetchall() if query else []
        con.close()
        return path.read_bytes(), found


def _dates(rng: random.Random, count: int) -> list[str]:
    return [f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(count)]


# -- sqlite-report: each schema builds its tables and describes what can be asked of them ---------------
# A schema gives: tables; the fact table and its alias; the SQL joins per dimension alias (with the
# aliases a join needs first); groups (label, "alias.column"); measures (label, SQL summed or None to
# count, words, is money); filters (SQL, words); a column that may be NULL in hard tasks; and the key
# that hard tasks point at missing rows.
def _shop(rng: random.Random, size: int):
    cities = sample(rng, CITIES, 4)
    categories = sample(rng, ["kitchen", "garden", "office", "audio", "travel", "toys"], 3)
    customers = [(i + 1, name, rng.choice(cities)) for i, name in enumerate(sample(rng, FIRST_NAMES, 6 + size))]
    products = [(i + 1, name, rng.choice(categories), round(rng.uniform(2, 120), 2))
                for i, name in enumerate(sample(rng, PRODUCTS, 5 + size))]
    statuses = ["shipped", "pending", "cancelled", "delivered"]
    orders = [(i + 1, rng.randint(1, len(customers)), rng.randint(1, len(products)), rng.randint(1, 9),
               rng.choice(statuses), day) for i, day in enumerate(_dates(rng, 25 + 10 * size))]
    tables = {"customers": ("id INTEGER PRIMARY KEY, name TEXT, city TEXT", customers),
              "products": ("id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL", products),
              "orders": ("id INTEGER PRIMARY KEY, customer_id INTEGER, product_id INTEGER, quantity INTEGER, "
                         "status TEXT, ordered_on TEXT", orders)}
    day = rng.choice(["2024-04-01", "2024-06-15", "2024-09-01"])
    two = sorted(rng.sample(statuses, 2))
    return dict(
        tables=tables, fact=("orders", "o"), noun="orders", nullable="o.quantity", orphan=("o.customer_id", "customer"),
        joins={"c": ("JOIN customers c ON c.id = o.customer_id", ()), "p": ("JOIN products p ON p.id = o.product_id", ())},
        groups=[("city", "c.city"), ("customer", "c.name"), ("category", "p.category"), ("product", "p.name")],
        measures=[("revenue", "o.quantity * p.price", "revenue (quantity times the product's price)", True),
                  ("units", "o.quantity", "units ordered (sum of quantity)", False),
                  ("orders", None, "number of orders", False)],
        filters=[(f"o.status IN ('{two[0]}', '{two[1]}')", f"only orders whose status is `{two[0]}` or `{two[1]}`"),
                 (f"o.ordered_on >= '{day}'", f"only orders placed on or after {day}")])


def _company(rng: random.Random, size: int):
    departments = [(i + 1, name, rng.choice(["A", "B", "C"])) for i, name in
                   enumerate(sample(rng, ["Sales", "Engineering", "Support", "Finance", "Legal", "Design"], 4))]
    roles = ["engineer", "analyst", "manager", "intern"]
    employees = [(i + 1, name, rng.randint(1, len(departments)), rng.choice(roles), rng.randint(20, 90))
                 for i, name in enumerate(sample(rng, FIRST_NAMES, 7 + size))]
    sheets = [(i + 1, rng.randint(1, len(employees)), rng.randint(1, 20), round(rng.uniform(2, 45), 1))
              for i in range(25 + 10 * size)]
    tables = {"departments": ("id INTEGER PRIMARY KEY, name TEXT, building TEXT", departments),
              "employees": ("id INTEGER PRIMARY KEY, name TEXT, department_id INTEGER, role TEXT, hourly_rate INTEGER",
                            employees),
              "timesheets": ("id INTEGER PRIMARY KEY, employee_id INTEGER, week INTEGER, hours REAL", sheets)}
    first = rng.randint(2, 8)
    last = first + rng.randint(5, 10)
    least = rng.choice([5, 10, 15])
    return dict(
        tables=tables, fact=("timesheets", "t"), noun="timesheet rows", nullable="t.hours", orphan=("t.employee_id", "employee"),
        joins={"e": ("JOIN employees e ON e.id = t.employee_id", ()),
               "d": ("JOIN departments d ON d.id = e.department_id", ("e",))},
        groups=[("role", "e.role"), ("employee", "e.name"), ("department", "d.name")],
        measures=[("hours", "t.hours", "hours booked (sum of hours)", True),
                  ("cost", "t.hours * e.hourly_rate", "cost (hours times the employee's hourly_rate)", True),
                  ("entries", None, "number of timesheet rows", False)],
        filters=[(f"t.week BETWEEN {first} AND {last}", f"only weeks {first} to {last} (both included)"),
                 (f"t.hours >= {least}", f"only timesheet rows of at least {least} hours")])


def _library(rng: random.Random, size: int):
    members = [(i + 1, name, rng.choice(CITIES[:5])) for i, name in enumerate(sample(rng, FIRST_NAMES, 6 + size))]
    genres = sample(rng, ["crime", "poetry", "science", "history", "fantasy"], 3)
    books = [(i + 1, f"The {noun.title()}", rng.choice(genres), rng.randint(90, 700))
             for i, noun in enumerate(sample(rng, NOUNS, 6 + size))]
    loans = [(i + 1, rng.randint(1, len(members)), rng.randint(1, len(books)), day, rng.randint(1, 40),
              round(rng.choice([0, 0, rng.uniform(0.5, 12)]), 2)) for i, day in enumerate(_dates(rng, 25 + 10 * size))]
    tables = {"members": ("id INTEGER PRIMARY KEY, name TEXT, city TEXT", members),
              "books": ("id INTEGER PRIMARY KEY, title TEXT, genre TEXT, pages INTEGER", books),
              "loans": ("id INTEGER PRIMARY KEY, member_id INTEGER, book_id INTEGER, loaned_on TEXT, days INTEGER, "
                        "late_fee REAL", loans)}
    day = rng.choice(["2024-03-01", "2024-05-20", "2024-08-01"])
    longer = rng.choice([7, 14, 21])
    return dict(
        tables=tables, fact=("loans", "l"), noun="loans", nullable="l.days", orphan=("l.book_id", "book"),
        joins={"m": ("JOIN members m ON m.id = l.member_id", ()), "b": ("JOIN books b ON b.id = l.book_id", ())},
        groups=[("city", "m.city"), ("member", "m.name"), ("genre", "b.genre"), ("title", "b.title")],
        measures=[("fees", "l.late_fee", "late fees (sum of late_fee)", True),
                  ("days", "l.days", "days on loan (sum of days)", False),
                  ("loans", None, "number of loans", False)],
        filters=[(f"l.loaned_on >= '{day}'", f"only loans made on or after {day}"),
                 (f"l.days > {longer}", f"only loans that lasted more than {longer} days")])


SCHEMAS = {"shop": _shop, "company": _company, "library": _library}


def _aliases(sql: str, joins: dict) -> list[str]:
    """The dimension aliases an SQL fragment uses, with the ones their joins need, in join order."""
    needed = {alias for alias in joins if re.search(rf"\b{alias}\.", sql)}
    for alias in list(needed):
        needed.update(joins[alias][1])
    return [alias for alias in joins if alias in needed]


def generate_sqlite_report(rng: random.Random, difficulty: str) -> GeneratedTask:
    schema_name = rng.choice(list(SCHEMAS))
    s = SCHEMAS[schema_name](rng, {"easy": 0, "medium": 1, "hard": 2}[difficulty])
    fact_table, fact = s["fact"]
    tables = s["tables"]
    if difficulty == "hard":  # some NULL values and rows pointing at nothing: both must be left out
        columns = [c.split()[0] for c in tables[fact_table][0].split(", ")]
        rows = [list(r) for r in tables[fact_table][1]]
        for row in rng.sample(rows, 3):
            row[columns.index(s["nullable"].split(".")[1])] = None
        for row in rng.sample(rows, 2):
            row[columns.index(s["orphan"][0].split(".")[1])] = 900 + rng.randint(0, 99)
        tables[fact_table] = (tables[fact_table][0], [tuple(r) for r in rows])

    label, group = rng.choice(s["groups"])
    measures = [m for m in s["measures"] if (difficulty != "easy" or set(_aliases(m[1] or "", s["joins"])) <=
                set(_aliases(group, s["joins"]))) and (difficulty != "hard" or m[1])]
    m_label, m_sql, m_words, money = rng.choice(measures)
    where = [rng.choice(s["filters"])] if difficulty != "easy" else []
    if difficulty == "hard":
        where.append((f"{s['nullable']} IS NOT NULL", f"{s['noun']} whose `{s['nullable'].split('.')[1]}` is NULL "
                                                      "are skipped entirely (not counted either)"))
    # hard joins every table, so rows pointing at a missing one drop out; the others join what they use
    aliases = list(s["joins"]) if difficulty == "hard" else _aliases(" ".join([group, m_sql or ""] + [w[0] for w in where]),
                                                                      s["joins"])
    value_sql = f"SUM({m_sql})" if m_sql else "COUNT(*)"
    value_sql = f"ROUND({value_sql}, 2)" if money else value_sql
    body = (f"FROM {fact_table} {fact} {' '.join(s['joins'][a][0] for a in aliases)}"
            + (f" WHERE {' AND '.join(w[0] for w in where)}" if where else "") + f" GROUP BY {group}")
    database, found = _database(tables, f"SELECT {group}, {value_sql}, COUNT(*) {body}")
    totals, counts = {g: v for g, v, _ in found}, {g: n for g, _, n in found}
    having = limit = None
    if difficulty == "easy":
        ordered = sorted(totals)
        result = [{label: g, m_label: totals[g]} for g in ordered]
        order_sql = "1"
    else:
        ordered = sorted(totals, key=lambda g: (-totals[g], g))
        order_sql = "2 DESC, 1"
        if difficulty == "medium":
            limit = max(1, min(rng.randint(3, 5), len(ordered) - 1))
            result = [{label: g, m_label: totals[g]} for g in ordered[:limit]]
        else:
            sizes = sorted(set(counts.values()))
            having = sizes[1] if len(sizes) > 1 else sizes[0]  # drops the smallest groups
            result = [{label: g, m_label: totals[g], "rows": counts[g]} for g in ordered if counts[g] >= having]
    columns = list(result[0])
    out_format = rng.choice(["csv", "json"] if difficulty == "easy" else ["csv", "json", "tsv"])
    stem = rng.choice(["store", "data", schema_name, slug(rng)])
    db = f"{stem}.{rng.choice(['db', 'sqlite', 'sqlite3'])}"
    target = f"{rng.choice(['reports/', 'out/', ''])}{m_label}_by_{label}.{out_format}"

    query = (f"SELECT {group} AS {label}, {value_sql} AS {m_label}" + (", COUNT(*) AS rows" if having else "")
             + f" {body}" + (f" HAVING COUNT(*) >= {having}" if having else "")
             + f" ORDER BY {order_sql}" + (f" LIMIT {limit}" if limit else ""))

    what = [f"for each {label}, the {m_words}" + (", rounded to 2 decimals" if money else "")]
    what += [w[1] for w in where]
    if difficulty == "hard":
        what.append(f"{s['noun']} whose {s['orphan'][1]} does not exist (`{s['orphan'][0].split('.')[1]}` points at "
                    "no row) are left out")
        labels = label[:-1] + "ies" if label.endswith("y") else label + "s"
        what.append(f"a `rows` column with how many {s['noun']} each {label} has (after these rules); keep only the "
                    f"{labels} with at least {having}")
    labels = label[:-1] + "ies" if label.endswith("y") else label + "s"
    top = f"only the top {limit} {labels}" if limit and limit > 1 else f"only the top {label}"
    what.append(f"one line per {label} that has any {s['noun']}, sorted by {label} A to Z" if difficulty == "easy" else
                (f"{top} by {m_label}" if limit else f"every {label} left")
                + f", highest {m_label} first (ties by {label}, A to Z)")
    shape = {"csv": f"a CSV file with the header `{','.join(columns)}`",
             "tsv": f"a tab-separated file whose first line is the header {', '.join(f'`{c}`' for c in columns)} "
                    "(separated by tabs too)",
             "json": f"a JSON array of objects with the keys {', '.join(f'`{c}`' for c in columns)}"}[out_format]
    intro = one_of(rng, f"The SQLite database /app/{db} has the tables {', '.join(tables)}.",
                   f"/app/{db} is an SQLite database ({', '.join(tables)}).",
                   f"There is an SQLite file at /app/{db} with our {schema_name} data: tables {', '.join(tables)}.")
    text = instruction(paragraph(intro, one_of(rng, "I need a small report from it.", "Please build a report from it.",
                                               f"Management wants {m_label} per {label}.")),
                       one_of(rng, "The report:", "What it should contain:", "Report contents:") + "\n" + bullets(what),
                       paragraph(one_of(rng, "Write it to", "Save it as", "The result goes to"), f"/app/{target},",
                                 shape + ", in the order above.", "Numbers are plain numbers (no currency signs)."))
    tab = ", delimiter='\\t'" if out_format == "tsv" else ""
    writer = (f'json.dump([dict(zip(columns, row)) for row in rows], open("/app/{target}", "w"), indent=2)'
              if out_format == "json" else f"""with open("/app/{target}", "w", newline="") as handle:
    writer = csv.writer(handle{tab}, lineterminator="\\n")
    writer.writerow(columns)
    writer.writerows(rows)""")
    solution = (f"mkdir -p /app/{target.rsplit('/', 1)[0]}\n" if "/" in target else "") + f'''python3 - <<'PY'
import {"json" if out_format == "json" else "csv"}, sqlite3

QUERY = """{query}"""
con = sqlite3.connect("/app/{db}")
cursor = con.execute(QUERY)
columns = [d[0] for d in cursor.description]
rows = cursor.fetchall()
{writer}
PY'''
    tests = f'''import csv
import json
from pathlib import Path

TARGET = Path("/app/{target}")
COLUMNS = {columns!r}
EXPECTED = {pformat(result, width=110)}


def rows():
    assert TARGET.is_file(), "the report file is missing"
    if TARGET.suffix == ".json":
        got = json.loads(TARGET.read_text())
        assert all(sorted(row) == sorted(COLUMNS) for row in got), got
        return got
    with TARGET.open(newline="") as handle:
        reader = csv.DictReader(handle, delimiter="," if TARGET.suffix == ".csv" else "\\t")
        assert reader.fieldnames == COLUMNS, reader.fieldnames
        return list(reader)


def test_groups_in_order():
    assert [str(row["{label}"]) for row in rows()] == [row["{label}"] for row in EXPECTED]


def test_values():
    for got, want in zip(rows(), EXPECTED):
        for column in COLUMNS[1:]:
            assert abs(float(got[column]) - want[column]) < 0.006, (column, got, want)
'''
    return GeneratedTask(family="sqlite-report", category="data", difficulty=difficulty, instruction=text,
                         files={db: database}, solution=solution, tests=tests,
                         tags=["sqlite", "sql", schema_name, out_format])


FAMILIES = [
    Family("sqlite-report", "data", generate_sqlite_report,
           "a report (join, per-group aggregate, filters, top N) from a small SQLite database, in a given format"),
]
