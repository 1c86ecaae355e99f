"""Make a slow script fast without changing its output (perf-fix).

A script with a quadratic or exponential function runs for ages on its real input; the tests give
it a time limit on that input and compare its output there and on small inputs with what the
fast reference computes here."""

from __future__ import annotations

import hashlib
import random

from ..phrasing import NOUNS, bullets, instruction, one_of, paragraph
from ..spec import Family, GeneratedTask

# Each kind has slow functions, fast ones with the same results, and the body of solve() that prints
# the output. A big input is made in the task's setup from a fixed generator (LCG below,
# run the same way here to know the expected output), so no megabytes travel with the task.
LCG = '''def numbers(seed, count, low, high):
    state, out = seed, []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(low + (state >> 33) % (high - low + 1))
    return out
'''
DISTINCT_SLOW = '''def distinct(values):
    """The distinct values, in the order they first appear."""
    unique = []
    for value in values:
        if value not in unique:
            unique.append(value)
    return unique
'''
DISTINCT_FAST = '''def distinct(values):
    """The distinct values, in the order they first appear."""
    return list(dict.fromkeys(values))
'''
PAIRS_SLOW = '''def FN(values, target):
    """How many pairs i < j have values[i] + values[j] == target."""
    count = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] + values[j] == target:
                count += 1
    return count
'''
PAIRS_FAST = '''def FN(values, target):
    """How many pairs i < j have values[i] + values[j] == target."""
    seen, count = {}, 0
    for value in values:
        count += seen.get(target - value, 0)
        seen[value] = seen.get(value, 0) + 1
    return count
'''
WAYS_SLOW = '''def FN(total, steps):
    """In how many orders the steps can add up to exactly total, modulo MOD."""
    if total == 0:
        return 1
    if total < 0:
        return 0
    return sum(FN(total - step, steps) for step in steps) % MOD
'''
WAYS_FAST = '''def FN(total, steps):
    """In how many orders the steps can add up to exactly total, modulo MOD."""
    ways = [1] + [0] * total
    for amount in range(1, total + 1):
        ways[amount] = sum(ways[amount - step] for step in steps if step <= amount) % MOD
    return ways[total]
'''
WINDOW_SLOW = '''def FN(values, width):
    """The sum, over every run of width consecutive values, of the largest value in the run."""
    total = 0
    for start in range(len(values) - width + 1):
        total += max(values[start:start + width])
    return total
'''
WINDOW_FAST = '''def FN(values, width):
    """The sum, over every run of width consecutive values, of the largest value in the run."""
    from collections import deque
    total, window = 0, deque()  # indexes whose values decrease from left to right
    for index, value in enumerate(values):
        while window and values[window[-1]] <= value:
            window.pop()
        window.append(index)
        if window[0] <= index - width:
            window.popleft()
        if index >= width - 1:
            total += values[window[0]]
    return total
'''
INVERSIONS_SLOW = '''def FN(values):
    """How many pairs i < j have values[i] > values[j]."""
    count = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] > values[j]:
                count += 1
    return count
'''
INVERSIONS_FAST = '''def FN(values):
    """How many pairs i < j have values[i] > values[j]."""
    def sort(items):
        if len(items) <= 1:
            return items, 0
        left, a = sort(items[:len(items) // 2])
        right, b = sort(items[len(items) // 2:])
        merged, count, i, j = [], a + b, 0, 0
        while i < len(left) and j < len(right):
            if right[j] < left[i]:
                merged.append(right[j])
                j += 1
                count += len(left) - i
            else:
                merged.append(left[i])
                i += 1
        return merged + left[i:] + right[j:], count
    return sort(list(values))[1]
'''
GAP_SLOW = '''def FN(values):
    """The smallest difference between two of the values, and how many pairs have it."""
    best, pairs = None, 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            gap = abs(values[i] - values[j])
            if best is None or gap < best:
                best, pairs = gap, 1
            elif gap == best:
                pairs += 1
    return best, pairs
'''
GAP_LARGEST_FAST = '''def FN(values):
    """The largest difference between two of the values, and how many pairs have it."""
    from collections import Counter
    if len(values) < 2:
        return None, 0
    counts, low, high = Counter(values), min(values), max(values)
    if low == high:
        return 0, len(values) * (len(values) - 1) // 2
    return high - low, counts[low] * counts[high]
'''
GAP_FAST = '''def FN(values):
    """The smallest difference between two of the values, and how many pairs have it."""
    from collections import Counter
    if len(values) < 2:
        return None, 0
    ordered = sorted(values)
    best = min(b - a for a, b in zip(ordered, ordered[1:]))
    counts = Counter(values)
    if best == 0:
        return 0, sum(c * (c - 1) // 2 for c in counts.values())
    return best, sum(c * counts.get(v + best, 0) for v, c in counts.items())
'''
# kind: (level, slow source, fast source, names for FN, solve()'s body, what it computes, numbers in the big input)
PERF_KINDS = {
    "pairs": ("easy", PAIRS_SLOW, PAIRS_FAST, ["count_pairs", "matching_pairs", "pairs_to_target"],
              "values = [int(line) for line in lines[1:]]\n    return OUT.format(FN(values, int(lines[0])))",
              "counts the pairs of readings that add up to the target on its first line", 20000),
    "distinct": ("easy", DISTINCT_SLOW, DISTINCT_FAST, ["distinct"],
                 "unique = distinct([int(line) for line in lines])\n"
                 "    return OUT.format(len(unique), sum((i + 1) * v for i, v in enumerate(unique)) % MODULUS)",
                 "lists the distinct values in first-seen order and prints their number and a checksum", 100000),
    "ways": ("medium", WAYS_SLOW, WAYS_FAST, ["count_orders", "step_orders", "ways_to_reach"],
             "return OUT.format(FN(int(lines[1]), [int(s) for s in lines[0].split()]))",
             "counts in how many orders some step sizes add up to a total", 0),
    "window": ("medium", WINDOW_SLOW, WINDOW_FAST, ["sum_of_maxima", "window_peaks", "rolling_max_total"],
               "return OUT.format(FN([int(line) for line in lines[1:]], int(lines[0])))",
               "adds up the maximum of every window of consecutive readings", 300000),
    "inversions": ("hard", DISTINCT_SLOW + "\n\n" + INVERSIONS_SLOW, DISTINCT_FAST + "\n\n" + INVERSIONS_FAST,
                   ["count_inversions", "out_of_order_pairs", "disorder"],
                   "values = [int(line) for line in lines]\n    return OUT.format(len(distinct(values)), FN(values))",
                   "reports how many distinct values there are and how many pairs are out of order", 30000),
    "gap": ("hard", DISTINCT_SLOW + "\n\n" + GAP_SLOW, DISTINCT_FAST + "\n\n" + GAP_FAST,
            ["closest_pair", "smallest_gap", "tightest_pair"],
            "values = [int(line) for line in lines]\n    best, pairs = FN(values)\n"
            "    return OUT.format(len(distinct(values)), best, pairs)",
            "reports the number of distinct values and the smallest gap between two values", 25000),
}
OUTPUTS = {"pairs": ["pairs: {}", "{} matching pairs", "{}"],
           "distinct": ["{} distinct, checksum {}", "{} {}", "distinct={} checksum={}", "{}\n{}"],
           "ways": ["{}", "ways: {}"], "window": ["{}", "total: {}", "sum over windows = {}"],
           "inversions": ["distinct={} inversions={}", "{} {}"], "gap": ["{} distinct; gap {} x{}", "{} {} {}"]}


def perf_input(kind: str, rng: random.Random, count: int, big: bool) -> tuple[list[str], tuple | None]:
    """The head lines of an input and the numbers that follow: (seed, count, low, high) or None."""
    seed = rng.randrange(1, 1 << 32)
    if kind == "pairs":
        target = rng.randint(800, 1200) if big else rng.randint(4, 12)
        return [str(target)], (seed, count, 0, target)
    if kind == "ways":
        steps = sorted(rng.sample(range(1, 7), rng.randint(2, 4)))
        return [" ".join(map(str, steps)), str(rng.randint(300, 600) if big else rng.randint(0, 14))], None
    if kind == "window":
        return [str(rng.randint(3000, 6000) if big else rng.randint(1, 5))], (seed, count, 0, 10**6)
    high = rng.choice([10**9, 60000]) if big else rng.choice([9, 100])
    return [], (seed, count, 0, high)


def generate_perf_fix(rng: random.Random, difficulty: str) -> GeneratedTask:
    kind = rng.choice(sorted(k for k, spec in PERF_KINDS.items() if spec[0] == difficulty))
    _, slow, fast, fn_names, body, what, count = PERF_KINDS[kind]
    fn, out = rng.choice(fn_names), rng.choice(OUTPUTS[kind])
    script = rng.choice(["crunch", "report", "analyze", "summarize", "stats", "digest", "tally", "scan", "measure"])
    # the reference takes at most about 0.5 s (distinct, window, inversions) or 0.1 s (the others) here
    heavy = kind in ("distinct", "window", "inversions")
    data, limit = rng.choice(NOUNS), 3 if heavy else rng.choice([2, 3])
    mod = rng.choice([1_000_000_007, 998_244_353, 1_000_003, 999_983, 65_537, 10_007])
    # a variant per kind, so that two tasks of one kind rarely ask for the same program
    variant = rng.random() < 0.5
    if variant and kind == "pairs":
        slow, fast = (text.replace("have values[i] + values[j] == target", "differ by exactly target (target > 0)")
                      for text in (slow, fast))
        slow = slow.replace("values[i] + values[j] == target", "abs(values[i] - values[j]) == target")
        fast = fast.replace("seen.get(target - value, 0)", "seen.get(value - target, 0) + seen.get(value + target, 0)")
        what = what.replace("add up to", "differ by")
    if variant and kind == "window":
        slow, fast = slow.replace("max(", "min(").replace("largest", "smallest"), \
            fast.replace("<= value", ">= value").replace("largest", "smallest").replace("decrease", "increase")
        what = what.replace("maximum", "minimum")
    if variant and kind == "inversions":
        slow, fast = slow.replace("values[i] > values[j]", "values[i] >= values[j]"), \
            fast.replace("right[j] < left[i]", "right[j] <= left[i]").replace("values[i] > values[j]",
                                                                               "values[i] >= values[j]")
        what = what.replace("out of order", "out of order or equal")
    if variant and kind == "gap":
        slow = slow.replace("gap < best", "gap > best").replace("smallest", "largest")
        fast = DISTINCT_FAST + "\n\n" + GAP_LARGEST_FAST
        what = what.replace("smallest", "largest")
    head = (f'#!/usr/bin/env python3\n"""Usage: python3 {script}.py INPUT\n\nReads INPUT and {what}."""\n\n'
            "import sys\n\n")
    head += f"MOD = {mod}\n" if kind == "ways" else f"MODULUS = {mod}\n" if kind == "distinct" else ""
    head += f"OUT = {out!r}\n\n\n"
    tail = (f"\n\ndef solve(lines):\n    {body}\n\n\ndef main():\n    with open(sys.argv[1]) as handle:\n"
            "        print(solve([line.strip() for line in handle if line.strip()]))\n\n\n"
            'if __name__ == "__main__":\n    main()\n').replace("FN", fn)
    slow_script, fast_script = (head + source.replace("FN", fn) + tail for source in (slow, fast))
    namespace: dict = {}
    exec(LCG + fast_script.replace('if __name__ == "__main__":', "if False:"), namespace)

    def text_of(head_lines, spec):
        values = namespace["numbers"](*spec) if spec else []
        return "\n".join(head_lines + [str(v) for v in values]) + "\n"

    big_head, big_spec = perf_input(kind, rng, count, True)
    big = text_of(big_head, big_spec)
    expected = namespace["solve"]([line for line in big.split("\n") if line])
    small = []
    for size in (0, 1, 5, rng.randint(8, 14), rng.randint(15, 40)):
        small_head, small_spec = perf_input(kind, rng, size, False)
        text = text_of(small_head, small_spec)
        small.append((text, namespace["solve"]([line for line in text.split("\n") if line])))
    files = {f"{script}.py": slow_script}
    setup = ""
    if big_spec:
        setup = (f"mkdir -p /app/data\npython3 - <<'PY'\n{LCG}\nvalues = numbers{big_spec!r}\n"
                 f"with open('/app/data/{data}.txt', 'w') as handle:\n"
                 f"    handle.write('\\n'.join({big_head!r} + [str(v) for v in values]) + '\\n')\nPY")
    else:
        files[f"data/{data}.txt"] = big
    run = f"python3 /app/{script}.py /app/data/{data}.txt"
    lead = paragraph(
        one_of(rng, f"`/app/{script}.py` {what}.", f"We have a script, /app/{script}.py, that {what}."),
        one_of(rng, f"On our real input it is far too slow: `{run}` runs for ages.",
               f"It works, but `{run}` takes forever."),
        f"Make it fast: on that input it must finish in under {limit} seconds (on a modest machine)",
        "while printing exactly the same output. Find out what makes it slow and replace it with a better "
        "algorithm." + (" There may be more than one slow part." if difficulty == "hard" else ""))
    rules = bullets([
        "The output must stay identical for any valid input, not only for this one: it will also be checked on "
        "other inputs, edge cases included.",
        f"Keep the script where it is, its command line and its output format. Don't modify /app/data/{data}.txt.",
        "Plain Python 3 and its standard library only.",
    ])
    tests = f'''import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT, INPUT, LIMIT = "/app/{script}.py", Path("/app/data/{data}.txt"), {limit}
INPUT_SHA256 = {hashlib.sha256(big.encode()).hexdigest()!r}
EXPECTED = {expected!r}
SMALL = {small!r}


def test_input_untouched():
    assert hashlib.sha256(INPUT.read_bytes()).hexdigest() == INPUT_SHA256


def test_fast_and_same_output_on_the_real_input():
    try:
        done = subprocess.run([sys.executable, SCRIPT, str(INPUT)], capture_output=True, text=True, timeout=LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the script ran for more than {{LIMIT}} s")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == EXPECTED


@pytest.mark.parametrize("index", range(len(SMALL)))
def test_same_output_on_other_inputs(tmp_path, index):
    text, expected = SMALL[index]
    (tmp_path / "input.txt").write_text(text)
    done = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "input.txt")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == expected, text
'''
    return GeneratedTask(
        family="perf-fix", category="performance", difficulty=difficulty, instruction=instruction(lead, rules),
        files=files, setup=setup, solution=f"cat > /app/{script}.py <<'EOF_SCRIPT'\n{fast_script}EOF_SCRIPT",
        tests=tests, tags=["python", "performance", "algorithms", kind])


FAMILIES = [
    Family("perf-fix", "performance", generate_perf_fix,
           "make a quadratic or exponential script fast under a time limit, output unchanged"),
]
