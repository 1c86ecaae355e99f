"""System administration as root: accounts and groups with a shared setgid folder, and a small
service set up properly (system user, config in /etc, data folder, start script, running as that
user). The tests read the account databases, stat the files, and look at the live process."""

from __future__ import annotations

import json
import random
import shlex

from ..phrasing import ADJECTIVES, FIRST_NAMES, NOUNS, bullets, instruction, one_of, paragraph, sample
from ..spec import Family, GeneratedTask


TEAMS = ["research", "ops", "design", "data", "finance", "support", "media", "legal", "qa", "infra", "sales", "labs"]
SHELLS = ["/bin/bash", "/bin/sh", "/usr/sbin/nologin"]


# -- sysadmin-users -------------------------------------------------------------------------------------
USERS_TESTS = '''import grp
import os
import pwd
import stat

import pytest


def account(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.fail("there is no user " + name)


def group(name):
    try:
        return grp.getgrnam(name)
    except KeyError:
        pytest.fail("there is no group " + name)


def test_the_groups_and_who_is_in_them():
    for name, want in GROUPS.items():
        entry = group(name)
        if want["gid"] is not None:
            assert entry.gr_gid == want["gid"], name
        members = {user for user in USERS if user in entry.gr_mem or account(user).pw_gid == entry.gr_gid}
        assert members == set(want["members"]), (name, sorted(members))


def test_the_users():
    for name, want in USERS.items():
        entry = account(name)
        assert entry.pw_shell == want["shell"], name
        assert entry.pw_dir == want["home"], name
        if want["uid"] is not None:
            assert entry.pw_uid == want["uid"], name
        if want["primary"] is not None:
            assert entry.pw_gid == group(want["primary"]).gr_gid, name + ": primary group"
        if want["comment"] is not None:
            assert entry.pw_gecos.split(",")[0] == want["comment"], name


def test_the_home_folders():
    for name, want in USERS.items():
        home = os.stat(want["home"])
        assert stat.S_ISDIR(home.st_mode) and home.st_uid == account(name).pw_uid, want["home"]
        if HOME_MODE is not None:
            assert stat.S_IMODE(home.st_mode) == HOME_MODE, (want["home"], oct(stat.S_IMODE(home.st_mode)))
    for name, path in KEPT_FILES.items():
        assert os.path.isfile(path), path + " is gone"


def test_the_shared_folder():
    info = os.stat(SHARED)
    assert stat.S_ISDIR(info.st_mode), SHARED
    assert info.st_uid == account(SHARED_OWNER).pw_uid if SHARED_OWNER != "root" else info.st_uid == 0
    assert info.st_gid == group(SHARED_GROUP).gr_gid
    assert stat.S_IMODE(info.st_mode) == SHARED_MODE, oct(stat.S_IMODE(info.st_mode))
    for root, folders, files in os.walk(SHARED):
        for path in [os.path.join(root, name) for name in folders + files]:
            assert os.stat(path).st_gid == group(SHARED_GROUP).gr_gid, path + " is not the group's"
'''


def generate_sysadmin_users(rng: random.Random, difficulty: str) -> GeneratedTask:
    team = rng.choice(TEAMS)
    group_names = [team] + sample(rng, [f"{team}-admins", "deploy", "auditors", f"{team}-ro", "oncall", "reviewers"],
                                  {"easy": 1, "medium": 2, "hard": 3}[difficulty])
    users = [name.lower() for name in sample(rng, FIRST_NAMES, {"easy": 2, "medium": 3, "hard": 4}[difficulty])]
    hard = difficulty == "hard"
    home_base = "/home" if difficulty == "easy" else one_of(rng, "/home", f"/srv/{team}/home", f"/home/{team}")
    uid_base = rng.randint(20, 60) * 100 if hard else None
    spec = {}
    for index, user in enumerate(users):
        primary = team if hard and index % 2 else None  # hard: some have the team as primary group
        extra = [g for g in group_names if g != primary and (g == team or rng.random() < 0.5)]
        spec[user] = {"shell": rng.choice(SHELLS[:2]) if index == 0 else rng.choice(SHELLS),
                      "home": f"{home_base}/{user}", "uid": uid_base + index if uid_base else None,
                      "primary": primary, "groups": extra,
                      "comment": f"{user.capitalize()} {rng.choice(NOUNS).capitalize()}" if difficulty != "easy" else None}
    gids = {g: (rng.randint(30, 59) * 100 + i if hard else None) for i, g in enumerate(group_names)}
    members = {g: sorted(u for u, s in spec.items() if g in s["groups"] or s["primary"] == g) for g in group_names}
    shared = one_of(rng, f"/srv/{team}/shared", f"/data/{team}", f"/opt/{team}/share")
    shared_owner = rng.choice(["root", users[0]]) if difficulty != "easy" else "root"
    shared_mode = rng.choice([0o2770, 0o2775] + ([0o3770] if hard else []))
    home_mode = rng.choice([0o700, 0o750]) if difficulty != "easy" else None

    # hard: one user and the shared folder exist already (an old account to fix, files to hand over)
    existing = users[-1] if hard else None
    kept = {}
    setup = ""
    if existing:
        spec[existing]["uid"] = rng.randint(1100, 1900)
        kept[existing] = f"{spec[existing]['home']}/notes.txt"
        setup = "\n".join([
            f"mkdir -p {home_base} {shared}/archive",
            f"useradd -m -d {spec[existing]['home']} -u {spec[existing]['uid']} -s /bin/sh {existing}",
            f"echo 'keep me' > {kept[existing]} && chown {existing} {kept[existing]}",
            f"printf 'q1\\nq2\\n' > {shared}/archive/plan.txt && echo todo > {shared}/README"])
    expected_users = {u: {k: s[k] for k in ("shell", "home", "uid", "primary", "comment")} for u, s in spec.items()}
    expected_groups = {g: {"gid": gids[g], "members": members[g]} for g in group_names}

    def describe(user: str) -> str:
        s = spec[user]
        parts = [f"home folder `{s['home']}`", f"shell `{s['shell']}`"]
        if s["uid"] and user != existing:
            parts.append(f"uid {s['uid']}")
        if s["primary"]:
            parts.append(f"primary group `{s['primary']}` (no group of its own)")
        parts.append("member of " + ", ".join(f"`{g}`" for g in s["groups"]) if s["groups"] else "in no other group")
        return f"`{user}`" + (f" (full name \"{s['comment']}\")" if s["comment"] else "") + ": " + "; ".join(parts) + "."

    group_words = ", ".join(f"`{g}`" + (f" (gid {gids[g]})" if gids[g] else "") for g in group_names)
    items = [f"Groups: {group_words}."] + [describe(u) for u in users]
    items.append(f"A shared folder `{shared}` owned by " + ("root" if shared_owner == "root" else f"`{shared_owner}`")
                 + f" and the group `{team}`, mode `{shared_mode:o}` (the setgid bit, so new files there belong to "
                 f"`{team}`" + (", and the sticky bit" if shared_mode & 0o1000 else "") + ").")
    if home_mode:
        items.append(f"Each of these home folders belongs to its user with mode `{home_mode:o}`.")
    notes = []
    if existing:
        notes.append(f"`{existing}` already exists: change that account in place (keep its uid, its home folder and "
                     "the files in it). "
                     f"{shared} exists as well, with files in it; everything inside it must belong to the group "
                     f"`{team}` too.")
    asks = [paragraph(one_of(rng, f"The {team} team is joining this machine. Please create their accounts.",
                             f"Set up the accounts for the {team} team on this machine.",
                             f"We need users and groups for the {team} team here.")),
            bullets(items), paragraph(*notes), paragraph(one_of(rng, "Users' group memberships must be exactly these.",
                                                                "Nobody listed joins a group that is not named for them."))]

    lines = [f"mkdir -p {home_base}"]
    for g in group_names:
        lines.append(f"getent group {g} >/dev/null || groupadd" + (f" -g {gids[g]}" if gids[g] else "") + f" {g}")
    for user in users:
        s = spec[user]
        options = f"-s {s['shell']}" + (f" -g {s['primary']}" if s["primary"] else "") \
            + (f" -G {','.join(s['groups'])}" if s["groups"] else "") + (f" -c {shlex.quote(s['comment'])}" if s["comment"] else "")
        if user == existing:
            lines.append(f"usermod {options} {user}")
        else:
            lines.append(f"useradd -m -d {s['home']}" + (f" -u {s['uid']}" if s["uid"] else "") + f" {options} {user}")
        if home_mode:
            lines.append(f"chmod {home_mode:o} {s['home']}")
    lines += [f"mkdir -p {shared}", f"chown -R {shared_owner}:{team} {shared}" if not existing
              else f"chown {shared_owner}:{team} {shared} && chgrp -R {team} {shared}",
              f"chmod {shared_mode:o} {shared}", f"id {' && id '.join(users)}", f"ls -ld {shared}"]
    constants = dict(USERS=expected_users, GROUPS=expected_groups, SHARED=shared, SHARED_OWNER=shared_owner,
                     SHARED_GROUP=team, SHARED_MODE=shared_mode, HOME_MODE=home_mode, KEPT_FILES=kept)
    tests = USERS_TESTS + "\n\n" + "".join(f"{k} = {v!r}\n" for k, v in constants.items())
    return GeneratedTask(
        family="sysadmin-users", category="sysadmin", difficulty=difficulty, instruction=instruction(*asks),
        files={}, setup=setup, solution="\n".join(lines), tests=tests, tags=["users", "groups", "permissions", "setgid"])


# -- service-setup --------------------------------------------------------------------------------------
SERVER = '''"""NAME: a tiny HTTP status service.

Usage: python3 server.py CONFIG_FILE. The config holds port, message and data_dir (and maybe
environment, log_requests); see FORMAT below. It refuses to run as root, writes a `started` file
in data_dir, and answers GET STATUS_PATH with JSON."""
import http.server
import json
import os
import pwd
import sys

NAME, STATUS_PATH, FORMAT = {name!r}, {path!r}, {format!r}  # FORMAT: ini ([service] key = value), env (KEY=value), json


def read_config(path):
    text = open(path).read()
    if FORMAT == "json":
        return {{key: str(value) for key, value in json.loads(text).items()}}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {{key.strip().lower(): value.strip() for key, value in pairs}}


config = read_config(sys.argv[1])
missing = [key for key in {required!r} if key not in config]
if missing:
    sys.exit(sys.argv[1] + ": missing " + ", ".join(missing))
if os.getuid() == 0:
    sys.exit(NAME + " refuses to run as root")
with open(os.path.join(config["data_dir"], "started"), "w") as handle:
    handle.write(str(os.getpid()) + "\\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != STATUS_PATH:
            self.send_error(404)
            return
        body = json.dumps({{"service": NAME, "status": "ok", "message": config["message"],
                           "environment": config.get("environment"), "user": pwd.getpwuid(os.getuid()).pw_name}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())
        if config.get("log_requests") in ("yes", "true", "True"):
            with open(os.path.join(config["data_dir"], "access.log"), "a") as log:
                log.write(self.command + " " + self.path + "\\n")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", int(config["port"])), Handler).serve_forever()
'''

SERVICE_TESTS = '''import json
import os
import pwd
import signal
import stat
import subprocess
import time

import pytest
import requests


def user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pytest.fail("there is no user " + USER)


def listening():
    """The owners' uids of the sockets listening on PORT (/proc/net/tcp: root in a container may not
    read other users' /proc/PID/fd, so sockets are not matched to processes)."""
    uids = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:] if os.path.exists(table) else []:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == PORT:
                uids.append(int(fields[7]))
    return uids


def servers(python_only=True):
    """The pids of the processes started with our config file (the python ones, or with wrappers)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\\0")
        except OSError:
            continue
        if CONFIG_PATH in argv and (not python_only or os.path.basename(argv[0]).startswith("python")):
            pids.append(int(pid))
    return pids


def parent_of(pid):
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])


def uid_of(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Uid:"):
            return int(line.split()[1])


def status(wait=8):
    deadline = time.monotonic() + wait
    while True:
        try:
            return requests.get(f"http://127.0.0.1:{PORT}{PATH}", timeout=3)
        except requests.RequestException:
            if time.monotonic() > deadline:
                pytest.fail(f"nothing answers on port {PORT}")
            time.sleep(0.3)


def test_the_status_endpoint_answers_as_the_service_user():
    answer = status()
    assert answer.status_code == 200
    assert answer.json() == {"service": NAME, "status": "ok", "message": CONFIG["message"],
                             "environment": CONFIG.get("environment"), "user": USER}


def test_the_listening_process_runs_as_the_service_user():
    found = listening()
    assert found, f"nothing listens on port {PORT}"
    assert set(found) == {user().pw_uid}, "the listening socket is not the service user's"
    assert servers() and all(uid_of(pid) == user().pw_uid for pid in servers()), "no server process as the user"


def test_the_system_user():
    entry = user()
    assert entry.pw_uid < 1000 and entry.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    if UID is not None:
        assert entry.pw_uid == UID and entry.pw_dir == DATA


def test_the_config_file():
    text = open(CONFIG_PATH).read()
    if FORMAT == "json":
        found = {key: str(value) for key, value in json.loads(text).items()}
    else:
        lines = [line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")]
        found = {key.strip().lower(): value.strip() for key, value in lines}
        assert FORMAT != "ini" or "[service]" in text
    assert {key: found.get(key) for key in CONFIG} == CONFIG
    if CONFIG_MODE is not None:
        info = os.stat(CONFIG_PATH)
        assert info.st_uid == 0 and info.st_gid == user().pw_gid and stat.S_IMODE(info.st_mode) == CONFIG_MODE


def test_the_data_folder():
    info = os.stat(DATA)
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == user().pw_uid
    if DATA_MODE is not None:
        assert stat.S_IMODE(info.st_mode) == DATA_MODE, oct(stat.S_IMODE(info.st_mode))
    assert os.stat(os.path.join(DATA, "started")).st_uid == user().pw_uid, "the service has not started from it"
    if LOGGED:
        status()
        assert PATH in open(os.path.join(DATA, "access.log")).read()


def test_the_start_script_and_pid_file():
    info = os.stat(START)
    assert stat.S_ISREG(info.st_mode) and info.st_mode & 0o111, START + " is not executable"
    if PIDFILE:
        pid = int(open(PIDFILE).read().strip())
        # the server's pid, or that of a wrapper (runuser, su) whose child it is
        children = {server: parent_of(server) for server in servers()}
        assert pid in children or pid in children.values(), "the pid file does not name the server"


def test_zz_the_start_script_starts_it_again():
    if not RESTART:
        return
    assert servers(), "the service is not running"
    for pid in servers(python_only=False):
        os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not listening():
            break
        time.sleep(0.1)
    subprocess.run([START], timeout=30, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert status(10).status_code == 200
    assert set(listening()) == {user().pw_uid}
'''


def generate_service_setup(rng: random.Random, difficulty: str) -> GeneratedTask:
    noun = rng.choice(NOUNS)
    name = noun + rng.choice(["d", "-agent", "-status", "-monitor"])
    service_user = one_of(rng, noun, f"svc-{noun}", f"{noun}-run")
    port, path = rng.randint(7100, 7999), one_of(rng, "/status", "/health", "/healthz", "/-/status")
    medium, hard = difficulty != "easy", difficulty == "hard"
    config_format = rng.choice(["ini", "env"] + (["json"] * 2 if hard else []))
    config_path = f"/etc/{name}/" + (f"{name}.conf" if config_format != "json" else "config.json")
    data = one_of(rng, f"/var/lib/{name}", f"/srv/{name}/data")
    config = {"port": str(port), "message": f"{rng.choice(ADJECTIVES)} {noun} ready", "data_dir": data}
    if medium:
        config["environment"] = rng.choice(["staging", "production", "lab", "canary"])
    if hard:
        config["log_requests"] = "yes"
    start = one_of(rng, f"/usr/local/bin/{name}-start", f"/opt/{name}/start.sh")
    server_file = one_of(rng, f"{name}-server.py", "server.py", "statusd.py")
    server_at = f"/opt/{name}/server.py" if medium else f"/app/{server_file}"
    pidfile = f"/run/{name}.pid" if medium else None
    uid = rng.randint(300, 899) if hard else None
    config_mode, data_mode = (0o640 if medium else None), ({"easy": None, "medium": 0o750, "hard": 0o700}[difficulty])
    server = SERVER.format(name=name, path=path, format=config_format, required=sorted(config))

    if config_format == "json":
        config_text = json.dumps({k: int(v) if k == "port" else v for k, v in config.items()}, indent=2) + "\n"
    elif config_format == "ini":
        config_text = "[service]\n" + "".join(f"{k} = {v}\n" for k, v in config.items())
    else:
        config_text = "".join(f"{k.upper()}={v}\n" for k, v in config.items())
    format_words = {"ini": "INI format: a `[service]` section with `key = value` lines",
                    "env": "`KEY=value` lines, keys in upper case (`PORT=...`)",
                    "json": "a JSON object (`port` a number, the rest strings)"}[config_format]
    items = [
        f"A system user `{service_user}` without a login shell" + (f", uid {uid}, home folder {data}" if hard else "")
        + ". The service runs as this user, never as root.",
        f"The config file `{config_path}` in {format_words}, with: "
        + ", ".join(f"`{k}` = `{v}`" for k, v in config.items()) + "."
        + (f" It belongs to root and the group `{service_user}`, mode `{config_mode:o}`." if config_mode else ""),
        f"The data folder `{data}`, owned by `{service_user}`" + (f", mode `{data_mode:o}`." if data_mode else "."),
    ]
    if medium:
        items.append(f"The server program installed as `{server_at}` (copied from /app/{server_file}).")
    items.append(f"A start script `{start}` that starts `python3 {server_at} {config_path}` in the background as "
                 f"`{service_user}` and returns" + (f"; it writes the server's PID to `{pidfile}`." if pidfile else "."))
    items.append(f"The service running (started with that script) when you are done: `GET http://127.0.0.1:{port}{path}` answers.")
    asks = [paragraph(one_of(rng, f"Please set up the `{name}` service on this machine.",
                             f"`{name}` is a small status service we want running here, set up properly.",
                             f"Install and start the `{name}` service."),
                      f"Its program is /app/{server_file}: it takes the path of its config file as its only argument "
                      "and refuses to run as root."),
            paragraph("What is needed:"), bullets(items)]
    if medium and rng.random() < 0.5:
        asks.append(paragraph("We will restart it with the start script, so that script must work on its own."))

    quoted_start = shlex.quote(start)
    script = "\n".join([
        "#!/bin/bash", f"# starts {name} in the background as {service_user}", "set -e",
        (f"nohup setpriv --reuid=\"$(id -u {service_user})\" --regid=\"$(id -g {service_user})\" --init-groups "
         f"python3 {server_at} {config_path} >> /var/log/{name}.log 2>&1 &"),
        f"echo $! > {pidfile}" if pidfile else "",
        f"for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:{port}{path} && exit 0; sleep 0.1; done",
        f"echo '{name} did not start' >&2; exit 1"])
    solution = "\n".join([
        f"useradd --system --shell /usr/sbin/nologin --home-dir {data} --no-create-home"
        + (f" --uid {uid}" if uid else "") + f" {service_user}",
        f"install -d -o {service_user} -g {service_user} -m {data_mode or 0o755:o} {data}",
        f"mkdir -p /etc/{name} $(dirname {quoted_start})",
        f"cat > {config_path} <<'GYM_CONFIG_END'", config_text.rstrip("\n"), "GYM_CONFIG_END",
        f"chown root:{service_user} {config_path} && chmod 640 {config_path}" if config_mode else "",
        f"install -D -m 755 /app/{server_file} {server_at}" if medium else "",
        f"cat > {quoted_start} <<'GYM_START_END'", script, "GYM_START_END",
        f"chmod 755 {quoted_start}", quoted_start, f"curl -s http://127.0.0.1:{port}{path}"])
    constants = dict(NAME=name, USER=service_user, PORT=port, PATH=path, CONFIG=config, CONFIG_PATH=config_path,
                     FORMAT=config_format, CONFIG_MODE=config_mode, DATA=data, DATA_MODE=data_mode, START=start,
                     PIDFILE=pidfile, UID=uid, LOGGED=hard, RESTART=medium)
    tests = SERVICE_TESTS + "\n\n" + "".join(f"{k} = {v!r}\n" for k, v in constants.items())
    return GeneratedTask(
        family="service-setup", category="sysadmin", difficulty=difficulty, instruction=instruction(*asks),
        files={server_file: server}, solution=solution, tests=tests, tags=["service", "users", "http", config_format])


FAMILIES = [
    Family("sysadmin-users", "sysadmin", generate_sysadmin_users,
           "create groups and users with memberships, homes and shells, and a shared setgid folder"),
    Family("service-setup", "sysadmin", generate_service_setup,
           "set up a service: system user, config in /etc, data folder, start script, running as that user"),
]
