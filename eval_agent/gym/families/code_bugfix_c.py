"""Fix one bug injected into a small C library that has a `make test` target (bugfix-c).

The libraries below are correct, with their test programs; each lists spots (original text,
mutated text, level, what the mutation is). A task names the library with a prefix drawn from rng
and applies ONE mutation; every spot is caught by the library's own tests/test_PREFIX.c (checked
when the spots were written, and again by the validator: the tests must fail untouched)."""

from __future__ import annotations

import random
import re

from ..phrasing import ADJECTIVES, NOUNS, bullets, instruction, one_of, paragraph
from ..codegen import undo_mutation
from ..spec import Family, GeneratedTask

# bugfix-c: small C libraries (P stands for the task's prefix), each with spots like bugfix-python's:
# (original, mutated, level, what); every spot is caught by the library's own tests/test_P.c.
C_ARRAYS = {
    "header": "long P_sum(const int *a, int n);\nint P_max_index(const int *a, int n);\n"
              "int P_count_between(const int *a, int n, int lo, int hi);\nint P_clamp(int value, int lo, int hi);\n"
              "void P_clamp_all(int *a, int n, int lo, int hi);\ndouble P_mean(const int *a, int n);\n",
    "source": '''#include "P.h"

long P_sum(const int *a, int n)
{
    long total = 0;
    for (int i = 0; i < n; i++)
        total += a[i];
    return total;
}

/* The index of the largest value (the first one on ties); -1 when n is 0. */
int P_max_index(const int *a, int n)
{
    if (n <= 0)
        return -1;
    int best = 0;
    for (int i = 1; i < n; i++)
        if (a[i] > a[best])
            best = i;
    return best;
}

/* How many values v have lo <= v <= hi. */
int P_count_between(const int *a, int n, int lo, int hi)
{
    int count = 0;
    for (int i = 0; i < n; i++)
        if (a[i] >= lo && a[i] <= hi)
            count++;
    return count;
}

int P_clamp(int value, int lo, int hi)
{
    if (value < lo)
        return lo;
    if (value > hi)
        return hi;
    return value;
}

void P_clamp_all(int *a, int n, int lo, int hi)
{
    for (int i = 0; i < n; i++)
        a[i] = P_clamp(a[i], lo, hi);
}

/* The mean of the values; 0.0 when n is 0. */
double P_mean(const int *a, int n)
{
    if (n == 0)
        return 0.0;
    return (double)P_sum(a, n) / n;
}
''',
    "tests": '''static void test_sum(void)
{
    int a[] = {4, -2, 7, 1};
    CHECK(P_sum(a, 4) == 10);
    CHECK(P_sum(a, 0) == 0);
}

static void test_max_index(void)
{
    int a[] = {3, 9, 2, 9, 5}, b[] = {-4, -8, -1}, c[] = {1, 2, 8};
    CHECK(P_max_index(a, 5) == 1);
    CHECK(P_max_index(b, 3) == 2);
    CHECK(P_max_index(c, 3) == 2);
    CHECK(P_max_index(a, 0) == -1);
}

static void test_count_between(void)
{
    int a[] = {1, 5, 10, 15, 20};
    CHECK(P_count_between(a, 5, 5, 15) == 3);
    CHECK(P_count_between(a, 5, 21, 30) == 0);
}

static void test_clamp_all(void)
{
    int a[] = {-5, 0, 7, 12, 30};
    P_clamp_all(a, 5, 0, 10);
    CHECK(a[0] == 0 && a[1] == 0 && a[2] == 7 && a[3] == 10 && a[4] == 10);
}

static void test_mean(void)
{
    int a[] = {1, 2, 4};
    CHECK(P_mean(a, 3) > 2.33 && P_mean(a, 3) < 2.34);
    CHECK(P_mean(a, 0) == 0.0);
}
''',
    "extra": '''static void test_extra(void)
{
    int a[] = {7}, b[] = {2, 2};
    CHECK(P_max_index(a, 1) == 0 && P_sum(a, 1) == 7 && P_count_between(a, 1, 7, 7) == 1);
    CHECK(P_clamp(5, 5, 5) == 5 && P_clamp(-3, 0, 4) == 0 && P_clamp(9, 0, 4) == 4);
    CHECK(P_mean(b, 2) == 2.0);
}
''',
    "spots": [
        ("for (int i = 0; i < n; i++)\n        total", "for (int i = 1; i < n; i++)\n        total", "easy",
         "an off-by-one loop start"),
        ("if (a[i] > a[best])", "if (a[i] >= a[best])", "easy", "a wrong comparison"),
        ("a[i] >= lo && a[i] <= hi", "a[i] > lo && a[i] <= hi", "easy", "an off-by-one comparison"),
        ("P_clamp(a[i], lo, hi);", "P_clamp(a[i], hi, lo);", "hard", "swapped arguments"),
        ("if (n == 0)\n        return 0.0;\n    return (double)", "return (double)", "medium", "a missing edge case"),
        ("for (int i = 1; i < n; i++)", "for (int i = 1; i < n - 1; i++)", "medium", "an off-by-one loop end"),
    ],
}
C_TEXT = {
    "header": "#include <stddef.h>\n\nint P_count_char(const char *s, char c);\nint P_count_words(const char *s);\n"
              "void P_reverse(char *s);\nint P_is_palindrome(const char *s);\nvoid P_caesar(char *s, int shift);\n"
              "size_t P_rtrim(char *s);\n",
    "source": '''#include <ctype.h>
#include <string.h>

#include "P.h"

int P_count_char(const char *s, char c)
{
    int count = 0;
    for (; *s; s++)
        count += *s == c;
    return count;
}

/* Words are runs of characters that are not whitespace. */
int P_count_words(const char *s)
{
    int count = 0, in_word = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            count++;
        }
    }
    return count;
}

void P_reverse(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n / 2; i++) {
        char t = s[i];
        s[i] = s[n - 1 - i];
        s[n - 1 - i] = t;
    }
}

/* Whether s reads the same backwards, ignoring letter case and whatever is not a letter. */
int P_is_palindrome(const char *s)
{
    size_t i = 0, j = strlen(s);
    while (i < j) {
        if (!isalpha((unsigned char)s[i])) { i++; continue; }
        if (!isalpha((unsigned char)s[j - 1])) { j--; continue; }
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)s[j - 1]))
            return 0;
        i++;
        j--;
    }
    return 1;
}

/* Shifts every letter shift places (0 to 25) along the alphabet, wrapping around; keeps the case. */
void P_caesar(char *s, int shift)
{
    for (; *s; s++) {
        if (islower((unsigned char)*s))
            *s = (char)('a' + (*s - 'a' + shift) % 26);
        else if (isupper((unsigned char)*s))
            *s = (char)('A' + (*s - 'A' + shift) % 26);
    }
}

/* Cuts the whitespace off the end of s; returns the new length. */
size_t P_rtrim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    s[n] = '\\0';
    return n;
}
''',
    "tests": '''static void test_count_char(void)
{
    CHECK(P_count_char("banana", 'n') == 2);
    CHECK(P_count_char("aaa", 'a') == 3);
    CHECK(P_count_char("", 'a') == 0);
}

static void test_count_words(void)
{
    CHECK(P_count_words("  two  words\\n") == 2);
    CHECK(P_count_words("one") == 1);
    CHECK(P_count_words(" \\t ") == 0);
}

static void test_reverse(void)
{
    char a[] = "stressed", b[] = "abc", c[] = "";
    P_reverse(a);
    P_reverse(b);
    P_reverse(c);
    CHECK(strcmp(a, "desserts") == 0 && strcmp(b, "cba") == 0 && c[0] == '\\0');
}

static void test_is_palindrome(void)
{
    CHECK(P_is_palindrome("A man, a plan, a canal: Panama"));
    CHECK(P_is_palindrome("Noon"));
    CHECK(!P_is_palindrome("palindrome"));
    CHECK(P_is_palindrome(""));
}

static void test_caesar(void)
{
    char a[] = "Hello, xyz!", b[] = "Zz";
    P_caesar(a, 3);
    P_caesar(b, 1);
    CHECK(strcmp(a, "Khoor, abc!") == 0);
    CHECK(strcmp(b, "Aa") == 0);
}

static void test_rtrim(void)
{
    char a[] = "text \\t\\n", b[] = "   ", c[] = "keep";
    CHECK(P_rtrim(a) == 4 && strcmp(a, "text") == 0);
    CHECK(P_rtrim(b) == 0 && b[0] == '\\0');
    CHECK(P_rtrim(c) == 4);
}
''',
    "extra": '''static void test_extra(void)
{
    char a[] = "ab", b[] = "Yes", c[] = "x";
    P_reverse(a);
    P_caesar(b, 25);
    CHECK(strcmp(a, "ba") == 0 && strcmp(b, "Xdr") == 0 && P_rtrim(c) == 1);
    CHECK(P_count_words("a\\tb\\nc") == 3 && P_is_palindrome("Was it a car or a cat I saw?"));
    CHECK(!P_is_palindrome("ab") && P_count_char("aaa", 'b') == 0);
}
''',
    "spots": [
        ("            in_word = 1;\n            count++;", "            count++;", "easy", "a missing state change"),
        ("i < n / 2; i++", "i <= n / 2; i++", "easy", "an off-by-one loop end"),
        ("if (tolower((unsigned char)s[i]) != tolower((unsigned char)s[j - 1]))", "if (s[i] != s[j - 1])",
         "medium", "a missing case conversion"),
        ("while (i < j) {\n        if (!isalpha((unsigned char)s[i])) { i++; continue; }\n", "while (i < j) {\n",
         "hard", "a missing edge case"),
        ("% 26);\n        else if", "% 25);\n        else if", "easy", "a wrong modulus"),
        ("'A' + (*s - 'A' + shift)", "'A' + (*s - 'a' + shift)", "medium", "a wrong constant"),
        ("while (n > 0 && isspace", "while (n > 1 && isspace", "medium", "an off-by-one bound"),
        ("count += *s == c;", "count += *s != c;", "easy", "an inverted comparison"),
    ],
}
C_MAKEFILE = """CC = gcc
CFLAGS = -std=c11 -O2 -Wall -Wextra -Iinclude

all: build/libP.a

build/libP.a: src/P.c include/P.h
\tmkdir -p build
\t$(CC) $(CFLAGS) -c -o build/P.o src/P.c
\tar rcs $@ build/P.o

build/test_P: tests/test_P.c build/libP.a
\t$(CC) $(CFLAGS) -o $@ tests/test_P.c build/libP.a -lm

test: build/test_P
\t./build/test_P

clean:
\trm -rf build

.PHONY: all test clean
"""
C_TEST_HEAD = """#include <stdio.h>
#include <string.h>

#include "P.h"

static int failures = 0;
#define CHECK(cond) do { if (!(cond)) { printf("FAILED %s:%d: %s\\n", __FILE__, __LINE__, #cond); failures++; } } \\
    while (0)

"""


def _c_main(tests: str) -> str:
    calls = "".join(f"    {line[12:line.index('(')]}();\n" for line in tests.splitlines()
                    if line.startswith("static void"))
    return (f"\nint main(void)\n{{\n{calls}    if (failures) {{\n        printf(\"%d check(s) failed\\n\", failures);\n"
            "        return 1;\n    }\n    printf(\"all checks passed\\n\");\n    return 0;\n}\n")


def _fill(text: str, prefix: str) -> str:
    for old, new in (("P_", f"{prefix}_"), ("P.h", f"{prefix}.h"), ("P.c", f"{prefix}.c"), ("P.o", f"{prefix}.o"),
                     ("libP", f"lib{prefix}"), ("test_P", f"test_{prefix}")):
        text = text.replace(old, new)
    return text


def generate_bugfix_c(rng: random.Random, difficulty: str) -> GeneratedTask:
    pool = [(template, spot) for template in (C_ARRAYS, C_TEXT) for spot in template["spots"] if spot[2] == difficulty]
    template, (original, mutated, _, what) = rng.choice(pool)
    prefix = rng.choice(NOUNS + ADJECTIVES)
    source, original, mutated = (_fill(text, prefix) for text in (template["source"], original, mutated))
    if source.count(original) != 1:
        raise RuntimeError(f"a mutation spot must occur exactly once: {original!r}")
    broken = source.replace(original, mutated)
    if broken.count(mutated) != 1:
        raise RuntimeError(f"the mutated text must occur once, for the solution to find it: {mutated!r}")
    before = source[:source.index(original)]
    function = [line for line in before.splitlines() if line and line[0].isalpha() and "(" in line][-1]
    function = function[:function.index("(")].split()[-1]
    visible = _fill(C_TEST_HEAD + template["tests"] + _c_main(template["tests"]), prefix)
    extra = _fill(C_TEST_HEAD + template["extra"] + _c_main(template["extra"]), prefix)
    guard = f"{prefix.upper()}_H"
    header = f"#ifndef {guard}\n#define {guard}\n\n{_fill(template['header'], prefix)}\n#endif\n"
    files = {f"include/{prefix}.h": header,
             f"src/{prefix}.c": broken, f"tests/test_{prefix}.c": visible, "Makefile": _fill(C_MAKEFILE, prefix)}
    where = one_of(rng, f"/app holds a small C library, `{prefix}` (src/, include/, tests/ and a Makefile).",
                   f"In /app there is the C library `{prefix}`: its code in src/{prefix}.c, its header in include/, "
                   "its tests in tests/, built with make.")
    if difficulty == "easy":
        lead = paragraph(where, f"`make test` fails: a check of `{function}` is not met. Find the bug in "
                         f"`{function}` and fix it.")
    elif difficulty == "medium":
        lead = paragraph(where, one_of(rng, "`make test` reports failed checks since the last change.",
                                       "Its test program (`make test`) fails."),
                         "There is one bug in the library code; find and fix it.")
    else:
        lead = paragraph(where, "Some of its functions give wrong results in some cases, and `make test` shows it.",
                         "Find the root cause and fix it in the library. More checks than those in "
                         f"tests/test_{prefix}.c will be run against your fix, so fix the cause, not the symptom.")
    rules = bullets(["Do not change tests/ or the Makefile: the tests are right, the library is wrong.",
                     one_of(rng, "Keep the fix small.", "A focused change is all it takes."),
                     f"`make test` must pass in the end (it builds build/lib{prefix}.a and the test program)."])
    solution = undo_mutation(f"src/{prefix}.c", mutated, original)
    tests = f'''import shutil
import subprocess
from pathlib import Path

APP = Path("/app")
PREFIX = {prefix!r}
VISIBLE = {visible!r}
EXTRA = {extra!r}


def run(args, cwd):
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout[-3000:] + done.stderr[-2000:]


def fresh_copy(tmp_path):
    """The library as the agent left it, with the original tests, built from scratch."""
    work = tmp_path / "app"
    shutil.copytree(APP, work, ignore=shutil.ignore_patterns("build", "*.o", "*.a"))
    (work / "tests" / f"test_{{PREFIX}}.c").write_text(VISIBLE)
    return work


def test_tests_left_unchanged():
    assert (APP / "tests" / f"test_{{PREFIX}}.c").read_text() == VISIBLE


def test_make_test_passes(tmp_path):
    code, output = run(["make", "test"], fresh_copy(tmp_path))
    assert code == 0, output


def test_extra_checks_pass(tmp_path):
    work = fresh_copy(tmp_path)
    (work / "extra.c").write_text(EXTRA)
    code, output = run(["make", f"build/lib{{PREFIX}}.a"], work)
    assert code == 0, output
    code, output = run(["gcc", "-std=c11", "-Iinclude", "-o", "extra", "extra.c", f"build/lib{{PREFIX}}.a", "-lm"],
                       work)
    assert code == 0, output
    code, output = run(["./extra"], work)
    assert code == 0, output
'''
    return GeneratedTask(
        family="bugfix-c", category="bugfix", difficulty=difficulty, instruction=instruction(lead, rules),
        files=files, solution=solution, tests=tests,
        tags=["c", "make", "debugging", re.sub(r"^an? ", "", what).replace(" ", "-")])


FAMILIES = [
    Family("bugfix-c", "bugfix", generate_bugfix_c,
           "find and fix one bug injected into a small C library; `make test` shows it"),
]
