"""Configuration files: edit an INI file in place without disturbing its comments and layout, and merge
a JSON defaults file with overrides (an env file, a second JSON file) under stated precedence and types."""

from __future__ import annotations

import json
import random
from pprint import pformat

from ..phrasing import ADJECTIVES, COMPONENTS, NOUNS, bullets, instruction, one_of, paragraph, slug
from ..spec import Family, GeneratedTask

# Settings a service might have: section -> [(key, value drawer)]. Values are strings in INI, typed in JSON.
SETTINGS = {
    "server": [("host", lambda r: r.choice(["0.0.0.0", "127.0.0.1", "localhost"])), ("port", lambda r: r.randint(3000, 9000)),
               ("workers", lambda r: r.randint(1, 16)), ("debug", lambda r: r.random() < 0.3),
               ("timeout", lambda r: r.choice([10, 30, 60, 90]))],
    "database": [("host", lambda r: f"db-{r.choice(NOUNS)}.internal"), ("port", lambda r: r.choice([5432, 3306, 5433])),
                 ("name", lambda r: r.choice(NOUNS)), ("pool_size", lambda r: r.randint(2, 40)),
                 ("ssl", lambda r: r.random() < 0.5)],
    "logging": [("level", lambda r: r.choice(["debug", "info", "warning"])), ("file", lambda r: f"/var/log/{r.choice(NOUNS)}.log"),
                ("rotate", lambda r: r.random() < 0.5), ("max_size_mb", lambda r: r.choice([10, 50, 100]))],
    "cache": [("backend", lambda r: r.choice(["memory", "redis", "disk"])), ("ttl", lambda r: r.choice([60, 300, 3600])),
              ("max_entries", lambda r: r.choice([1000, 5000, 20000]))],
    "mail": [("smtp_host", lambda r: f"smtp.{r.choice(NOUNS)}.example"), ("port", lambda r: r.choice([25, 465, 587])),
             ("sender", lambda r: f"noreply@{r.choice(NOUNS)}.example"), ("use_tls", lambda r: r.random() < 0.7)],
    "metrics": [("enabled", lambda r: r.random() < 0.5), ("port", lambda r: r.randint(9100, 9300)),
                ("path", lambda r: r.choice(["/metrics", "/stats", "/internal/metrics"]))],
    "storage": [("root", lambda r: f"/srv/{r.choice(NOUNS)}"), ("quota_gb", lambda r: r.choice([5, 20, 100])),
                ("backend", lambda r: r.choice(["local", "s3", "nfs"]))],
}
COMMENTS = ["# keep this in sync with the deploy scripts", "; changed after the {} incident", "# see docs/{}.md",
            "# values below are read at startup", "; do not touch without asking #{}", "# {} team owns this part"]
NEW_SECTIONS = {"features": [("beta_ui", "true"), ("max_uploads", "12"), ("region", "eu-west")],
                "backup": [("schedule", "daily"), ("keep_days", "14"), ("target", "/mnt/backup")],
                "alerts": [("email", "ops@example.org"), ("threshold", "0.8"), ("enabled", "yes")]}


def _ini_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def generate_config_edit(rng: random.Random, difficulty: str) -> GeneratedTask:
    app = rng.choice(COMPONENTS)
    count = {"easy": 3, "medium": 4, "hard": 5}[difficulty]
    names = rng.sample([s for s in SETTINGS if s != "server"], count - 1)
    sections = ["server"] + names
    if difficulty == "hard" and not any(k == "port" for s in names for k, _ in SETTINGS[s]):
        sections.append("database")  # a second `port` that must stay as it is
    # the file as (section, key or None, line): key lines, comments, headers, blank lines
    lines: list[tuple[str | None, str | None, str]] = [(None, None, f"# {app} configuration"),
                                                      (None, None, one_of(rng, "# managed by hand", "; edit with care",
                                                                          f"# owner: {rng.choice(NOUNS)} team")),
                                                      (None, None, "")]
    values: dict[str, dict[str, str]] = {}
    for section in sections:
        lines.append((section, None, f"[{section}]"))
        values[section] = {}
        for key, draw in SETTINGS[section]:
            if rng.random() < 0.3:
                lines.append((section, None, rng.choice(COMMENTS).format(rng.choice(NOUNS))))
            value = _ini_text(draw(rng))
            if difficulty == "hard" and rng.random() < 0.25:  # an old value, commented out: must stay
                lines.append((section, None, f"# {key} = {_ini_text(draw(rng))}"))
            spacing = " = " if difficulty != "hard" or rng.random() < 0.6 else rng.choice(["=", " =", "= "])
            lines.append((section, key, f"{key}{spacing}{value}"))
            values[section][key] = value
        lines.append((section, None, ""))

    edits = []  # (words, section, key, new value or None to remove)
    new_port = str(rng.randint(10000, 20000))
    edits.append((f"change the port in `[server]` to {new_port}", "server", "port", new_port))
    candidates = [(s, k) for s in sections for k in values[s] if k != "port" and not (s == "server" and k == "host")]
    rng.shuffle(candidates)
    section, key = candidates.pop()
    old, draw = values[section][key], dict(SETTINGS[section])[key]
    new = next((v for v in (_ini_text(draw(rng)) for _ in range(12)) if v != old), f"{old}-{rng.choice(ADJECTIVES)}")
    edits.append((f"set `{key}` in `[{section}]` to `{new}`", section, key, new))
    if difficulty != "easy":
        section, key = candidates.pop()
        edits.append((f"remove the `{key}` setting from `[{section}]` (delete just that line)", section, key, None))
        section = rng.choice(sections)
        key, new = rng.choice([("owner", f"{rng.choice(NOUNS)}-team"), ("retries", str(rng.randint(2, 9))),
                               ("region", rng.choice(["eu-north", "us-east", "ap-south"])), ("label", slug(rng, "-")),
                               ("mode", rng.choice(["strict", "lenient", "audit"]))])
        edits.append((f"add `{key} = {new}` to `[{section}]`", section, key, new))
    added = None
    if difficulty == "hard":
        section, key = next((s, k) for s, k in candidates if values[s][k].isdigit())
        new = str(rng.randint(2, 99))
        edits.append((f"set `{key}` in `[{section}]` to `{new}`", section, key, new))
        name = rng.choice(list(NEW_SECTIONS))
        added = (name, rng.sample(NEW_SECTIONS[name], 2))
        edits.append((f"add a new section `[{name}]` at the end of the file with "
                      + " and ".join(f"`{k} = {v}`" for k, v in added[1]), name, None, None))
    rng.shuffle(edits)

    touched = {(s, k) for _, s, k, _ in edits if k}
    expected = {s: dict(v) for s, v in values.items()}
    for _, s, k, v in edits:
        if k and v is None:
            del expected[s][k]
        elif k:
            expected[s][k] = v
    if added:
        expected[added[0]] = dict(added[1])
    kept = [text for s, k, text in lines if text.strip() and (s, k) not in touched]
    text = "\n".join(t for _, _, t in lines).rstrip("\n") + "\n"
    path = rng.choice([f"config/{app}.ini", f"etc/{app}.conf", f"{app}.cfg", f"settings/{slug(rng, '-')}.ini"])

    intro = one_of(rng, f"/app/{path} is the INI configuration of our {app} service.",
                   f"Our {app} service reads its settings from /app/{path} (INI format).",
                   f"Please edit the INI file /app/{path}.")
    care = one_of(rng, "Edit the file in place and keep everything else exactly as it is: the comments, the order of "
                       "sections and keys, and the spacing of lines you do not change.",
                  "People read this file, so do not rewrite it: every line that is not part of a change must stay "
                  "byte-for-byte the same and in the same order (comments included).",
                  "Only the lines these changes need may differ; comments, other lines and their order stay untouched.")
    task_text = instruction(paragraph(intro, one_of(rng, "Make these changes:", "The changes:", "I need:")),
                            bullets([e[0] for e in edits]), paragraph(care + (
                                " Lines that are commented out are comments: leave them alone." if difficulty == "hard" else "")))
    plan = {"set": {f"{s}.{k}": v for _, s, k, v in edits if k and v is not None and k in values.get(s, {})},
            "remove": [f"{s}.{k}" for _, s, k, v in edits if k and v is None],
            "add": {f"{s}.{k}": v for _, s, k, v in edits if k and v is not None and k not in values.get(s, {})},
            "section": list(added) if added else None}
    solution = f'''python3 - <<'PY'
import re

PATH = "/app/{path}"
PLAN = {plan!r}
lines = open(PATH).read().split("\\n")
out, section, last_key = [], None, {{}}
for line in lines:
    header = re.match(r"\\s*\\[([^]]+)\\]", line)
    setting = re.match(r"([^#;=\\s][^=]*?)\\s*=", line)
    if header:
        section = header.group(1)
    elif setting:
        name = f"{{section}}.{{setting.group(1).strip()}}"
        if name in PLAN["remove"]:
            continue
        if name in PLAN["set"]:
            line = re.match(r"[^=]*=\\s*", line).group(0) + PLAN["set"][name]  # keeps the key's spacing
        last_key[section] = len(out)  # new keys go after the section's last setting
    out.append(line)
for name, value in sorted(PLAN["add"].items(), key=lambda item: -last_key[item[0].split(".")[0]]):
    section, key = name.split(".")
    out.insert(last_key[section] + 1, f"{{key}} = {{value}}")
text = "\\n".join(out).rstrip("\\n") + "\\n"
if PLAN["section"]:
    name, pairs = PLAN["section"]
    text += f"\\n[{{name}}]\\n" + "".join(f"{{k}} = {{v}}\\n" for k, v in pairs)
open(PATH, "w").write(text)
PY'''
    tests = f'''import configparser
import re
from pathlib import Path

PATH = Path("/app/{path}")
EXPECTED = {pformat(expected, width=110)}
TOUCHED = {sorted(touched)!r}  # (section, key) of the lines that change
NEW_SECTION = {added[0] if added else None!r}
KEPT = {pformat(kept, width=110)}  # every other non-blank line, in order


def test_settings():
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.read_string(PATH.read_text())
    assert {{s: dict(parser[s]) for s in parser.sections()}} == EXPECTED


def test_other_lines_unchanged_and_in_order():
    section, others = None, []
    for line in PATH.read_text().splitlines():
        header = re.match(r"\\s*\\[([^]]+)\\]", line)
        if header:
            section = header.group(1).strip()
        setting = re.match(r"\\s*([^#;=\\s][^=]*?)\\s*=", line)
        if not line.strip() or (NEW_SECTION and section == NEW_SECTION) or (setting and (section, setting.group(1)) in TOUCHED):
            continue
        others.append(line)
    assert others == KEPT
'''
    return GeneratedTask(family="config-edit", category="config", difficulty=difficulty, instruction=task_text,
                         files={path: text}, solution=solution, tests=tests, tags=["ini", "config", "python"])


# -- config-merge -------------------------------------------------------------------------------------
EXTRA = {  # typed settings that exercise the conversions beyond int/bool/string
    "server": [("allowed_hosts", lambda r: r.sample(["localhost", "api.example", "10.0.0.5", "web.local"], 2))],
    "cache": [("hit_ratio_goal", lambda r: r.choice([0.5, 0.75, 0.9]))],
    "logging": [("sample_rate", lambda r: r.choice([0.1, 0.25, 1.5]))],
    "database": [("retry_backoff", lambda r: [1, 2, r.choice([4, 5, 8])])],
}
BOOL_WORDS = {True: ["true", "1", "yes", "on", "TRUE", "Yes"], False: ["false", "0", "no", "off", "FALSE", "No"]}


def _other_value(rng: random.Random, section: str, key: str, old):
    """A new value of the same type as the default's."""
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return old + rng.choice([1, 2, 10, 100]) * rng.choice([1, 3])
    if isinstance(old, float):
        return round(old + rng.choice([0.05, 0.5, 2.0]), 2)
    if isinstance(old, list):
        return ([rng.randint(1, 9) for _ in range(3)] if old and isinstance(old[0], int)
                else rng.sample(["edge.example", "127.0.0.1", "app.local", "api.example", "0.0.0.0"], rng.randint(1, 3)))
    if old.startswith("/"):  # a path stays a path, a host name a host name
        return f"{old.rsplit('/', 1)[0]}/{rng.choice(NOUNS)}{old[old.rfind('.'):] if '.' in old else ''}"
    if "@" in old:
        return f"{rng.choice(['alerts', 'ops', 'team'])}@{rng.choice(NOUNS)}.example"
    if "." in old:
        return f"{rng.choice(['db', 'smtp', 'edge', 'node'])}-{rng.choice(NOUNS)}.{rng.choice(['internal', 'example'])}"
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"


def _env_text(rng: random.Random, value, difficulty: str) -> str:
    if isinstance(value, bool):
        return BOOL_WORDS[value][0] if difficulty == "easy" else rng.choice(BOOL_WORDS[value])
    if isinstance(value, list):
        return rng.choice([",", ", "]).join(str(item) for item in value)
    return str(value)


def generate_config_merge(rng: random.Random, difficulty: str) -> GeneratedTask:
    app = rng.choice(COMPONENTS)
    prefix = rng.choice([f"{app.upper()}_", "APP_", "SVC_", f"{rng.choice(NOUNS).upper()}_"])
    sections = ["server"] + rng.sample(["database", "logging", "cache", "mail", "storage"], 2 if difficulty == "easy" else 3)
    defaults: dict = {"name": app}
    for section in sections:
        pairs = SETTINGS[section] + (EXTRA.get(section, []) if difficulty != "easy" else [])
        defaults[section] = {key: draw(rng) for key, draw in pairs}
    if difficulty == "easy":
        kinds = [rng.choice(["env", "json"])]
    else:
        kinds = ["json", "env"] if difficulty == "hard" or rng.random() < 0.5 else ["env"]
    leaves = [(s, k) for s in sections for k in defaults[s]] + [(None, "name")]
    rng.shuffle(leaves)
    folder = rng.choice(["config/", "", "conf/"])
    paths = {"defaults": f"{folder}{rng.choice(['defaults', 'base', 'default_config'])}.json",
             "json": f"{folder}{rng.choice(['local', 'overrides', 'production'])}.json",
             "env": rng.choice([".env", f"{folder}{app}.env", "deploy.env"])}
    target = rng.choice(["config/final.json", "build/config.json", "resolved.json", "out/settings.json"])

    def get(tree: dict, section, key):
        return tree[key] if section is None else tree.get(section, {}).get(key)

    files = {paths["defaults"]: json.dumps(defaults, indent=2) + "\n"}
    result = json.loads(json.dumps(defaults))
    rules = []
    env_first = difficulty == "hard" and rng.random() < 0.4  # the JSON file wins over the environment file
    null_removes = rng.random() < 0.5
    layers = kinds if not env_first else ["env", "json"]
    for kind in layers:  # applied in order: later layers win
        if kind == "json":
            picked = leaves[:{"easy": 3, "medium": 3, "hard": 4}[difficulty]]
            doc: dict = {}
            for section, key in picked:
                value = _other_value(rng, section, key, get(defaults, section, key))
                (doc if section is None else doc.setdefault(section, {}))[key] = value
                (result if section is None else result[section])[key] = value
            new_section = sections[-1]
            doc.setdefault(new_section, {})["owner"] = f"{rng.choice(NOUNS)}-team"  # a key only the JSON has
            result[new_section]["owner"] = doc[new_section]["owner"]
            if difficulty == "hard":
                section, key = next((s, k) for s, k in leaves[8:] if s is not None)  # not one the env sets
                doc.setdefault(section, {})[key] = None
                if null_removes:
                    del result[section][key]
            files[paths["json"]] = json.dumps(doc, indent=2) + "\n"
            rules.append(f"/app/{paths['json']} overrides the defaults: objects are merged key by key (at every level), "
                         "any other value (lists too) replaces the default; keys that only it has are added"
                         + ("; a `null` there " + ("removes that key from the result" if null_removes else
                                                   "means: keep the value from before") if difficulty == "hard" else ""))
        else:
            count = {"easy": 3, "medium": 5, "hard": 6}[difficulty]
            picked = leaves[2:2 + count] if difficulty == "hard" else leaves[-count:]  # hard: some keys in both files
            env_lines = [] if difficulty == "easy" else [f"# {app} settings for {rng.choice(['staging', 'production'])}", ""]
            for section, key in picked:
                value = _other_value(rng, section, key, get(defaults, section, key))
                name = prefix + (key if section is None else f"{section}__{key}").upper()
                text = _env_text(rng, value, difficulty)
                if difficulty == "hard":
                    if rng.random() < 0.3:  # an earlier line for the same variable: the last one wins
                        env_lines.append(f"{name}={_env_text(rng, _other_value(rng, section, key, value), difficulty)}")
                    text = rng.choice(['"{}"', "'{}'", "{}", "{}"]).format(text)
                    name = rng.choice(["export ", "", ""]) + name
                env_lines.append(f"{name}={text}")
                (result if section is None else result[section])[key] = value
            if difficulty != "easy":  # variables that are not ours, or name no known setting: ignored
                env_lines[2:2] = ["PATH=/usr/local/bin:/usr/bin", f"{prefix}{sections[0].upper()}__COLOR=blue"]
                env_lines.insert(rng.randint(3, len(env_lines)), f"{prefix}UNKNOWN_FLAG=1")
                env_lines.insert(rng.randint(3, len(env_lines)), "")
            files[paths["env"]] = "\n".join(env_lines) + "\n"
            rules.append(f"/app/{paths['env']} sets single values: `{prefix}<KEY>` sets a top-level key and "
                         f"`{prefix}<SECTION>__<KEY>` a key inside a section (names upper case, keys lower case in JSON)"
                         + ("; lines starting with `#` and empty lines are ignored, as are variables without the prefix "
                            "and variables that name no setting of the defaults" if difficulty != "easy" else ""))
            rules.append("its values are text: convert each to the type of the default value: integers, floats, "
                         "booleans (" + ("`true`/`false`" if difficulty == "easy" else
                                         "`true`, `1`, `yes`, `on` and `false`, `0`, `no`, `off`, in any case")
                         + ")" + (", lists (comma-separated; spaces around items are dropped; items take the type "
                                  "of the default list's items)" if difficulty != "easy" else "") + ", strings as they are")
            if difficulty == "hard":
                rules.append("values may be wrapped in single or double quotes (drop them), a line may start with "
                             "`export `, and when a variable appears twice the last line wins")
    if len(layers) == 2:
        rules.append(f"precedence, highest first: {paths[layers[1]]}, then {paths[layers[0]]}, then the defaults")

    intro = one_of(rng, f"Our {app} service takes its configuration from several files under /app.",
                   f"I need the final, merged configuration of the {app} service.",
                   f"The {app} settings are spread over several files in /app; please resolve them into one.")
    text = instruction(
        paragraph(intro, f"The defaults are in /app/{paths['defaults']} (JSON)."),
        one_of(rng, "How they combine:", "The rules:", "Merge rules:") + "\n" + bullets(rules),
        paragraph(one_of(rng, "Write the result to", "Save the merged configuration as", "The output goes to"),
                  f"/app/{target}, as one JSON object shaped like the defaults (same nesting, proper JSON types:"
                  " numbers, booleans and lists, not strings). Do not change the input files."))
    solution = f'''mkdir -p "$(dirname /app/{target})"
python3 - <<'PY'
import json

PREFIX = {prefix!r}
LAYERS = {layers!r}  # applied in this order: later ones win
NULL_REMOVES = {null_removes and difficulty == "hard"!r}
config = json.load(open("/app/{paths['defaults']}"))
defaults = json.loads(json.dumps(config))


def merge(base, over):
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        elif value is None:
            if NULL_REMOVES:
                base.pop(key, None)
        else:
            base[key] = value


def convert(text, default):
    if isinstance(default, bool):
        return text.strip().lower() in ("true", "1", "yes", "on")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, list):
        items = [item.strip() for item in text.split(",") if item.strip()]
        return [convert(item, default[0]) for item in items] if default else items
    return text


def apply_env(path):
    for line in open(path).read().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.removeprefix("export ").split("=", 1)
        if not name.startswith(PREFIX):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\\"'":
            value = value[1:-1]
        *section, key = name[len(PREFIX):].lower().split("__")
        known = defaults.get(section[0]) if len(section) == 1 else defaults if not section else None
        if not isinstance(known, dict) or key not in known or isinstance(known[key], dict):
            continue  # names no setting of the defaults
        (config[section[0]] if section else config)[key] = convert(value, known[key])


for layer in LAYERS:
    if layer == "json":
        merge(config, json.load(open("/app/{paths['json']}")))
    else:
        apply_env("/app/{paths['env']}")
json.dump(config, open("/app/{target}", "w"), indent=2)
PY'''
    tests = f'''import json
from pathlib import Path

TARGET = Path("/app/{target}")
EXPECTED = {pformat(result, width=110)}


def same(got, want, where="config"):
    """Equal values of the same JSON types (True is not 1, "8080" is not 8080)."""
    assert type(got) is type(want), f"{{where}}: {{got!r}} should be {{want!r}}"
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), f"{{where}}: keys {{sorted(got)}} should be {{sorted(want)}}"
        for key in want:
            same(got[key], want[key], f"{{where}}.{{key}}")
    elif isinstance(want, list):
        assert len(got) == len(want), f"{{where}}: {{got!r}} should be {{want!r}}"
        for i, (a, b) in enumerate(zip(got, want)):
            same(a, b, f"{{where}}[{{i}}]")
    elif isinstance(want, float):
        assert abs(got - want) < 1e-9, f"{{where}}: {{got!r}} should be {{want!r}}"
    else:
        assert got == want, f"{{where}}: {{got!r}} should be {{want!r}}"


def test_merged_configuration():
    assert TARGET.is_file(), "the merged configuration is missing"
    same(json.loads(TARGET.read_text()), EXPECTED)
'''
    return GeneratedTask(family="config-merge", category="config", difficulty=difficulty, instruction=text,
                         files=files, solution=solution, tests=tests, tags=["json", "env", "config", *kinds])


FAMILIES = [
    Family("config-edit", "config", generate_config_edit,
           "edit an INI file in place (set, add, remove keys, a new section) keeping comments, order and other lines"),
    Family("config-merge", "config", generate_config_merge,
           "merge JSON defaults with JSON and env-file overrides: precedence, deep merge, type conversion"),
]
