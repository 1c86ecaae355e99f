"""Bash from a spec: an executable script that works on a folder (shell-script).

The tests build fresh fixture folders (made here from rng, embedded in the tests), run the script
on them and compare its output (and, for renames, the folder afterwards) with what is computed
here in Python from the same parameters the reference bash script is written from."""

from __future__ import annotations

import random

from ..phrasing import ADJECTIVES, NOUNS, bullets, instruction, one_of, paragraph, sample
from ..spec import Family, GeneratedTask


# shell-script: each kind gives (script name, usage, spec, bash body, runs); a run is a fixture folder
# (relative path -> contents), the arguments ({dir} is the folder), and what must come out.
def _fixture(rng, depth, extensions, spaces=False, bare=False):
    files, names = {}, sample(rng, NOUNS, 12)
    folders = [""] + [f"{rng.choice(ADJECTIVES)}/" for _ in range(depth)] + \
        ([f"{rng.choice(ADJECTIVES)}/{rng.choice(NOUNS)}/"] if depth > 1 else [])
    for index, name in enumerate(names):
        ext = "" if bare and index % 5 == 4 else "." + rng.choice(extensions)
        stem = name + (" copy" if spaces and index % 4 == 3 else "") + (".tar" if index == 7 and ext else "")
        lines = rng.randint(0 if bare else 1, 8)
        files[folders[index % len(folders)] + stem + ext] = "".join(f"{name} line {i}\n" for i in range(lines))
    return files


def _ext_report(rng, level):
    metric, order = rng.choice(["files", "lines"]), rng.choice(["name", "count"])
    fmt = rng.choice(["{ext} {n}", "{ext}: {n}", "{n} {ext}", "{ext}\t{n}", "{ext}={n}", "{n}\t{ext}"])
    label = rng.choice(["(none)", "-", "noext"])
    fold = level == "hard"
    extensions = ["txt", "log", "csv", "md", "py"] + (["TXT", "Log"] if fold else [])

    def expected(files):
        totals = {}
        for path, text in files.items():
            if level == "easy" and "/" in path:
                continue
            name = path.rsplit("/", 1)[-1]
            ext = name.rsplit(".", 1)[1] if "." in name else label
            ext = ext.lower() if fold else ext
            totals[ext] = totals.get(ext, 0) + (1 if metric == "files" else text.count("\n"))
        ranked = sorted(totals.items(), key=(lambda kv: kv[0]) if order == "name" else (lambda kv: (-kv[1], kv[0])))
        return "".join(fmt.format(ext=e, n=n) + "\n" for e, n in ranked)
    runs = []
    for _ in range(3):
        files = _fixture(rng, 1 if level == "easy" else 2, extensions, spaces=level == "hard", bare=level != "easy")
        runs.append({"files": files, "args": ["{dir}"], "stdout": expected(files)})
    count = 'n=1' if metric == "files" else 'n=$(wc -l < "$path")'
    sort_keys = "-k1,1" if order == "name" else "-k2,2nr -k1,1"
    awk_format = fmt.replace("{ext}", "%s").replace("{n}", "%s").replace("\t", "\\t")
    awk_args = "$1, $2" if fmt.index("{ext}") < fmt.index("{n}") else "$2, $1"
    lower = "ext=$(printf '%s' \"$ext\" | tr '[:upper:]' '[:lower:]')" if fold else ":"
    body = f'''dir=${{1:-}}
if [ $# -ne 1 ] || [ ! -d "$dir" ]; then
    echo "usage: $(basename "$0") DIR (an existing folder)" >&2
    exit 1
fi
tab=$(printf '\\t')
find "$dir" {"-maxdepth 1 " if level == "easy" else ""}-type f -print0 | while IFS= read -r -d '' path; do
    name=${{path##*/}}
    case "$name" in
        *.*) ext=${{name##*.}} ;;
        *) ext='{label}' ;;
    esac
    {lower}
    {count}
    printf '%s\\t%s\\n' "$ext" "$n"
done | awk -F'\\t' '{{ total[$1] += $2 }} END {{ for (e in total) printf "%s\\t%d\\n", e, total[e] }}' \\
    | LC_ALL=C sort -t "$tab" {sort_keys} | awk -F'\\t' '{{ printf "{awk_format}\\n", {awk_args} }}'
'''
    what = "how many files have it" if metric == "files" else \
        "how many lines (newline characters, as `wc -l` counts) the files that have it hold in total"
    spec = [f"For every file extension, print {what}: " +
            ("only the files directly in DIR count, not those in its subfolders." if level == "easy" else
             "all regular files below DIR count, at any depth."),
            "The extension is what follows the last `.` of the file name (`a.tar.gz` has `gz`)"
            + (f"; a name without a `.` counts under `{label}`" if level != "easy" else "") + "."
            + (" Extensions are compared and printed in lower case (`TXT` and `txt` are the same)." if fold else ""),
            "One line per extension: `" + fmt.replace("{ext}", "EXT").replace("{n}", "N").replace("\t", "<TAB>")
            + "`, " + ("sorted by extension (byte order, as `LC_ALL=C sort` does)." if order == "name" else
                       "the largest N first, ties by extension in byte order (as `LC_ALL=C sort`).")]
    if level != "easy":
        spec.append("Without exactly one argument, or when DIR is not a folder: a message on standard error and "
                    "exit status 1.")
        runs += [{"files": {}, "args": [], "code": 1}, {"files": {}, "args": ["{missing}"], "code": 1}]
    return rng.choice(["ext_report", "count_ext", "extstats", "by_extension", "extcount"]), "DIR", spec, body, runs


def _renumber(rng, level):
    ext, width, start = rng.choice(["jpg", "png", "txt", "log"]), rng.choice([2, 3, 4]), rng.choice([0, 1])
    sep, fixed = rng.choice(["_", "-", ""]), rng.choice(["photo", "scan", "page", "item"])
    fmt = rng.choice(["{old} -> {new}", "renamed {old} to {new}", "{old} => {new}"])
    words = sample(rng, NOUNS + ADJECTIVES, 30)

    def fixture():
        names = [w + ("" if level != "hard" or rng.random() < 0.7 else " " + rng.choice(NOUNS)) for w in words]
        files = {f"{n}.{ext}": f"{n}\n" for n in rng.sample(names, rng.randint(3, 7))}
        files.update({f"{n}.{rng.choice(['md', 'csv', ext.upper()])}": "other\n" for n in rng.sample(names, 3)})
        files[f"{rng.choice(ADJECTIVES)}/{words[0]}.{ext}"] = "nested\n"
        return files

    def expected(files, prefix):
        after, lines = {k: v for k, v in files.items() if "/" in k or not k.endswith("." + ext)}, []
        for n, old in enumerate(sorted(k for k in files if "/" not in k and k.endswith("." + ext)), start):
            new = f"{prefix}{sep}{n:0{width}d}.{ext}"
            after[new] = files[old]
            lines.append(fmt.format(old=old, new=new))
        return after, "".join(line + "\n" for line in lines)
    runs = []
    for _ in range(3):
        files = fixture()
        prefix = fixed if level == "easy" else rng.choice(NOUNS)
        after, out = expected(files, prefix)
        runs.append({"files": files, "args": ["{dir}"] + ([] if level == "easy" else [prefix]), "stdout": out,
                     "after": after})
    printf = fmt.replace("{old}", "%s").replace("{new}", "%s")
    body = f'''{"dir=${1:-}" if level == "easy" else "dir=${1:-}; prefix=${2:-}"}
if [ $# -ne {1 if level == "easy" else 2} ] || [ ! -d "$dir" ]; then
    echo "usage: $(basename "$0") DIR{"" if level == "easy" else " PREFIX"}" >&2
    exit 1
fi
{"prefix=" + fixed if level == "easy" else ":"}
export LC_ALL=C
n={start}
for path in "$dir"/*.{ext}; do
    [ -f "$path" ] || continue
    name=${{path##*/}}
    new=$(printf '%s{sep}%0{width}d.{ext}' "$prefix" "$n")
    mv -- "$path" "$dir/$new"
    printf '{printf}\\n' "$name" "$new"
    n=$((n + 1))
done
'''
    spec = [f"Rename every `*.{ext}` file directly in DIR (not in subfolders; the extension in lower case exactly) "
            f"to `{'PREFIX' if level != 'easy' else fixed}{sep}NUMBER.{ext}`" + ("" if sep else " (no separator)")
            + f", where NUMBER counts from {start} with "
            f"{width} digits (zero-padded), taking the files in byte order of their current names (`LC_ALL=C`).",
            "Other files stay as they are. For each rename print one line: `"
            + fmt.replace("{old}", "OLD").replace("{new}", "NEW") + "` (file names, without the folder)."]
    if level == "hard":
        spec.append("File names may contain spaces.")
    if level != "easy":
        spec.append("Wrong number of arguments, or DIR not a folder: a message on standard error, exit status 1.")
        runs += [{"files": {}, "args": ["{dir}"], "code": 1}, {"files": {}, "args": ["{missing}", "x"], "code": 1}]
    usage = "DIR" if level == "easy" else "DIR PREFIX"
    return rng.choice(["renumber", "rename_seq", "number_files"]), usage, spec, body, runs


def _largest(rng, level):
    fmt = rng.choice(["{size} {path}", "{path} {size}", "{size}\t{path}", "{path}: {size} bytes",
                      "{path} ({size} B)", "{size},{path}"])
    filtered, smallest = level == "hard", rng.random() < 0.4

    def fixture():
        files = _fixture(rng, 2, ["bin", "dat", "txt"], spaces=level == "hard")
        sizes = [rng.choice([0, 10, 100, 100, 2048]) + rng.randint(0, 3) * 7 for _ in files]
        return {path: "x" * size for path, size in zip(files, sizes)}

    def expected(files, count, ext):
        chosen = [(len(t), p) for p, t in files.items() if not ext or p.endswith("." + ext)]
        ranked = sorted(chosen, key=lambda sp: (sp[0] if smallest else -sp[0], sp[1]))[:count]
        return "".join(fmt.format(size=s, path=p) + "\n" for s, p in ranked)
    runs = []
    for _ in range(3):
        files, count = fixture(), rng.randint(2, 6)
        ext = rng.choice(["bin", "dat", "txt"]) if filtered else ""
        runs.append({"files": files, "args": ["{dir}", str(count)] + ([ext] if ext else []),
                     "stdout": expected(files, count, ext)})
    runs.append({"files": runs[0]["files"], "args": ["{dir}", "50"], "stdout": expected(runs[0]["files"], 50, "")})
    printf = fmt.replace("{size}", "%s").replace("{path}", "%s").replace("\t", "\\t")
    fields = "$1, $2" if fmt.index("{size}") < fmt.index("{path}") else "$2, $1"
    body = f'''dir=${{1:-}}; count=${{2:-}}; ext=${{3:-}}
if [ $# -lt 2 ] || [ $# -gt {3 if filtered else 2} ] || [ ! -d "$dir" ]; then
    echo "usage: $(basename "$0") DIR N{" [EXT]" if filtered else ""}" >&2
    exit 1
fi
case "$count" in
    ''|*[!0-9]*|0) echo "N must be a positive integer" >&2; exit 2 ;;
esac
tab=$(printf '\\t')
find "$dir" -type f ${{ext:+-name "*.$ext"}} -printf '%s\\t%P\\n' \\
    | LC_ALL=C sort -t "$tab" -k1,1n{"" if smallest else "r"} -k2,2 \\
    | awk -F'\\t' -v n="$count" 'NR <= n {{ printf "{printf}\\n", {fields} }}'
'''
    size_words = "smallest regular files below DIR (at any depth), smallest first" if smallest else \
        "largest regular files below DIR (at any depth), largest first"
    spec = [f"Print the N {size_words}; files of the same size in byte order of their paths (`LC_ALL=C`). "
            "Empty files count too. Fewer files than N: print them all.",
            "One line per file: `" + fmt.replace("{size}", "SIZE").replace("{path}", "PATH").replace("\t", "<TAB>")
            + "`, SIZE in bytes, PATH relative to DIR (`sub/file.txt`, no leading `./`)."]
    if filtered:
        spec.append("With the optional third argument EXT, only files whose name ends in `.EXT` count. File names "
                    "may contain spaces.")
    if level != "easy":
        spec.append("N that is not a positive integer: a message on standard error, exit status 2. Wrong number of "
                    "arguments or DIR not a folder: a message on standard error, exit status 1.")
        runs += [{"files": {}, "args": ["{dir}", "0"], "code": 2}, {"files": {}, "args": ["{dir}", "3x"], "code": 2},
                 {"files": {}, "args": ["{missing}", "3"], "code": 1}, {"files": {}, "args": ["{dir}"], "code": 1}]
    names = ["smallest", "tiny_files", "min_sizes"] if smallest else ["largest", "biggest_files", "top_sizes"]
    return rng.choice(names), "DIR N" + (" [EXT]" if filtered else ""), spec, body, runs


def generate_shell_script(rng: random.Random, difficulty: str) -> GeneratedTask:
    kind = rng.choice([_ext_report, _renumber, _largest])
    name, usage, spec, body, runs = kind(rng, difficulty)
    script = f"{name}.sh"
    for run in runs:
        run.setdefault("code", 0)
        run.setdefault("after", None)
    lead = paragraph(one_of(
        rng, f"Write a bash script, /app/{script}, run as `/app/{script} {usage}`.",
        f"I need an executable bash script at /app/{script} (usage: `{script} {usage}`).",
        f"Create /app/{script}, a bash script called as `/app/{script} {usage}`."))
    notes = bullets([f"Make it executable, with a `#!/bin/bash` first line; it is run directly (`/app/{script} ...`), "
                     "from another working directory, on folders the tests create.",
                     "Only standard tools (coreutils, find, sort, awk, sed ...); no Python.",
                     "Print nothing else on standard output."])
    shown = runs[0]
    example = "```\n" + "".join(f"{path}\n" for path in sorted(shown["files"])) + "```"
    tests = f'''import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = "/app/{script}"
RUNS = {runs!r}


def tree(root):
    return {{p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}}


def test_is_an_executable_bash_script():
    assert os.access(SCRIPT, os.X_OK), "the script is missing or not executable"
    assert "python" not in Path(SCRIPT).read_text().lower()


@pytest.mark.parametrize("index", range(len(RUNS)))
def test_run(tmp_path, index):
    run = RUNS[index]
    root = tmp_path / "data"
    root.mkdir()
    for path, text in run["files"].items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    names = {{"{{dir}}": str(root), "{{missing}}": str(tmp_path / "no-such-folder")}}
    done = subprocess.run([SCRIPT, *[names.get(arg, arg) for arg in run["args"]]], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    if run["code"]:
        assert done.returncode == run["code"], (done.returncode, done.stdout, done.stderr)
        assert done.stderr.strip(), "no message on standard error"
        return
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip("\\n") == run["stdout"].rstrip("\\n")
    if run["after"] is not None:
        assert tree(root) == run["after"]
'''
    parts = [lead, "What it does:\n\n" + bullets(spec),
             paragraph("For example, on a folder holding") + "\n\n" + example + "\n\n" +
             paragraph(f"`{script} {' '.join(a if a != '{dir}' else 'FOLDER' for a in shown['args'])}` prints:")
             + "\n\n```\n" + shown["stdout"] + "```", notes]
    return GeneratedTask(
        family="shell-script", category="shell", difficulty=difficulty, instruction=instruction(*parts),
        files={"README.md": f"# {script}\n\nTo do: the script (see the task).\n"},
        solution=f"cat > /app/{script} <<'EOF_SH'\n#!/bin/bash\n{body}EOF_SH\nchmod +x /app/{script}",
        tests=tests, tags=["bash", "shell", "files", kind.__name__.strip("_")])


FAMILIES = [
    Family("shell-script", "shell", generate_shell_script,
           "write an executable bash script that works on a folder (per-extension counts, renumbering, largest files)"),
]
