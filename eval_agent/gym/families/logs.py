"""Log work: count levels per component in an application log, rank clients, status codes or slow
paths in a web access log. Hard tasks add multi-line entries, time windows and method filters.

Solutions and tests are a fixed body of Python under a line of parameters, as in text_files."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise

from ..codegen import python_script, tests_module
from ..phrasing import COMPONENTS, FIRST_NAMES, instruction, one_of, paragraph, sample, slug
from ..spec import Family, GeneratedTask


def _span(rng: random.Random, count: int) -> tuple[int, int]:
    """Two indexes into `count` entries for a time window: a third to two thirds of the log, cut
    off at both ends (so the window matters)."""
    first = rng.randint(count // 8, count // 3)
    return first, rng.randint(first + count // 3, min(first + count * 2 // 3, count * 7 // 8))


# -- log-error-summary -------------------------------------------------------------------------

# name -> (how a line is written, how the instruction describes it)
APP_FORMATS = {
    "pylog": ("{d} {t},{ms:03d} {L} [{c}] {m}", "`YYYY-MM-DD HH:MM:SS,mmm LEVEL [component] message`"),
    "bracket": ("[{d}T{t}Z] [{c}] {L}: {m}", "`[YYYY-MM-DDTHH:MM:SSZ] [component] LEVEL: message`"),
    "logfmt": ('ts={d}T{t}Z level={l} component={c} msg="{m}"',
               '`ts=YYYY-MM-DDTHH:MM:SSZ level=<level in lower case> component=<component> msg="<message>"`'),
    "pipe": ("{d} {t} | {c} | {L} | {m}", "`YYYY-MM-DD HH:MM:SS | component | LEVEL | message`"),
}
MESSAGES = {
    "DEBUG": ["cache lookup for key {n}", "payload size {n} bytes", "WARN threshold set to {n}"],
    "INFO": ["request {n} served", "user {name} logged in", "retried after ERROR from upstream, now fine",
             "no ERROR found in batch {n}", "job {n} finished"],
    "WARN": ["slow response: {n} ms", "retrying request {n}", "disk usage at {n}%"],
    "ERROR": ["connection refused by {other}", "timeout after {n} ms", "could not parse payload {n}"],
    "FATAL": ["out of memory, shutting down", "lost connection to {other} for good"],
}
TRACE = ["Traceback (most recent call last):", '  File "/srv/app/{c}/handler.py", line {n}, in handle',
         "    raise ProcessingError(\"ERROR in {other}\")", "ProcessingError: ERROR in {other} (WARN: retry budget spent)"]


def generate_log_error_summary(rng: random.Random, difficulty: str) -> GeneratedTask:
    fmt = rng.choice(list(APP_FORMATS))
    template, described = APP_FORMATS[fmt]
    components = sample(rng, COMPONENTS, rng.randint(*{"easy": (3, 4), "medium": (4, 6), "hard": (5, 7)}[difficulty]))
    levels = ["DEBUG", "INFO", "WARN", "ERROR"] + (["FATAL"] if difficulty == "hard" else [])
    counted = ["ERROR", "WARN"] if difficulty == "easy" else levels
    weights = [3, 6, 2, 1.5, 0.3][: len(levels)]
    when = datetime(rng.randint(2022, 2025), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 20), rng.randint(0, 59))
    entries, lines = [], []
    for _ in range(rng.randint(*{"easy": (40, 60), "medium": (100, 150), "hard": (200, 280)}[difficulty])):
        when += timedelta(seconds=rng.randint(1, 90))
        level, component = rng.choices(levels, weights)[0], rng.choice(components)
        message = rng.choice(MESSAGES[level][:2] if difficulty == "easy" else MESSAGES[level]).format(
            n=rng.randint(2, 9999), name=rng.choice(FIRST_NAMES), other=rng.choice(COMPONENTS))
        written = "WARNING" if level == "WARN" and difficulty != "easy" and rng.random() < 0.4 else level
        lines.append(template.format(d=f"{when:%Y-%m-%d}", t=f"{when:%H:%M:%S}", ms=rng.randint(0, 999), L=written,
                                     l=written.lower(), c=component, m=message))
        entries.append((when, level, component))
        if difficulty == "hard" and level in ("ERROR", "FATAL") and rng.random() < 0.6:  # a stack trace follows
            lines += [line.format(c=component, n=rng.randint(10, 400), other=rng.choice(COMPONENTS)) for line in TRACE]
    window = None
    if difficulty == "hard":  # both ends are timestamps of entries: "included" must be read exactly
        first, last = _span(rng, len(entries))
        window = (entries[first][0], entries[last][0])
    seen = [(level, component) for when, level, component in entries if not window or window[0] <= when <= window[1]]
    counts = Counter(seen)
    by_component = {c: {level: counts[(level, c)] for level in counted} for c in sorted({c for _, c in seen})}
    shape = rng.choice(["by_component", "by_level"])
    expected = by_component if shape == "by_component" else {
        level: {c: by_component[c][level] for c in by_component} for level in counted}

    app = slug(rng, "-")
    log, target = f"logs/{app}.log", one_of(rng, "reports/levels.json", "summary.json", f"out/{app}-counts.json")
    example = {"by_component": '{"auth": {"ERROR": 2, "WARN": 0}, ...}',
               "by_level": '{"ERROR": {"auth": 2, "db": 0}, "WARN": {...}}'}[shape]
    asks = [paragraph(one_of(rng, f"Our service `{app}` writes its log to /app/{log}.",
                             f"There is an application log at /app/{log}.",
                             f"I have a log from the `{app}` service in /app/{log}."),
                      f"Each entry starts with a line like {described}, for example:"),
            f"```\n{lines[0]}\n```",
            paragraph(f"Count the {' and '.join(counted) if len(counted) == 2 else ', '.join(counted)} entries "
                      "per component"
                      + (f", only for entries from {window[0]:%Y-%m-%d %H:%M:%S} to {window[1]:%Y-%m-%d %H:%M:%S}, both "
                         "included (all times are UTC)" if window else "") + ".",
                      "Some entries say WARNING instead of WARN: they are WARN entries." if difficulty != "easy" else "",
                      "An entry can span several lines (a stack trace): lines that do not start with a timestamp belong "
                      "to the entry above and are not entries themselves." if difficulty == "hard" else "",
                      "The level is the field in its place on the line, not a word that happens to be in the message."
                      if difficulty != "easy" else ""),
            paragraph(f"Write the counts to /app/{target} as a JSON object " +
                      ("keyed by component, each mapping the level names to counts" if shape == "by_component"
                       else "keyed by level name, each mapping the components to counts") + f", like `{example}`.",
                      "List every component that has at least one entry" + (" in that time range" if window else "")
                      + ", with 0 for levels it has none of; use the level names in upper case.")]
    tests = tests_module({"TARGET": f"/app/{target}", "EXPECTED": expected}, r'''
import json
from pathlib import Path

def result():
    path = Path(TARGET)
    assert path.is_file(), f"{TARGET} is missing"
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_keys():
    got = result()
    assert sorted(got) == sorted(EXPECTED)
    assert all(sorted(got[key]) == sorted(inner) for key, inner in EXPECTED.items())


def test_the_counts():
    assert result() == EXPECTED
''')
    solution = python_script({"log": f"/app/{log}", "fmt": fmt, "counted": counted, "shape": shape,
                              "target": f"/app/{target}",
                        "window": window and [f"{w:%Y-%m-%d %H:%M:%S}" for w in window]}, r'''
import collections, json, os, re
shapes = {
    "pylog": r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),\d+ (\w+) \[(\w+)\]",
    "bracket": r"\[(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)Z\] \[(\w+)\] (\w+):",
    "logfmt": r"ts=(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)Z level=(\w+) component=(\w+)",
    "pipe": r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) \| (\w+) \| (\w+) \|",
}
counts, components = collections.Counter(), set()
for line in open(P["log"]):
    found = re.match(shapes[P["fmt"]], line)
    if not found:
        continue  # a continuation line of the entry above
    day, time, a, b = found.groups()
    level, component = (b, a) if P["fmt"] == "bracket" or P["fmt"] == "pipe" else (a, b)
    level = "WARN" if level.upper() == "WARNING" else level.upper()
    if P["window"] and not P["window"][0] <= f"{day} {time}" <= P["window"][1]:
        continue
    components.add(component)
    counts[component, level] += 1
table = {c: {level: counts[c, level] for level in P["counted"]} for c in sorted(components)}
if P["shape"] == "by_level":
    table = {level: {c: table[c][level] for c in table} for level in P["counted"]}
os.makedirs(os.path.dirname(P["target"]) or ".", exist_ok=True)
json.dump(table, open(P["target"], "w"), indent=2)
''')
    return GeneratedTask(
        family="log-error-summary", category="logs", difficulty=difficulty, instruction=instruction(*asks),
        files={log: "\n".join(lines) + "\n"}, solution=solution, tests=tests, tags=["logs", "json", fmt, shape])


# -- log-top-clients ---------------------------------------------------------------------------

PATHS = ["/", "/login", "/logout", "/api/items", "/api/items/{n}", "/api/orders", "/search?q={w}", "/static/app.js",
         "/static/style.css", "/health", "/admin/users", "/api/orders/{n}?expand=lines", "/docs/{w}"]
STATUSES = [200] * 12 + [201, 204, 301, 304, 304, 400, 401, 403, 404, 404, 500, 503]
METHODS = ["GET"] * 6 + ["POST"] * 2 + ["PUT", "DELETE"]
CLF = "%d/%b/%Y:%H:%M:%S +0000"
MEASURES = {  # what is ranked: (CSV header, what the instruction calls it)
    "ips": ("ip,requests", "client IP addresses by number of requests"),
    "status": ("status,count", "HTTP status codes by number of responses"),
    "slow": ("path,avg_ms", "paths by average response time"),
}


def _access_log(rng: random.Random, difficulty: str, timed: bool):
    """(log lines, parsed requests (ip, time, method, path, status, ms))."""
    ips = [f"{rng.choice([10, 172, 192, 198, 203])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
           for _ in range({"easy": 6, "medium": 12, "hard": 18}[difficulty])]
    ip_weights = [1 / (i + 1) ** 0.8 for i in range(len(ips))]
    paths = [p.format(n=rng.randint(1, 500), w=rng.choice(FIRST_NAMES).lower()) for p in sample(rng, PATHS, 9)]
    base_ms = {path: rng.randint(5, 900) for path in paths}
    when = datetime(rng.randint(2022, 2025), rng.randint(1, 12), rng.randint(1, 27), rng.randint(0, 23), rng.randint(0, 59))
    lines, requests = [], []
    for _ in range(rng.randint(*{"easy": (60, 90), "medium": (150, 220), "hard": (300, 420)}[difficulty])):
        when += timedelta(seconds=rng.randint(1, 400))
        ip, path = rng.choices(ips, ip_weights)[0], rng.choice(paths)
        method, status = rng.choice(METHODS), rng.choice(STATUSES)
        ms = max(1, int(rng.gauss(base_ms[path], base_ms[path] / 3)))
        size = "-" if status in (204, 304) else str(rng.randint(120, 90000))
        user = rng.choice(FIRST_NAMES).lower() if rng.random() < 0.1 else "-"
        lines.append(f'{ip} - {user} [{when.strftime(CLF)}] "{method} {path} HTTP/1.1" {status} {size}'
                     + (f" {ms}" if timed else ""))
        requests.append((ip, when, method, path, status, ms))
        if difficulty != "easy" and rng.random() < 0.03:  # a damaged line: the writer was cut off, or noise
            lines.append(one_of(rng, lines[-1][: rng.randint(10, 40)], "", "-- log rotated --"))
    return lines, requests


def generate_log_top_clients(rng: random.Random, difficulty: str) -> GeneratedTask:
    measure = rng.choice(list(MEASURES))
    top = rng.randint(*{"easy": (3, 5), "medium": (4, 7), "hard": (5, 8)}[difficulty])
    top = min(top, 5) if measure == "slow" else top  # (there are 9 paths)
    for _ in range(50):  # draw until no tie decides what makes the top (and averages are not near-ties)
        lines, requests = _access_log(rng, difficulty, measure == "slow")
        filtered = difficulty == "hard" or (difficulty == "medium" and rng.random() < 0.5)
        method = rng.choice(["GET", "POST"]) if filtered else None
        window = None
        if difficulty != "easy" and (difficulty == "hard" or method is None):  # both ends are request times
            first, last = _span(rng, len(requests))
            window = (requests[first][1], requests[last][1])
        chosen = [r for r in requests if (not method or r[2] == method) and (not window or window[0] <= r[1] <= window[1])]
        groups: dict = defaultdict(list)
        for ip, _, _, path, status, ms in chosen:
            groups[{"ips": ip, "status": status, "slow": path.split("?")[0]}[measure]].append(ms)
        value = {"ips": len, "status": len, "slow": lambda ms: round(sum(ms) / len(ms), 1)}[measure]
        ranked = sorted(((key, value(ms)) for key, ms in groups.items()), key=lambda kv: (-kv[1], kv[0]))
        values = [v for _, v in ranked[: top + 1]]
        gaps = [a - b for a, b in pairwise(values)]
        if len(ranked) > top and {"ips": gaps[-1] > 0, "status": True, "slow": min(gaps) >= 0.2}[measure]:
            break  # (ties inside the top are fine: the instruction says how to order them)
    expected = [[str(key), v] for key, v in (ranked if measure == "status" else ranked[:top])]
    host = slug(rng, "-")
    log = f"logs/{host}-access.log"
    target = one_of(rng, "reports/", "out/", "") + one_of(rng, f"top_{measure}.csv", f"{host}-{measure}.csv",
                                                            f"ranking_{measure}.csv")
    header, what = MEASURES[measure]
    count_words = "every status code that occurs" if measure == "status" else f"the top {top}"
    asks = [paragraph(one_of(rng, f"/app/{log} is the access log of our `{host}` web server.",
                             f"The web server `{host}` logs requests to /app/{log}.",
                             f"Take a look at the access log in /app/{log}."),
                      "It is in the common log format"
                      + (", with one more field at the end: the response time in whole milliseconds." if measure == "slow"
                         else ".") + " For example:"),
            f"```\n{lines[0]}\n```",
            paragraph(f"Rank the {what}, highest first, and write {count_words} to /app/{target}"
                      + (" (create the folder)" if "/" in target else "") + f": a CSV file with the header `{header}`.",
                      "Ties are broken by the " + {"ips": "IP address as text, ascending.",
                                                   "status": "status code, ascending.",
                                                   "slow": "path, in ascending text order."}[measure],
                      "A path is the requested path without its query string (`/search?q=x` is `/search`); averages are "
                      "rounded to one decimal." if measure == "slow" else ""),
            paragraph(f"Count only {method} requests." if method else "",
                      f"Only requests from {window[0].strftime(CLF)[:-6]} to {window[1].strftime(CLF)[:-6]} count, both "
                      "ends included (all times are +0000)." if window else "",
                      "Some lines are damaged or are not requests at all: skip them." if difficulty != "easy" else "")]
    tests = tests_module({"TARGET": f"/app/{target}", "HEADER": header.split(","), "EXPECTED": expected}, r'''
import csv
from pathlib import Path

def rows():
    path = Path(TARGET)
    assert path.is_file(), f"{TARGET} is missing"
    table = list(csv.reader(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()))
    assert [cell.strip() for cell in table[0]] == HEADER, f"the header should be {','.join(HEADER)}"
    return [[key.strip(), float(value)] for key, value in table[1:]]


def test_the_ranking():
    assert [key for key, _ in rows()] == [key for key, _ in EXPECTED]


def test_the_values():
    for (key, got), (_, want) in zip(rows(), EXPECTED):
        assert abs(got - want) < 0.051, (key, got, want)
''')
    solution = python_script({"log": f"/app/{log}", "measure": measure, "top": top, "method": method, "header": header,
                        "window": window and [w.isoformat() for w in window], "target": f"/app/{target}"}, r'''
import collections, csv, datetime, os, re
line_re = re.compile(r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) \S+(?: (\d+))?$')
groups = collections.defaultdict(list)
for line in open(P["log"]):
    found = line_re.match(line.rstrip("\n"))
    if not found:
        continue
    ip, stamp, method, path, status, ms = found.groups()
    when = datetime.datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").replace(tzinfo=None)
    if P["method"] and method != P["method"]:
        continue
    if P["window"] and not P["window"][0] <= when.isoformat() <= P["window"][1]:
        continue  # (ISO times of one format compare as text)
    key = {"ips": ip, "status": status, "slow": path.split("?")[0]}[P["measure"]]
    groups[key].append(int(ms or 0))
value = (lambda ms: round(sum(ms) / len(ms), 1)) if P["measure"] == "slow" else len
ranked = sorted(((k, value(v)) for k, v in groups.items()), key=lambda kv: (-kv[1], kv[0]))
if P["measure"] != "status":
    ranked = ranked[: P["top"]]
os.makedirs(os.path.dirname(P["target"]), exist_ok=True)
with open(P["target"], "w", newline="") as out:
    csv.writer(out, lineterminator="\n").writerows([P["header"].split(",")] + ranked)
''')
    return GeneratedTask(
        family="log-top-clients", category="logs", difficulty=difficulty, instruction=instruction(*asks),
        files={log: "\n".join(lines) + "\n"}, solution=solution, tests=tests,
        tags=["logs", "access-log", "csv", measure] + (["time-window"] if window else []) + ([method] if method else []))


FAMILIES = [
    Family("log-error-summary", "logs", generate_log_error_summary,
           "count log levels per component in an application log (stack traces, a time window) as JSON"),
    Family("log-top-clients", "logs", generate_log_top_clients,
           "top client IPs, status codes or slowest paths of a web access log as CSV; time and method filters"),
]
