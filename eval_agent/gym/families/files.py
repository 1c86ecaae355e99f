"""File chores: sort a folder into subfolders (by extension, a date in the name, size class) with a
manifest of the moves, and back files up into a tar.gz with a SHA-256 manifest.

Solutions and tests are a fixed body of Python under a line of parameters (`P = {...}`,
`EXPECTED = ...`): the parameters differ per task, the code that uses them reads the same."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

from ..codegen import python_script, tests_module
from ..phrasing import ADJECTIVES, NOUNS, instruction, one_of, paragraph
from ..spec import Family, GeneratedTask


# -- file-organize -----------------------------------------------------------------------------

EXTENSIONS = ["pdf", "jpg", "png", "txt", "csv", "docx", "mp3", "zip", "json", "log"]


def _sized(rng: random.Random, size: int) -> str:
    """Text of exactly `size` bytes (ASCII)."""
    words = " ".join(rng.choice(NOUNS + ADJECTIVES) for _ in range(size // 4 + 2))
    return (words * 2)[:size]


def generate_file_organize(rng: random.Random, difficulty: str) -> GeneratedTask:
    folder = one_of(rng, "inbox", "downloads", "incoming", "uploads", "scans", "dropzone")
    mode = rng.choice(["extension", "date", "size"])
    count = rng.randint(*{"easy": (6, 9), "medium": (12, 16), "hard": (18, 26)}[difficulty])
    stems = iter(rng.sample([f"{a}_{n}" for a in ADJECTIVES for n in NOUNS], count + 2))
    other = one_of(rng, "other", "misc", "no_extension") if mode == "extension" else "undated"
    classes = one_of(rng, ("small", "medium", "large"), ("tiny", "normal", "big"))
    low, high = rng.choice([100, 200, 256, 500, 512]), rng.choice([1000, 1024, 2000, 2048, 4096])
    layout = one_of(rng, "{y}/{m}", "{y}-{m}")
    moves: list[list[str]] = []
    files: dict[str, str] = {}
    for _ in range(count):
        stem, ext = next(stems), rng.choice(EXTENSIONS)
        edge = difficulty != "easy" and rng.random() < (0.3 if difficulty == "medium" else 0.45)
        size = rng.choice([rng.randint(1, low - 1), rng.randint(low + 1, high - 1), rng.randint(high + 1, 3 * high)])
        if mode == "extension":
            name = f"{stem}.{ext}"
            if edge:  # an upper-case extension, no extension at all, or (hard) two dots
                name = one_of(rng, f"{stem}.{ext.upper()}", stem, *([f"{stem}.v2.{ext}", f"{stem}.tar.gz"]
                                                                    if difficulty == "hard" else []))
            target = name.rsplit(".", 1)[1].lower() if "." in name else other
        elif mode == "date":
            y, m, d = rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28)
            name = one_of(rng, f"{stem}_{y}-{m:02d}-{d:02d}.{ext}", f"{y}-{m:02d}-{d:02d}_{stem}.{ext}")
            if edge:  # (hard) a compact date as cameras write it, or no date at all
                name = one_of(rng, f"{stem}.{ext}", *([f"IMG_{y}{m:02d}{d:02d}_{rng.randint(100000, 235959)}.{ext}"]
                                                      if difficulty == "hard" else []))
            target = layout.format(y=y, m=f"{m:02d}") if name != f"{stem}.{ext}" else other
        else:
            name = f"{stem}.{ext}"
            if edge:  # exactly on a threshold, or empty
                size = one_of(rng, low, high, 0 if difficulty == "hard" else low - 1)
            target = classes[0 if size < low else 1 if size < high else 2]
        files[name] = _sized(rng, size)
        moves.append([name, f"{target}/{name}"])
    expected = {destination: files[source] for source, destination in moves}
    if difficulty == "hard":  # a subfolder that is already there: its files stay put
        kept = f"{moves[0][1].rsplit('/', 1)[0]}/{next(stems)}.keep"
        files[kept] = expected[kept] = "already sorted\n"
    expected = {path: hashlib.sha256(text.encode()).hexdigest() for path, text in expected.items()}
    files = {f"{folder}/{path}": text for path, text in files.items()}

    manifest_format = rng.choice(["csv", "json", "arrow"])
    manifest = one_of(rng, "moves", "manifest", "organize_log", "moved_files") + \
        {"csv": ".csv", "json": ".json", "arrow": ".txt"}[manifest_format]
    rule = {
        "extension": f"by extension: each file goes into a subfolder named after its extension in lower case "
                     f"(`report.PDF` -> `pdf/report.PDF`); the extension is what follows the last dot; files with "
                     f"no extension go into `{other}/`",
        "date": f"by the date in the file name, into `{layout.format(y='YYYY', m='MM')}/` subfolders (a file named "
                f"`notes_2023-04-17.txt` goes to `{layout.format(y='2023', m='04')}/notes_2023-04-17.txt`)"
                + ("; a date is written `YYYY-MM-DD` or, as cameras do, as eight digits `YYYYMMDD`"
                   if difficulty == "hard" else "")
                + (f"; files without a date go into `{other}/`" if difficulty != "easy" else ""),
        "size": f"by size: files under {low} bytes go into `{classes[0]}/`, files of at least {low} but under {high} "
                f"bytes into `{classes[1]}/`, and files of {high} bytes or more into `{classes[2]}/`",
    }[mode]
    shape = {"csv": "a CSV file with the header `source,destination`",
             "json": 'a JSON list of objects like `{"from": "a.txt", "to": "txt/a.txt"}`',
             "arrow": "a text file with one line `SOURCE -> DESTINATION` per file"}[manifest_format]
    asks = [paragraph(one_of(rng, f"/app/{folder} is a mess of loose files.", f"Files pile up in /app/{folder}.",
                             f"Please tidy up /app/{folder}."),
                      f"Sort every file that sits directly in /app/{folder} {rule}.",
                      "Subfolders that already exist stay, and so do the files in them." if difficulty == "hard" else "",
                      "Move the files (keep their names and contents); nothing may be lost or left behind."),
            paragraph(f"Also record what you moved in /app/{manifest}: {shape}, one entry per moved file, in any order,",
                      f"with both paths relative to /app/{folder} (for example `{moves[0][0]}` and `{moves[0][1]}`).")]
    tests = tests_module({"ROOT": f"/app/{folder}", "EXPECTED": expected, "MOVES": moves, "MANIFEST": f"/app/{manifest}",
                    "FORMAT": manifest_format}, r'''
import csv
import hashlib
import json
from pathlib import Path

def test_every_file_is_in_its_place():
    for relative, digest in EXPECTED.items():
        path = Path(ROOT) / relative
        assert path.is_file(), f"{relative} is missing"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{relative} changed"


def test_nothing_else_is_left():
    found = {p.relative_to(ROOT).as_posix() for p in Path(ROOT).rglob("*") if p.is_file()}
    assert found == set(EXPECTED)


def test_the_manifest():
    text = Path(MANIFEST).read_text(encoding="utf-8")
    if FORMAT == "json":
        pairs = [(item["from"], item["to"]) for item in json.loads(text)]
    elif FORMAT == "csv":
        rows = list(csv.reader(line for line in text.splitlines() if line.strip()))
        assert [c.strip() for c in rows[0]] == ["source", "destination"], "the header should be source,destination"
        pairs = [tuple(row) for row in rows[1:]]
    else:
        pairs = [tuple(line.split(" -> ")) for line in text.splitlines() if line.strip()]
    clean = sorted(tuple(p.strip().removeprefix("./") for p in pair) for pair in pairs)
    assert clean == sorted(tuple(move) for move in MOVES)
''')
    solution = python_script({"root": f"/app/{folder}", "mode": mode, "other": other, "classes": classes, "low": low,
                        "high": high, "layout": layout, "manifest": f"/app/{manifest}", "format": manifest_format}, r'''
import csv, json, os, re
moves = []
for name in sorted(os.listdir(P["root"])):
    path = os.path.join(P["root"], name)
    if not os.path.isfile(path):
        continue
    if P["mode"] == "extension":
        target = name.rsplit(".", 1)[1].lower() if "." in name else P["other"]
    elif P["mode"] == "date":
        found = re.search(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)", name)
        target = P["layout"].format(y=found[1], m=found[2]) if found else P["other"]
    else:
        size = os.path.getsize(path)
        target = P["classes"][0 if size < P["low"] else 1 if size < P["high"] else 2]
    os.makedirs(os.path.join(P["root"], target), exist_ok=True)
    os.rename(path, os.path.join(P["root"], target, name))
    moves.append((name, f"{target}/{name}"))
with open(P["manifest"], "w", newline="") as out:
    if P["format"] == "json":
        json.dump([{"from": a, "to": b} for a, b in moves], out, indent=2)
    elif P["format"] == "csv":
        csv.writer(out, lineterminator="\n").writerows([("source", "destination")] + moves)
    else:
        out.writelines(f"{a} -> {b}\n" for a, b in moves)
''')
    return GeneratedTask(
        family="file-organize", category="files", difficulty=difficulty, instruction=instruction(*asks),
        files=files, solution=solution, tests=tests, tags=["files", "organize", mode, manifest_format])


# -- archive-backup ----------------------------------------------------------------------------

PROJECT_LAYOUT = {"": ["md", "txt", "toml"], "config": ["conf", "ini", "yaml", "json"], "src": ["py", "sh"],
                  "src/lib": ["py"], "docs": ["md", "txt"], "data": ["csv", "json", "log"], "scripts": ["sh", "py"]}


def generate_archive_backup(rng: random.Random, difficulty: str) -> GeneratedTask:
    project = f"{rng.choice(NOUNS)}-{one_of(rng, 'api', 'web', 'service', 'tools')}"
    sizes: dict[str, int] = {}
    while len(sizes) < rng.randint(*{"easy": (8, 11), "medium": (14, 18), "hard": (20, 26)}[difficulty]):
        folder = rng.choice(list(PROJECT_LAYOUT))
        name = f"{rng.choice(NOUNS + ADJECTIVES)}.{rng.choice(PROJECT_LAYOUT[folder])}"
        size = rng.randint(40, 5000)
        if size not in sizes.values():  # distinct sizes: a size rule then always splits the files
            sizes["/".join(p for p in (folder, name) if p)] = size
    present = Counter(path.rsplit(".", 1)[1] for path in sizes)
    exts, candidates = [], set()
    for ext in rng.sample(sorted(present), len(present)):  # extensions that pick some files, never most
        if len(candidates) < 3 and len(candidates) + present[ext] <= len(sizes) // 2:
            exts.append(ext)
            candidates |= {path for path in sizes if path.endswith(f".{ext}")}
    listing, listed = None, ""
    if difficulty == "hard":  # a list of changed files, written by hand: comments, ./, a file since deleted
        picked = rng.sample(sorted(set(sizes) - candidates), 4)
        candidates |= set(picked)
        lines = ["# changed since the last backup", *[one_of(rng, p, f"./{p}") for p in picked], "",
                 f"{rng.choice(list(PROJECT_LAYOUT))}/{rng.choice(NOUNS)}_old.txt".lstrip("/"), picked[0]]
        listing, listed = one_of(rng, "changed_files.txt", "backup_list.txt", "modified.txt"), "\n".join(lines) + "\n"
    ordered = sorted(candidates, key=sizes.get)
    limit = None
    if difficulty == "medium":  # a size rule that splits the candidates
        limit = (rng.choice(["below", "atleast"]), sizes[ordered[len(ordered) // 2]])
    elif difficulty == "hard":  # "at most": what is kept still has a listed file and a file by extension
        lowest = max(min(i for i, path in enumerate(ordered) if path in picked),
                     min(i for i, path in enumerate(ordered) if path not in picked))
        limit = ("atmost", sizes[ordered[rng.randint(lowest, max(lowest, len(ordered) - 2))]])
    keep = {"below": lambda s, n: s < n, "atleast": lambda s, n: s >= n, "atmost": lambda s, n: s <= n}
    chosen = sorted(p for p in candidates if limit is None or keep[limit[0]](sizes[p], limit[1]))
    contents = {path: _sized(rng, size) for path, size in sizes.items()}
    expected = {path: hashlib.sha256(contents[path].encode()).hexdigest() for path in chosen}

    folder = one_of(rng, "backup", "backups", "out")
    stem = f"{project}-{one_of(rng, 'config', 'snapshot', 'backup', 'selected')}"
    manifest_format = rng.choice(["sha256sum", "csv", "json"])
    archive = f"/app/{folder}/{stem}.tar.gz"
    manifest = f"/app/{folder}/{stem}" + {"sha256sum": ".sha256", "csv": "-manifest.csv", "json": "-manifest.json"}[
        manifest_format]
    ext_words = ", ".join(f"`.{e}`" for e in exts[:-1]) + (" and " if len(exts) > 1 else "") + f"`.{exts[-1]}`"
    rule = f"every {ext_words} file anywhere under /app/{project}"
    if listing:
        rule = (f"the files listed in /app/{listing} (paths relative to /app/{project}; skip blank lines, lines "
                f"starting with `#`, and paths that no longer exist), plus {rule}")
    if limit:
        rule += {"below": f", but only those smaller than {limit[1]} bytes",
                 "atleast": f", but only those of at least {limit[1]} bytes",
                 "atmost": f"; leave out any file larger than {limit[1]} bytes"}[limit[0]]
    shape = {"sha256sum": "in `sha256sum` format (`<hex digest>  <path>`), one line per file, sorted by path",
             "csv": "a CSV file with the header `path,sha256`, one row per file, sorted by path",
             "json": 'a JSON object mapping each path to its hex SHA-256 digest'}[manifest_format]
    asks = [paragraph(one_of(rng, f"Before we change /app/{project}, back some of it up.",
                             f"I need a backup of part of /app/{project}.",
                             f"Please archive selected files of the project in /app/{project}."),
                      f"The backup holds {rule}."),
            paragraph(f"Pack them into a gzip-compressed tar archive at {archive}, with paths relative to "
                      f"/app/{project} (like `{chosen[0]}`). Next to it, write {manifest}: {shape}, with the same "
                      "paths as in the archive.",
                      one_of(rng, "Leave the original files where they are.", "Do not delete or change the originals."))]
    tests = tests_module({"ROOT": f"/app/{project}", "ARCHIVE": archive, "MANIFEST": manifest, "FORMAT": manifest_format,
                    "EXPECTED": expected}, r'''
import csv
import hashlib
import json
import tarfile
from pathlib import Path

def archived():
    assert Path(ARCHIVE).is_file(), f"{ARCHIVE} is missing"
    with tarfile.open(ARCHIVE, "r:gz") as tar:
        return {m.name.removeprefix("./"): hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                for m in tar.getmembers() if m.isfile()}


def test_the_archive_holds_exactly_the_chosen_files():
    assert sorted(archived()) == sorted(EXPECTED)


def test_the_archived_contents():
    assert archived() == EXPECTED


def test_the_manifest():
    text = Path(MANIFEST).read_text(encoding="utf-8")
    if FORMAT == "json":
        entries = list(json.loads(text).items())
    elif FORMAT == "csv":
        rows = list(csv.reader(line for line in text.splitlines() if line.strip()))
        assert [c.strip() for c in rows[0]] == ["path", "sha256"], "the header should be path,sha256"
        entries = [(path, digest) for path, digest in rows[1:]]
    else:
        entries = [(line.split(None, 1)[1].strip().lstrip("*"), line.split()[0])
                   for line in text.splitlines() if line.strip()]
    entries = [(path.strip().removeprefix("./"), digest.strip().lower()) for path, digest in entries]
    assert dict(entries) == EXPECTED
    if FORMAT != "json":
        assert [path for path, _ in entries] == sorted(EXPECTED), "sorted by path"


def test_the_originals_are_still_there():
    for relative, digest in EXPECTED.items():
        assert hashlib.sha256((Path(ROOT) / relative).read_bytes()).hexdigest() == digest, relative
''')
    solution = python_script({"root": f"/app/{project}", "exts": [f".{e}" for e in exts],
                              "listing": listing and f"/app/{listing}",
                        "limit": limit, "archive": archive, "manifest": manifest, "format": manifest_format}, r'''
import csv, hashlib, json, os, tarfile
root, chosen = P["root"], set()
for folder, _, names in os.walk(root):
    chosen |= {os.path.relpath(os.path.join(folder, n), root) for n in names if n.endswith(tuple(P["exts"]))}
if P["listing"]:
    for line in open(P["listing"]):
        line = line.strip().removeprefix("./")
        if line and not line.startswith("#") and os.path.isfile(os.path.join(root, line)):
            chosen.add(line)
if P["limit"]:
    rule, n = P["limit"]
    test = {"below": lambda s: s < n, "atleast": lambda s: s >= n, "atmost": lambda s: s <= n}[rule]
    chosen = {p for p in chosen if test(os.path.getsize(os.path.join(root, p)))}
os.makedirs(os.path.dirname(P["archive"]), exist_ok=True)
with tarfile.open(P["archive"], "w:gz") as tar:
    for path in sorted(chosen):
        tar.add(os.path.join(root, path), arcname=path)
digests = {p: hashlib.sha256(open(os.path.join(root, p), "rb").read()).hexdigest() for p in sorted(chosen)}
with open(P["manifest"], "w", newline="") as out:
    if P["format"] == "json":
        json.dump(digests, out, indent=2)
    elif P["format"] == "csv":
        csv.writer(out, lineterminator="\n").writerows([("path", "sha256")] + list(digests.items()))
    else:
        out.writelines(f"{d}  {p}\n" for p, d in digests.items())
''')
    files = {f"{project}/{path}": text for path, text in contents.items()} | ({listing: listed} if listing else {})
    return GeneratedTask(
        family="archive-backup", category="files", difficulty=difficulty, instruction=instruction(*asks), files=files,
        solution=solution, tests=tests, tags=["files", "tar", "sha256", manifest_format])


FAMILIES = [
    Family("file-organize", "files", generate_file_organize,
           "sort a folder into subfolders by extension, date in the name or size class, with a manifest of moves"),
    Family("archive-backup", "files", generate_archive_backup,
           "a tar.gz of the files that match criteria (extension, size, a list) with a SHA-256 manifest"),
]
