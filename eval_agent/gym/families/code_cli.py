"""Python from a spec: an argparse command-line script with given options, output format and exit
codes (python-cli). The reference script is written as source with the task's choices in it; its
build_parser() and compute() are run here to get the expected output of each test run."""

from __future__ import annotations

import random

from ..phrasing import ADJECTIVES, NOUNS, bullets, instruction, one_of, paragraph, sample
from ..spec import Family, GeneratedTask
from .code_python import _run

# python-cli: the script's parts; build_parser() and compute() differ per kind, main() is shared.
CLI_MAIN = '''

def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = check(args)
    if problem:
        parser.error(problem)
    try:
        if args.path == "-" and STDIN:
            text = sys.stdin.read()
        else:
            with open(args.path, encoding="utf-8") as handle:
                text = handle.read()
        result = compute(text, args)
    except (OSError, ValueError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(result)
    else:
        sys.stdout.write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def _top_words(rng, level, flags):
    top, minimum, out, skip = flags
    default = rng.choice([3, 5, 10])
    fmt = rng.choice(["{word} {count}", "{count} {word}", "{word}: {count}", "{word}\t{count}", "{word},{count}"])
    args = [f'parser.add_argument("{top}", dest="top", type=int, default={default})']
    if level != "easy":
        args += [f'parser.add_argument("{minimum}", dest="min_length", type=int, default=1)',
                 f'parser.add_argument("{out}", dest="output")']
    if level == "hard":
        args.append(f'parser.add_argument("{skip}", dest="exclude", action="append", default=[])')
    source = f'''#!/usr/bin/env python3
"""Prints the most frequent words of a text file."""

import argparse
import re
import sys
from collections import Counter

FORMAT = {fmt!r}
STDIN = {level == "hard"}


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.set_defaults(min_length=1, output=None, exclude=[])
    {(chr(10) + "    ").join(args)}
    return parser


def check(args):
    if args.top < 1:
        return "{top} must be at least 1"
    if args.min_length < 1:
        return "{minimum} must be at least 1"
    return None


def compute(text, args):
    skip = {{word.lower() for word in args.exclude}}
    words = [word.lower() for word in re.findall(r"[A-Za-z]+", text)]
    counts = Counter(word for word in words if len(word) >= args.min_length and word not in skip)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[: args.top]
    return "".join(FORMAT.format(word=word, count=count) + "\\n" for word, count in ranked)
''' + CLI_MAIN
    pool = sample(rng, NOUNS + ADJECTIVES, 14)
    def text():
        weights = [rng.randint(1, 9) for _ in pool]
        words = rng.choices(pool, weights, k=rng.randint(60, 120))
        return " ".join(w.capitalize() if rng.random() < 0.2 else w + rng.choice(["", "", ",", ".", "!"])
                        for w in words) + "\n"
    line = fmt.replace("{word}", "WORD").replace("{count}", "COUNT").replace("\t", "<TAB>")
    usage = [f"`{top} N`: print the N most frequent words (default {default}); N must be at least 1."]
    runs = [{"args": ["{input}"]}, {"args": ["{input}", top, "2"]},
            {"args": ["{missing}"], "code": 1}, {"args": ["{input}", top, "0"], "code": 2}]
    if level != "easy":
        usage += [f"`{minimum} L`: ignore words shorter than L letters (default 1; L must be at least 1).",
                  f"`{out} FILE`: write the result to FILE instead of standard output (print nothing then)."]
        runs += [{"args": ["{input}", minimum, "6", top, "4"]}, {"args": ["{input}", out, "{out}"]},
                 {"args": ["{input}", minimum, "0"], "code": 2}]
    if level == "hard":
        usage += [f"`{skip} WORD` (may be given several times): leave WORD out, in any letter case.",
                  "A PATH of `-` means: read the text from standard input."]
        runs += [{"args": ["{input}", skip, pool[0].upper(), skip, pool[1], top, "3"]},
                 {"args": ["-", top, "5"], "stdin": text()}]
    for run in runs:
        run.setdefault("input", text())
    rules = [
        "Words are the runs of ASCII letters (`[A-Za-z]+`), compared in lower case and printed in lower case.",
        f"One line per word, as `{line}`" + (" (a tab between)" if "\t" in fmt else "") + ", most frequent "
        "first; words with the same count in alphabetical order.",
    ]
    return "topwords", "PATH", "a text file", source, usage, rules, runs


def _column_stats(rng, level, flags):
    column, stat, where, delimiter = flags
    default, decimals = rng.choice(["sum", "mean", "max"]), rng.choice([1, 2, 3])
    fmt = rng.choice(["{value}", "{stat}={value}", "{stat} of {column}: {value}"])
    args = [f'parser.add_argument("{column}", dest="column", required=True)',
            f'parser.add_argument("{stat}", dest="stat", choices=["sum", "mean", "min", "max"], default="{default}")']
    if level != "easy":
        args.append(f'parser.add_argument("{where}", dest="where")')
    if level == "hard":
        args.append(f'parser.add_argument("{delimiter}", dest="delimiter", default=",")')
    source = f'''#!/usr/bin/env python3
"""One statistic of one column of a CSV file."""

import argparse
import csv
import io
import sys

FORMAT = {fmt!r}
STDIN = False


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.set_defaults(where=None, delimiter=",", output=None)
    {(chr(10) + "    ").join(args)}
    return parser


def check(args):
    if args.where is not None and "=" not in args.where:
        return "{where} needs COLUMN=VALUE"
    return None


def compute(text, args):
    reader = csv.DictReader(io.StringIO(text), delimiter=args.delimiter)
    header = reader.fieldnames or []
    where = args.where.split("=", 1) if args.where else None
    for name in [args.column] + ([where[0]] if where else []):
        if name not in header:
            raise ValueError(f"no column named {{name!r}}")
    values = []
    for row in reader:
        if where and row[where[0]] != where[1]:
            continue
        cell = (row[args.column] or "").strip()
        if cell:
            try:
                values.append(float(cell))
            except ValueError:
                raise ValueError(f"not a number: {{cell!r}}") from None
    if not values:
        raise ValueError("no values")
    result = {{"sum": sum, "min": min, "max": max, "mean": lambda v: sum(v) / len(v)}}[args.stat](values)
    return FORMAT.format(stat=args.stat, column=args.column, value=f"{{result:.{decimals}f}}") + "\\n"
''' + CLI_MAIN
    key, number, other = rng.choice([("city", "amount", "units"), ("sensor", "reading", "battery"),
                                     ("team", "hours", "tickets")])
    keys = sample(rng, ["north", "south", "east", "west", "hub", "lab"], 3)

    def table(sep=",", blanks=level != "easy", junk=False):
        rows = []
        for index in range(rng.randint(8, 16)):  # every key has a value: a filter on it finds some
            value = f"{rng.randint(-200 if level == 'hard' else 0, 999) / 10:.1f}"
            blank = blanks and index >= len(keys) and rng.random() < 0.15
            rows.append([keys[index] if index < len(keys) else rng.choice(keys), "" if blank else value,
                         str(rng.randint(1, 9))])
        rng.shuffle(rows)
        if junk:
            rows[rng.randrange(len(rows))][1] = "n/a"
        return "".join(sep.join(row) + "\n" for row in [[key, number, other]] + rows)
    stats = ["sum", "mean", "min", "max"]
    runs = [{"args": ["{input}", column, number]}, {"args": ["{input}", column, other, stat, "min"]},
            {"args": ["{input}", stat, rng.choice(stats), column, number]},
            {"args": ["{input}", column, "price"], "code": 1}, {"args": ["{missing}", column, number], "code": 1},
            {"args": ["{input}", column, number, stat, "median"], "code": 2}]
    usage = [f"`{column} NAME` (required): the column to work on.",
             f"`{stat} STAT`: one of `sum`, `mean`, `min`, `max` (default `{default}`)."]
    if level != "easy":
        usage.append(f"`{where} COLUMN=VALUE`: only use the rows whose COLUMN is exactly VALUE (a value "
                     "without `=` is not allowed).")
        runs += [{"args": ["{input}", column, number, where, f"{key}={keys[0]}", stat, "mean"]},
                 {"args": ["{input}", column, number, where, f"{key}=nowhere"], "code": 1},
                 {"args": ["{input}", column, number, where, keys[0]], "code": 2}]
    if level == "hard":
        usage.append(f"`{delimiter} CHAR`: the field separator of the file (default `,`).")
        runs += [{"args": ["{input}", delimiter, ";", column, number, stat, "max"], "input": table(";")},
                 {"args": ["{input}", column, number], "input": table(junk=True), "code": 1}]
    for run in runs:
        run.setdefault("input", table())
    shape = fmt.replace("{value}", "VALUE").replace("{stat}", "STAT").replace("{column}", "NAME")
    rules = [f"Print one line: `{shape}`, where VALUE has exactly {decimals} decimal"
             f"{'s' if decimals > 1 else ''} (as `f\"{{value:.{decimals}f}}\"` writes it).",
             "The first line of the file is the header. Empty cells are skipped."
             + (" A cell that is not a number is an error (exit status 1)." if level == "hard" else ""),
             "A column that is not in the header" + (", or no value left to work on," if level != "easy" else "")
             + " is an error: exit status 1, with a message on standard error."]
    return "colstat", "CSV", "a CSV file", source, usage, rules, runs


def generate_python_cli(rng: random.Random, difficulty: str) -> GeneratedTask:
    kind = rng.choice([_top_words, _column_stats])
    flags = [rng.choice(options) for options in (
        (["--top", "--limit", "--count"], ["--min-length", "--min-len", "--shortest"], ["--output", "--out",
         "--save-to"], ["--exclude", "--skip", "--ignore"]) if kind is _top_words else
        (["--column", "--field", "--col"], ["--stat", "--op", "--agg"], ["--where", "--filter", "--only"],
         ["--delimiter", "--sep", "--separator"]))]
    prog, positional, what, source, usage, rules, runs = kind(rng, difficulty, flags)
    script = f"{prog}_{rng.choice(['cli', 'tool', 'report'])}.py" if rng.random() < 0.5 else f"{prog}.py"
    ref = _run(source)
    for run in runs:
        run.setdefault("code", 0)
        if run["code"] == 0:
            args = ref["build_parser"]().parse_args([a.replace("{out}", "result.txt") for a in run["args"]])
            result = ref["compute"](run.get("stdin") or run["input"], args)
            run["stdout"], run["file"] = ("", result) if args.output else (result, None)
    lead = paragraph(one_of(
        rng, f"Write a command-line tool in Python, /app/{script}, that reads {what} and prints a summary of it.",
        f"We need a small Python script at /app/{script}: it takes {what} and reports on it.",
        f"Create /app/{script}, a Python 3 command-line program (argparse) that works on {what}."),
        f"It is run as `python3 /app/{script} {positional} [options]`.")
    errors = paragraph(
        "Errors: an option value that is not allowed (see above) must make the script exit with status 2 and a "
        "message on standard error, as argparse's `parser.error` does. A file that cannot be read (it does not "
        "exist, say) must give exit status 1 and a message on standard error, not a traceback.")
    sample_input = runs[0]["input"]
    ext = "csv" if prog == "colstat" else "txt"
    tests = f'''import re
import subprocess
import sys

import pytest

SCRIPT = "/app/{script}"
RUNS = {runs!r}
NUMBER = re.compile(r"-?\\d+\\.\\d+")


def same(got, want):
    """Equal, numbers with the same decimals allowed to differ in the last one."""
    got, want = got.rstrip("\\n"), want.rstrip("\\n")
    if NUMBER.sub("#", got) != NUMBER.sub("#", want):
        return False
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(want)):
        decimals = len(b) - b.index(".") - 1
        if len(a) - a.index(".") - 1 != decimals or abs(float(a) - float(b)) > 1.01 * 10 ** -decimals:
            return False
    return True


@pytest.mark.parametrize("run", RUNS, ids=[" ".join(run["args"]) for run in RUNS])
def test_run(tmp_path, run):
    source = tmp_path / "input.{ext}"
    source.write_text(run["input"])
    names = {{"{{input}}": str(source), "{{out}}": str(tmp_path / "result.txt"),
             "{{missing}}": str(tmp_path / "nope.{ext}")}}
    args = [names.get(arg, arg) for arg in run["args"]]
    done = subprocess.run([sys.executable, SCRIPT, *args], input=run.get("stdin", ""), capture_output=True,
                          text=True, timeout=60)
    if run["code"]:
        assert done.returncode == run["code"], (done.returncode, done.stdout, done.stderr)
        assert done.stderr.strip(), "no message on standard error"
        assert "Traceback" not in done.stderr, done.stderr
        return
    assert done.returncode == 0, done.stderr
    if run["file"] is not None:
        assert same((tmp_path / "result.txt").read_text(), run["file"])
        assert done.stdout.strip() == ""
    else:
        assert same(done.stdout, run["stdout"]), (done.stdout, run["stdout"])
'''
    return GeneratedTask(
        family="python-cli", category="python", difficulty=difficulty,
        instruction=instruction(lead, "Options:\n\n" + bullets(usage), "Output:\n\n" + bullets(rules), errors,
                                paragraph(f"There is a sample input in /app/sample.{ext} to try it on.")),
        files={f"sample.{ext}": sample_input}, solution=f"cat > /app/{script} <<'EOF_SCRIPT'\n{source}EOF_SCRIPT",
        tests=tests, tags=["python", "cli", "argparse", prog])


FAMILIES = [
    Family("python-cli", "python", generate_python_cli,
           "write an argparse command-line script with given options, output format and exit codes"),
]
