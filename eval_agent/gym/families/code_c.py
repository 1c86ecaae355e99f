"""C from a spec: write a C program and the Makefile that builds it (c-program).

Expected outputs are computed here in Python from the same parameters the reference C source is
written from; the tests build in a copy of /app, so a test run leaves no build products behind
(the validator runs the tests twice in one container: untouched, then after the solution)."""

from __future__ import annotations

import bisect
import itertools
import random

from ..phrasing import ADJECTIVES, NOUNS, bullets, instruction, one_of, paragraph, sample
from ..spec import Family, GeneratedTask

MAKEFILE = "CC = gcc\nCFLAGS = -std=c11 -O2 -Wall -Wextra\n\nNAME: NAME.c\n\t$(CC) $(CFLAGS) -o NAME NAME.c\n\n" \
           "clean:\n\trm -f NAME\n\n.PHONY: clean\n"


def _primes(rng, level):
    mode = rng.choice(["list", "line"]) if level == "easy" else rng.choice(["count", "stats", "last"])
    stats, sep = rng.choice(["count=%ld sum=%lld", "%ld primes, sum %lld", "%ld %lld"]), rng.choice([" ", ",", ", "])
    below = rng.random() < 0.5  # primes < N rather than <= N
    down = mode in ("list", "line") and rng.random() < 0.5  # printed from the largest down
    each = {"list": 'printf("%ld\\n", i);', "line": f'printf(count > 1 ? "{sep}%ld" : "%ld", i);',
            "last": "last = i;"}.get(mode, "")
    end = {"line": 'if (count)\n        printf("\\n");', "count": 'printf("%ld\\n", count);',
           "stats": f'printf("{stats}\\n", count, sum);',
           "last": 'if (last)\n        printf("%ld\\n", last);\n    else\n        printf("none\\n");'}.get(mode, "")
    source = f'''#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{{
    char *end;
    if (argc != 2) {{
        fprintf(stderr, "usage: %s N\\n", argv[0]);
        return 1;
    }}
    long n = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\\0' || n < 0 || n > 100000000) {{
        fprintf(stderr, "%s: not a valid N: %s\\n", argv[0], argv[1]);
        return 1;
    }}
    char *composite = calloc((size_t)n + 2, 1);
    for (long i = 2; i * i <= n; i++)
        if (!composite[i])
            for (long j = i * i; j <= n; j += i)
                composite[j] = 1;
    long count = 0, last = 0;
    long long sum = 0;
    for (long k = 0; k <= n; k++) {{
        long i = {"n - k" if down else "k"};
        if (i < 2 || composite[i]{" || i == n" if below else ""})
            continue;
        count++;
        sum += i;
        {each}
    }}
    {end}
    (void)sum;
    (void)last;
    free(composite);
    return 0;
}}
'''
    top = {"easy": (100, 10000), "medium": (10**6, 3 * 10**6), "hard": (5 * 10**6, 10**7)}[level]
    ns = [rng.randint(*top), rng.randint(20, 99), rng.randint(1000, 99999), 2, 3, 1, 0]
    flags = bytearray([1]) * (max(ns) + 1)
    flags[0:2] = b"\0\0"
    for i in range(2, int(max(ns) ** 0.5) + 1):
        if flags[i]:
            flags[i * i::i] = bytes(len(range(i * i, len(flags), i)))
    primes = list(itertools.compress(range(len(flags)), flags))

    def output(n):
        found = primes[:bisect.bisect_left(primes, n) if below else bisect.bisect_right(primes, n)]
        found = found[::-1] if down else found
        return {"list": "".join(f"{p}\n" for p in found), "line": sep.join(map(str, found)) + ("\n" if found else ""),
                "count": f"{len(found)}\n", "last": f"{found[-1] if found else 'none'}\n",
                "stats": stats.replace("%ld", str(len(found))).replace("%lld", str(sum(found))) + "\n"}[mode]
    cases = [([str(n)], "", 0, output(n)) for n in ns]
    upto = "below N (N itself excluded)" if below else "up to N (N included)"
    order = "decreasing" if down else "increasing"
    shape = {"list": f"every prime {upto}, one per line, in {order} order",
             "line": f"every prime {upto} on one line, in {order} order, separated by `{sep}` (no output at all "
                     "when there is none)",
             "count": f"how many primes there are {upto}, as one number on one line",
             "last": f"the largest prime {upto}, or `none` when there is none",
             "stats": f"how many primes there are {upto} and their sum, on one line, as `"
                      + stats.replace("%ld", "COUNT").replace("%lld", "SUM") + "`"}[mode]
    spec = [f"It takes one argument, N (an integer from 0 to {top[1]:,}), and prints {shape}.",
            "A prime is an integer greater than 1 with no divisors but 1 and itself."]
    if level != "easy":
        spec.append(f"It must be fast: N = {top[1]:,} must take well under a second (think of the sieve of "
                    "Eratosthenes)." + (" The sum needs a 64-bit integer." if mode == "stats" else ""))
    if level == "hard":
        spec.append("A missing or extra argument, or an N that is not a non-negative integer (`abc`, `-5`, `12x`), "
                    "is an error: print a message on standard error and exit with status 1.")
        cases += [([], "", 1, None), (["abc"], "", 1, None), (["-5"], "", 1, None), (["12x"], "", 1, None),
                  (["3", "4"], "", 1, None)]
    return rng.choice(["primes", "sieve", "prime_list", "primecount", "eratos", "pgen"]), source, spec, cases, "N"


def _word_stats(rng, level):
    fields = rng.sample(["lines", "words", "bytes"], 3)
    counts = rng.choice(["%ld %ld %ld", "{}=%ld {}=%ld {}=%ld", "%ld {}, %ld {}, %ld {}"]).format(*fields)
    longest = level != "easy"
    common = level == "hard"
    source = f'''#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXWORD 100

static int compare(const void *a, const void *b)
{{
    return strcmp(*(char *const *)a, *(char *const *)b);
}}

int main(void)
{{
    long lines = 0, words = 0, bytes = 0, cap = 0;
    char word[MAXWORD + 1], longest[MAXWORD + 1] = "";
    char **all = NULL;
    size_t len = 0;
    for (;;) {{
        int c = getchar();
        if (c != EOF) {{
            bytes++;
            lines += c == '\\n';
        }}
        if (c == EOF || isspace(c)) {{
            if (len > 0) {{
                word[len] = '\\0';
                if (len > strlen(longest))
                    strcpy(longest, word);
                if (words == cap) {{
                    cap = cap ? cap * 2 : 64;
                    all = realloc(all, (size_t)cap * sizeof *all);
                }}
                all[words] = malloc(len + 1);
                memcpy(all[words++], word, len + 1);
                len = 0;
            }}
            if (c == EOF)
                break;
        }} else if (len < MAXWORD) {{
            word[len++] = (char)c;
        }}
    }}
    printf("{counts}\\n", {", ".join(fields)});
    if ({int(longest)})
        printf("longest: %s\\n", words ? longest : "(none)");
    if ({int(common)}) {{
        qsort(all, (size_t)words, sizeof *all, compare);
        long best = 0;
        const char *best_word = "(none)";
        for (long i = 0, j; i < words; i = j) {{
            for (j = i; j < words && strcmp(all[j], all[i]) == 0; j++)
                ;
            if (j - i > best) {{
                best = j - i;
                best_word = all[i];
            }}
        }}
        printf("most common: %s (%ld)\\n", best_word, best);
    }}
    return 0;
}}
'''
    pool = sample(rng, NOUNS + ADJECTIVES, 12)

    def text():
        out = []
        for _ in range(rng.randint(3, 9)):
            words = [rng.choice(pool) + rng.choice(["", "", ",", "."]) for _ in range(rng.randint(0, 9))]
            out.append(rng.choice([" ", "  ", "\t"]).join(words))
        return "\n".join(out) + rng.choice(["\n", ""])

    def output(data):
        found = data.encode().split()
        values = {"lines": data.count("\n"), "words": len(found), "bytes": len(data.encode())}
        lines = [counts % tuple(values[f] for f in fields)]
        if longest:
            lines.append("longest: " + (max(found, key=len).decode() if found else "(none)"))
        if common:
            tally = sorted((-found.count(w), w) for w in set(found))
            lines.append(f"most common: {tally[0][1].decode()} ({-tally[0][0]})" if found else
                         "most common: (none) (0)")
        return "\n".join(lines) + "\n"
    inputs = [text() for _ in range(4)] + ["", "one", f"{pool[0]} {pool[1]}\t{pool[1]}\n"]
    cases = [([], data, 0, output(data)) for data in inputs]
    shape = counts
    for field in fields:
        shape = shape.replace("%ld", field.upper(), 1)
    spec = ["It reads text from standard input (ASCII, any size, words at most 100 characters) and prints "
            f"`{shape}` on the first line: LINES is the number of newline characters, WORDS the number of words "
            "(runs of characters other than whitespace, as `isspace` says) and BYTES the number of bytes read."]
    if longest:
        spec.append("The second line is `longest: WORD`, the longest word (the first one if several are as long), "
                    "or `longest: (none)` when there are no words.")
    if common:
        spec.append("The third line is `most common: WORD (COUNT)`, the word that occurs most often (words are "
                    "compared byte by byte, case matters; on a tie, the one that sorts first by `strcmp`), or "
                    "`most common: (none) (0)` when there are no words.")
    return rng.choice(["wordstat", "textstat", "wcx", "tally", "wstat", "countwords"]), source, spec, cases, ""


def _matrix(rng, level):
    mode = rng.choice(["rows", "cols", "total"] + ([] if level == "easy" else ["transpose", "max"]))
    base, sep = rng.choice([0, 1]), rng.choice([" ", ",", "\\t"])
    body = {
        "rows": 'for (long r = 0; r < rows; r++) {\n        long long s = 0;\n        for (long c = 0; c < cols; c++)\n'
                '            s += m[r * cols + c];\n        printf("%lld\\n", s);\n    }',
        "cols": 'for (long c = 0; c < cols; c++) {\n        long long s = 0;\n        for (long r = 0; r < rows; r++)\n'
                f'            s += m[r * cols + c];\n        printf(c ? "{sep}%lld" : "%lld", s);\n    }}\n'
                '    printf("\\n");',
        "total": 'long long s = 0;\n    for (long i = 0; i < rows * cols; i++)\n        s += m[i];\n'
                 '    printf("%lld\\n", s);',
        "transpose": 'for (long c = 0; c < cols; c++)\n        for (long r = 0; r < rows; r++)\n'
                     f'            printf(r + 1 < rows ? "%lld{sep}" : "%lld\\n", m[r * cols + c]);',
        "max": 'long best = 0;\n    for (long i = 1; i < rows * cols; i++)\n        if (m[i] > m[best])\n'
               f'            best = i;\n    printf("%lld at row %ld, column %ld\\n", m[best], best / cols + {base}, '
               f'best % cols + {base});',
    }[mode]
    source = f'''#include <stdio.h>
#include <stdlib.h>

static void fail(const char *why)
{{
    fprintf(stderr, "error: %s\\n", why);
    exit(1);
}}

int main(void)
{{
    long rows, cols;
    if (scanf("%ld %ld", &rows, &cols) != 2 || rows <= 0 || cols <= 0)
        fail("the first line must hold two positive sizes");
    long long *m = malloc(sizeof *m * (size_t)(rows * cols));
    for (long i = 0; i < rows * cols; i++)
        if (scanf("%lld", &m[i]) != 1)
            fail("missing or malformed number");
    {body}
    free(m);
    return 0;
}}
'''
    span = 999 if level == "easy" else 4 * 10**9
    real, shown = sep.replace("\\t", "\t"), "a tab" if sep == "\\t" else f"`{sep}`"

    def case(rows, cols):
        m = [[rng.randint(-span, span) for _ in range(cols)] for _ in range(rows)]
        text = f"{rows} {cols}\n" + "".join(" ".join(map(str, row)) + "\n" for row in m)
        flat = [v for row in m for v in row]
        best = flat.index(max(flat))
        out = {"rows": "".join(f"{sum(row)}\n" for row in m),
               "cols": real.join(str(sum(col)) for col in zip(*m)) + "\n", "total": f"{sum(flat)}\n",
               "transpose": "".join(real.join(map(str, col)) + "\n" for col in zip(*m)),
               "max": f"{flat[best]} at row {best // cols + base}, column {best % cols + base}\n"}[mode]
        return [], text, 0, out
    cases = [case(rng.randint(1, 6), rng.randint(1, 6)) for _ in range(4)] + [case(2, 3), case(1, 1), case(40, 30)]
    cases.append(([], cases[0][1].replace("\n", "  \n\n", 2), 0, cases[0][3]))  # any whitespace separates
    shape = {"rows": "the sum of each row, one per line", "cols": f"the sum of each column, on one line, separated "
             f"by {shown}", "total": "the sum of all the numbers", "transpose": "the transposed matrix: COLS "
             f"lines of ROWS numbers each, separated by {shown}",
             "max": f"`MAX at row R, column C`: the largest number and where it is (rows and columns counted from "
                    f"{base}; the first one in reading order on a tie)"}[mode]
    spec = ["It reads a matrix of integers from standard input: first ROWS and COLS (positive), then ROWS*COLS "
            "numbers, row by row, separated by any whitespace.", f"It prints {shape}."]
    if level != "easy":
        spec.append("The numbers and the sums can exceed 32 bits (use 64-bit integers).")
    if level == "hard":
        spec.append("Bad input (sizes missing or not positive, too few numbers, something that is not a number) is "
                    "an error: a message on standard error and exit status 1.")
        cases += [([], bad, 1, None) for bad in ("", "2\n", "0 3\n", "2 2\n1 2 3\n", "2 2\n1 two 3 4\n")]
    return rng.choice(["matrix", "matsum", "grid", "matstat", "tablesum", "mtx"]), source, spec, cases, ""


def _base(rng, level):
    order = rng.choice([("FROM", "TO", "NUMBER"), ("NUMBER", "FROM", "TO")])
    upper, pad = rng.random() < 0.5, rng.choice([1, 1, 4, 8])
    digits = "0123456789" + ("ABCDEFGHIJKLMNOPQRSTUVWXYZ" if upper else "abcdefghijklmnopqrstuvwxyz")
    at = {name: order.index(name) + 1 for name in order}
    source = f'''#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

static int base_of(const char *text)
{{
    char *end;
    long base = strtol(text, &end, 10);
    return end == text || *end != '\\0' || base < 2 || base > 36 ? 0 : (int)base;
}}

static int digit_of(char c)
{{
    if (isdigit((unsigned char)c))
        return c - '0';
    if (isalpha((unsigned char)c))
        return tolower((unsigned char)c) - 'a' + 10;
    return 99;
}}

int main(int argc, char **argv)
{{
    if (argc != 4) {{
        fprintf(stderr, "usage: %s {' '.join(order)}\\n", argv[0]);
        return 1;
    }}
    const char *number = argv[{at["NUMBER"]}], *p = number + (number[0] == '-');
    int from = base_of(argv[{at["FROM"]}]), to = base_of(argv[{at["TO"]}]);
    if (!from || !to || *p == '\\0') {{
        fprintf(stderr, "bases go from 2 to 36, and the number must have digits\\n");
        return 1;
    }}
    unsigned long long value = 0;
    for (; *p; p++) {{
        if (digit_of(*p) >= from) {{
            fprintf(stderr, "'%c' is not a digit in base %d\\n", *p, from);
            return 1;
        }}
        value = value * (unsigned)from + (unsigned)digit_of(*p);
    }}
    char out[80];
    int len = 0, negative = number[0] == '-' && value != 0;
    do {{
        out[len++] = "{digits}"[value % (unsigned)to];
        value /= (unsigned)to;
    }} while (value);
    while (len < {pad})
        out[len++] = '0';
    if (negative)
        putchar('-');
    while (len)
        putchar(out[--len]);
    putchar('\\n');
    return 0;
}}
'''
    def spell(value, base, case_mix=False):
        out = ""
        magnitude = abs(value)
        while True:
            d = digits[magnitude % base]
            out = (d.swapcase() if case_mix and rng.random() < 0.5 else d) + out
            magnitude //= base
            if not magnitude:
                break
        return ("-" if value < 0 else "") + out
    high = 2**31 - 1 if level == "easy" else 2**63 - 1
    cases = []
    for value, b_from, b_to in [(rng.randint(0, high), rng.randint(2, 36), rng.randint(2, 36)) for _ in range(5)] + \
            [(255, 10, 16), (0, rng.randint(2, 36), 2), (high, 10, 36), (rng.randint(0, 99999), 36, 10)]:
        if level == "hard" and rng.random() < 0.4:
            value = -value
        named = {"FROM": str(b_from), "TO": str(b_to), "NUMBER": spell(value, b_from, case_mix=True)}
        out = spell(value, b_to)
        cases.append(([named[n] for n in order], "", 0, out[:out.count("-")] + out.lstrip("-").zfill(pad) + "\n"))
    spec = [f"It takes three arguments, `{' '.join(order)}`, and prints NUMBER, written in base FROM, in base TO "
            "(bases from 2 to 36), followed by a newline.",
            "Digits above 9 are letters: on input either case is accepted, on output they are "
            f"{'upper' if upper else 'lower'}"
            " case. No prefixes" + (f"; pad the digits with leading zeros to at least {pad} (after any `-`)." if pad > 1
                                    else ", no leading zeros (zero is `0`)."),
            f"NUMBER is at most {high:,} ({'2^31 - 1' if level == 'easy' else '2^63 - 1'})."]
    if level == "hard":
        spec[2] = (f"NUMBER may start with `-` (a negative number, printed with its `-`); its magnitude is at most "
                   f"{high:,}.")
        spec.append("Errors: a wrong number of arguments, a base that is not an integer from 2 to 36, an empty "
                    "NUMBER or a digit that is not valid in base FROM make it print a message on standard error and "
                    "exit with status 1.")
        bad = [{"FROM": "10", "TO": "2", "NUMBER": "12a"}, {"FROM": "2", "TO": "10", "NUMBER": "102"},
               {"FROM": "1", "TO": "10", "NUMBER": "0"}, {"FROM": "10", "TO": "37", "NUMBER": "5"},
               {"FROM": "ten", "TO": "2", "NUMBER": "5"}, {"FROM": "10", "TO": "2", "NUMBER": "-"}]
        cases += [([named[n] for n in order], "", 1, None) for named in bad] + [(["10", "2"], "", 1, None)]
    name = rng.choice(["baseconv", "rebase", "radix", "convbase", "nbase", "basex"])
    return name, source, spec, cases, " ".join(order)


def _c_tests(name: str, cases: list, make_target: str = "") -> str:
    return f'''import shutil
import subprocess
from pathlib import Path

import pytest

PROGRAM = {name!r}
CASES = {cases!r}


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """Built with make in a copy of /app, so nothing is left behind and no old binary counts."""
    work = tmp_path_factory.mktemp("build") / "app"
    shutil.copytree("/app", work, ignore=shutil.ignore_patterns(PROGRAM, "*.o"))
    done = subprocess.run(["make"{", " + repr(make_target) if make_target else ""}], cwd=work, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (work / PROGRAM).is_file(), "make did not build " + PROGRAM
    return work / PROGRAM


@pytest.mark.parametrize("index", range(len(CASES)))
def test_case(program, index):
    args, stdin, code, want = CASES[index]
    done = subprocess.run([str(program), *args], input=stdin, capture_output=True, text=True, timeout=20)
    if code:
        assert done.returncode == code, (args, stdin, done.returncode, done.stdout)
        assert done.stderr.strip(), "no message on standard error"
        return
    assert done.returncode == 0, (args, stdin, done.stderr)
    assert done.stdout.rstrip("\\n") == want.rstrip("\\n"), (args, stdin)
'''


def generate_c_program(rng: random.Random, difficulty: str) -> GeneratedTask:
    kind = rng.choice([_primes, _word_stats, _matrix, _base])
    name, source, spec, cases, usage = kind(rng, difficulty)
    shown = min((case for case in cases if not case[2] and case[3].strip() and (usage or case[1].endswith("\n"))),
                key=lambda case: (not 4 <= len(case[3]) <= 300, case[1].split()[:2] == ["1", "1"],  # telling, not long
                                  len(case[3]) + len(case[1])))
    example = f"$ ./{name} {' '.join(shown[0])}".rstrip() + ("\n" if not shown[1] else f" <<'EOF'\n{shown[1]}EOF\n")
    lead = paragraph(one_of(
        rng, f"Write a C program, /app/{name}.c, with a Makefile (/app/Makefile) that builds it.",
        f"In /app, create `{name}.c` (a C program) and a `Makefile` to build it.",
        f"I need a small command-line tool written in C: the source in /app/{name}.c and a Makefile next to it."),
        f"It is run as `./{name}{' ' + usage if usage else ''}`" + (" with its input on standard input." if
                                                                     not usage else "."))
    build = bullets([
        f"`make` (the default target) must build the executable `{name}` in the same folder, with gcc and the flags "
        "`-std=c11 -O2 -Wall -Wextra`.",
        "The tests copy /app to another folder and run `make` there, so use relative paths.",
        "Standard C library only." + (" Link with `-lm` if you use math functions." if rng.random() < 0.5 else ""),
    ])
    parts = [lead, "What it does:\n\n" + bullets(spec), "For example:\n\n```\n" + example + shown[3] + "```",
             "Build:\n\n" + build]
    makefile = MAKEFILE.replace("NAME", name)
    solution = (f"cat > /app/{name}.c <<'EOF_C'\n{source}EOF_C\ncat > /app/Makefile <<'EOF_MAKE'\n{makefile}"
                "EOF_MAKE")
    return GeneratedTask(
        family="c-program", category="c", difficulty=difficulty, instruction=instruction(*parts),
        files={"NOTES.md": f"# {name}\n\nTo do: the C program and its Makefile (see the task).\n"},
        solution=solution, tests=_c_tests(name, cases), tags=["c", "make", kind.__name__.strip("_")])


FAMILIES = [
    Family("c-program", "c", generate_c_program,
           "write a C program and its Makefile (primes, word stats, matrix sums, base conversion)"),
]
