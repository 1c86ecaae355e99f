"""SQLite import: load a CSV into a new table with a given schema (types, primary key, UNIQUE, NOT
NULL), skipping or fixing bad rows as told; the tests query the database and try its constraints."""

from __future__ import annotations

import csv
import io
import random
from pprint import pformat

from ..phrasing import CITIES, FIRST_NAMES, NOUNS, PRODUCTS, bullets, instruction, one_of, paragraph, slug
from ..spec import Family, GeneratedTask


# A table: (column, type, constraints, how values are drawn, CSV headers used when they differ).
IMPORT_SCHEMAS = {
    "customers": (["customers", "clients", "accounts"], [
        ("id", "INTEGER", "PRIMARY KEY", "pk_int", ["customer_id", "cust_id", "CustomerId"]),
        ("email", "TEXT", "NOT NULL UNIQUE", "email", ["email_address", "mail", "Email"]),
        ("name", "TEXT", "NOT NULL", "person", ["full_name", "customer_name", "Name"]),
        ("city", "TEXT", "", "city", ["town", "City", "location"]),
        ("credit", "REAL", "", "money", ["balance", "credit_eur", "Credit"]),
        ("joined", "TEXT", "", "date", ["signup_date", "joined_on", "Joined"])]),
    "products": (["products", "items", "catalog"], [
        ("sku", "TEXT", "NOT NULL PRIMARY KEY", "pk_sku", ["SKU", "item_code", "product_code"]),
        ("name", "TEXT", "NOT NULL", "product", ["product_name", "title", "Name"]),
        ("price", "REAL", "NOT NULL", "money", ["unit_price", "Price", "price_usd"]),
        ("stock", "INTEGER", "NOT NULL", "count", ["qty", "in_stock", "Stock"]),
        ("barcode", "TEXT", "UNIQUE", "barcode", ["ean", "Barcode", "upc"]),
        ("added", "TEXT", "", "date", ["added_on", "created", "Added"])]),
    "staff": (["staff", "employees", "people"], [
        ("emp_no", "INTEGER", "PRIMARY KEY", "pk_int", ["employee_number", "EmpNo", "staff_id"]),
        ("username", "TEXT", "NOT NULL UNIQUE", "username", ["login", "user", "Username"]),
        ("full_name", "TEXT", "NOT NULL", "person", ["name", "FullName", "employee"]),
        ("salary", "INTEGER", "", "salary", ["annual_salary", "Salary", "pay"]),
        ("department", "TEXT", "", "dept", ["dept", "Department", "team"]),
        ("hired", "TEXT", "", "date", ["hire_date", "started", "Hired"])]),
}
UNREADABLE = ["n/a", "tbd", "?", "unknown"]


def _draw(rng: random.Random, kind: str, index: int, prefix: str):
    """A clean value; index makes keys unique."""
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    return {"pk_int": 10 * index + rng.randint(1, 9), "pk_sku": f"{prefix}-{100 + 7 * index:04d}",
            "email": f"{first.lower()}.{index}@{rng.choice(['example.com', 'mail.test', 'corp.example'])}",
            "username": f"{first.lower()}{index}", "person": f"{rng.choice(FIRST_NAMES)} {rng.choice(NOUNS).title()}",
            "product": f"{rng.choice(['Mini', 'Pro', 'Eco', 'Max'])} {rng.choice(PRODUCTS)}",
            "barcode": f"{400000000000 + 1379 * index + rng.randint(0, 999):012d}",
            "city": rng.choice(CITIES), "money": round(rng.uniform(1, 2500), 2), "count": rng.randint(0, 400),
            "salary": rng.randint(30, 120) * 1000, "dept": rng.choice(["ops", "sales", "research", "support"]),
            "date": f"20{rng.randint(18, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}[kind]


def _dirty(rng: random.Random, kind: str, value) -> str:
    """How a hard task's CSV writes a value that the import must fix."""
    if kind in ("email", "username"):
        text = value.upper() if rng.random() < 0.5 else value.title()
    elif kind == "money":
        text = f"${value:,.2f}"
    elif kind == "salary":
        text = f"{value:,}"
    elif kind == "date":
        year, month, day = value.split("-")
        return f"{day}/{month}/{year}"
    else:
        text = str(value)
    return rng.choice(["  ", " ", ""]) + text + rng.choice([" ", "  ", "\t"]) if kind not in ("money",) else text


def generate_sqlite_import(rng: random.Random, difficulty: str) -> GeneratedTask:
    key = rng.choice(list(IMPORT_SCHEMAS))
    table_names, schema = IMPORT_SCHEMAS[key]
    table = rng.choice(table_names)
    pk = schema[0][0]
    unique = next(c for c, _, cons, _, _ in schema if "UNIQUE" in cons)
    required = [c for c, _, cons, _, _ in schema if "NOT NULL" in cons or "PRIMARY" in cons]
    optional = [c for c, _, cons, _, _ in schema if c not in required]
    kinds = {c: kind for c, _, _, kind, _ in schema}
    types = {c: t for c, t, _, _, _ in schema}
    prefix = rng.choice(["SKU", "PRD", "ITM", "AX"])

    indexes = rng.sample(range(1, 400), {"easy": 8, "medium": 16, "hard": 22}[difficulty] + rng.randint(0, 4))
    clean = []  # the rows that end up in the table, in file order
    for index in indexes:
        row = {c: _draw(rng, kinds[c], index, prefix) for c in kinds}
        for c in optional:
            if rng.random() < 0.15:
                row[c] = None
        clean.append(row)
    lines = [(row, "keep") for row in clean]  # (values, what happens to the line)
    fresh = iter(rng.sample(range(400, 800), 12))

    def new_row() -> dict:
        index = next(fresh)
        return {c: _draw(rng, kinds[c], index, prefix) for c in kinds}

    def place_after(row: dict, original: dict | None) -> None:
        """Puts a bad line somewhere after the line it copies (anywhere when it copies none)."""
        start = next(i for i, (r, _) in enumerate(lines) if r is original) + 1 if original else 0
        lines.insert(rng.randint(start, len(lines)), (row, "skip"))

    if difficulty != "easy":
        for _ in range(2 if difficulty == "medium" else 3):  # a required value missing
            row = new_row()
            row[rng.choice(required)] = None
            place_after(row, None)
        original = rng.choice(clean)  # the same primary key again
        place_after({**new_row(), pk: original[pk]}, original)
        original = rng.choice([r for r in clean if r[unique] is not None])  # the same unique value again
        place_after({**new_row(), unique: original[unique]}, original)
    if difficulty == "hard":
        numeric = [c for c in kinds if types[c] in ("INTEGER", "REAL") and c != pk]
        for _ in range(2):  # a number that cannot be read
            row = new_row()
            row[rng.choice(numeric)] = rng.choice(UNREADABLE)
            place_after(row, None)

    header_of = {c: c if difficulty == "easy" else rng.choice(alts) for c, _, _, _, alts in schema}
    order = list(kinds)
    rng.shuffle(order)
    extra = None if difficulty == "easy" else rng.choice(["notes", "source", "imported_by"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([header_of[c] for c in order] + ([extra] if extra else []))
    for row, _ in lines:
        cells = []
        for c in order:
            value = row[c]
            if value is None:
                cells.append(rng.choice(["", " "]) if difficulty == "hard" else "")
            elif difficulty == "hard" and not (isinstance(value, str) and value in UNREADABLE) and rng.random() < 0.35:
                cells.append(_dirty(rng, kinds[c], value))
            else:
                cells.append(str(value))
        writer.writerow(cells + ([rng.choice(["", "checked", "legacy", slug(rng)])] if extra else []))
    expected = sorted(([row[c] for c in kinds] for row, fate in lines if fate == "keep"), key=lambda r: r[0])

    csv_name = f"{rng.choice(['import', 'export', 'new', 'batch'])}_{table}.csv"
    db = f"{rng.choice(['app', 'main', key, slug(rng)])}.{rng.choice(['db', 'sqlite'])}"
    lower = kinds[unique] in ("email", "username")
    def constraints(cons: str) -> str:
        return "".join(f", {word}" for word in ("PRIMARY KEY", "NOT NULL", "UNIQUE") if word in cons)

    columns_text = bullets([f"`{c}` {t}{constraints(cons)}" + (f" (CSV column `{header_of[c]}`)" if header_of[c] != c
                                                                else "") for c, t, cons, _, _ in schema])
    rules = ["an empty cell is NULL"]
    if difficulty != "easy":
        rules += [f"skip rows where a required value ({', '.join(f'`{c}`' for c in required)}) is empty",
                  f"when several rows have the same `{pk}`, or the same `{unique}`, keep the first one (among rows not skipped "
                  "for another reason) and skip the rest", f"the CSV column `{extra}` is not imported"]
    if difficulty == "hard":
        rules += ["trim spaces and tabs around every value first (a cell that is then empty is empty)",
                  "numbers may be written with a `$` sign or thousands separators (`$1,234.50`, `52,000`): store "
                  "the plain number; a row with a number that cannot be read at all (like `n/a`) is skipped",
                  "dates written as DD/MM/YYYY are stored as YYYY-MM-DD"]
        if lower:
            rules.append(f"`{unique}` is stored in lower case, and compared in lower case when looking for duplicates")
    intro = one_of(rng, f"Import /app/{csv_name} into a new SQLite database at /app/{db}.",
                   f"Please load the rows of /app/{csv_name} into SQLite: create /app/{db}.",
                   f"We need /app/{csv_name} in an SQLite database, /app/{db} (it does not exist yet).")
    text = instruction(paragraph(intro, f"The table is called `{table}`; create it with exactly these columns, in "
                                        "this order, with these types and constraints:"),
                       columns_text,
                       one_of(rng, "While importing:", "Rules for the data:", "How to treat the rows:") + "\n"
                       + bullets(rules),
                       paragraph(one_of(rng, "Use the sqlite3 command line or Python, as you like.", "",
                                        "The tests open the database with Python's sqlite3 module.")))
    ddl = ", ".join(f"{c} {t} {cons}".strip() for c, t, cons, _, _ in schema)
    hard = difficulty == "hard"
    convert = ["def convert(column, text):"] + (["    text = text.strip()  # spaces and tabs around values"] if hard else [])
    convert += ['    if text == "":', "        return None"]
    if hard:
        convert += ['    if re.fullmatch(r"\\d{2}/\\d{2}/\\d{4}", text):  # DD/MM/YYYY', '        day, month, year = text.split("/")',
                    '        return f"{year}-{month}-{day}"']
        convert += [f"    if column == {unique!r}:", "        return text.lower()"] if lower else []
        convert += ['    if TYPES[column] in ("INTEGER", "REAL"):', '        text = text.replace("$", "").replace(",", "")']
    convert += ['    if TYPES[column] == "INTEGER":', "        return int(text)", '    if TYPES[column] == "REAL":',
                "        return float(text)", "    return text"]
    insert = f'con.execute("INSERT INTO {table} ({", ".join(kinds)}) VALUES ({", ".join("?" * len(kinds))})", list(row.values()))'
    if difficulty == "easy":
        loop = f"""        row = {{column: convert(column, raw[header]) for header, column in HEADERS.items()}}
        {insert}"""
    else:
        loop = (("""        try:
            row = {column: convert(column, raw[header]) for header, column in HEADERS.items()}
        except ValueError:  # a number that cannot be read: skip the row
            continue""" if hard else """        row = {column: convert(column, raw[header]) for header, column in HEADERS.items()}""") + f"""
        if any(row[c] is None for c in REQUIRED) or row[{pk!r}] in seen_keys:
            continue
        if row[{unique!r}] is not None and row[{unique!r}] in seen_unique:
            continue
        seen_keys.add(row[{pk!r}])
        seen_unique.add(row[{unique!r}])
        {insert}""")
    solution = f"""python3 - <<'PY'
import csv{', re' if hard else ''}, sqlite3

HEADERS = {{{", ".join(f"{header_of[c]!r}: {c!r}" for c in kinds)}}}  # CSV header -> column
TYPES = {types!r}
{f"REQUIRED = {required!r}" + chr(10) if difficulty != "easy" else ""}

{chr(10).join(convert)}


con = sqlite3.connect("/app/{db}")
con.execute("CREATE TABLE {table} ({ddl})")
{"seen_keys, seen_unique = set(), set()" + chr(10) if difficulty != "easy" else ""}with open("/app/{csv_name}", newline="") as handle:
    for raw in csv.DictReader(handle):
{loop}
con.commit()
PY"""
    probe = next(r for r in expected if r[list(kinds).index(unique)] is not None)
    tests = f'''import shutil
import sqlite3
from pathlib import Path

import pytest

DB = Path("/app/{db}")
TABLE = "{table}"
COLUMNS = {[(c, t) for c, t, _, _, _ in schema]!r}
PK, UNIQUE, NOT_NULL = {pk!r}, {unique!r}, {[c for c, _, cons, _, _ in schema if "NOT NULL" in cons]!r}
EXPECTED = {pformat(expected, width=110)}
PROBE = {probe!r}  # an imported row: the constraint checks insert copies of it


def connect(path=DB):
    assert DB.is_file(), "the database is missing"
    return sqlite3.connect(path)


def test_columns_types_and_keys():
    info = connect().execute(f"PRAGMA table_info({{TABLE}})").fetchall()
    assert [(row[1], row[2].upper()) for row in info] == COLUMNS
    assert [row[1] for row in info if row[5]] == [PK]
    for row in info:
        if row[1] in NOT_NULL:
            assert row[3] == 1, f"{{row[1]}} should be NOT NULL"


def test_constraints(tmp_path):
    assert DB.is_file(), "the database is missing"
    copy = tmp_path / "copy.db"  # the checks write: not into the real database
    shutil.copy(DB, copy)
    con = connect(copy)
    names = [c for c, _ in COLUMNS]
    fresh_key = {"99999" if types[pk] == "INTEGER" else '"ZZ-PROBE-1"'}
    fresh_unique = "{'probe@example.invalid' if kinds[unique] == 'email' else 'probe_user' if kinds[unique] == 'username' else '999999999999'}"

    def insert(**changes):
        row = dict(zip(names, PROBE), **changes)
        con.execute(f"INSERT INTO {{TABLE}} ({{', '.join(names)}}) VALUES ({{', '.join('?' * len(names))}})",
                    [row[c] for c in names])

    with pytest.raises(sqlite3.IntegrityError):
        insert(**{{UNIQUE: fresh_unique}})  # the same primary key
    with pytest.raises(sqlite3.IntegrityError):
        insert(**{{PK: fresh_key}})  # the same unique value
    for column in NOT_NULL:
        with pytest.raises(sqlite3.IntegrityError):
            insert(**{{PK: fresh_key, UNIQUE: fresh_unique, column: None}})
    insert(**{{PK: fresh_key, UNIQUE: fresh_unique}})  # and a row that breaks nothing goes in


def test_rows():
    names = ", ".join(c for c, _ in COLUMNS)
    got = connect().execute(f"SELECT {{names}} FROM {{TABLE}} ORDER BY {{PK}}").fetchall()
    assert [row[0] for row in got] == [row[0] for row in EXPECTED], "not the expected set of rows"
    for row, want in zip(got, EXPECTED):
        for (column, _), a, b in zip(COLUMNS, row, want):
            if isinstance(b, float):
                assert isinstance(a, float) and abs(a - b) < 1e-6, (column, a, b)
            else:
                assert type(a) is type(b) and a == b, (column, a, b)
'''
    return GeneratedTask(family="sqlite-import", category="data", difficulty=difficulty, instruction=text,
                         files={csv_name: out.getvalue()}, solution=solution, tests=tests,
                         tags=["sqlite", "csv", "python", key])


FAMILIES = [
    Family("sqlite-import", "data", generate_sqlite_import,
           "import a CSV into a new SQLite table with a given schema and constraints, skipping or fixing bad rows"),
]
