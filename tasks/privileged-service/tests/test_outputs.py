import os
import pwd
import time

import requests

WWW_DATA = pwd.getpwnam("www-data").pw_uid


def process_uids() -> set[int]:
    """The real uids of every process running now (from /proc, readable without privileges)."""
    uids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("Uid:"):
                    uids.add(int(line.split()[1]))
        except OSError:
            continue
    return uids


def test_the_site_is_served_on_port_80():
    answer = requests.get("http://127.0.0.1/index.html", timeout=5)
    assert answer.status_code == 200 and "all systems go" in answer.text


def test_requests_are_logged_by_a_server_running_as_www_data():
    assert os.stat("/var/log/site").st_uid == WWW_DATA
    requests.get("http://127.0.0.1/index.html?checked", timeout=5)
    for _ in range(20):
        if os.path.exists("/var/log/site/access.log") and "checked" in open("/var/log/site/access.log").read():
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no access log line for the request in /var/log/site/access.log")
    assert WWW_DATA in process_uids(), "no process runs as www-data"
    # the server made its log after it switched: a server still running as root would own it
    assert os.stat("/var/log/site/access.log").st_uid == WWW_DATA
