"""A small HTTP JSON service, written and left running: a key-value store, counters, notes with ids
or a unit converter, on a given port with given routes, status codes and errors.

The reference apps and the tests start with a block of constants (routes, field names, codes) that
the generator fills in; the code below it is the same for every task of a kind. The tests do not
assume an empty service (the agent may have tried it out): they use keys, names and tags of their
own and compare relative to what they created."""

from __future__ import annotations

import random

from ..phrasing import bullets, instruction, one_of, paragraph, slug
from ..spec import Family, GeneratedTask
from .web_services import APP_PRELUDE, KINDS


TEST_PRELUDE = '''import time

import pytest
import requests

URL = "http://127.0.0.1:{port}"
_up = []


@pytest.fixture(autouse=True)
def service():
    """Waits up to a few seconds for the service (once), then fails every test if it never answers."""
    deadline = time.monotonic() + (8 if not _up else 0)
    while not _up:
        try:
            requests.get(URL + "/", timeout=2)
            _up.append(True)
        except requests.RequestException:
            if time.monotonic() > deadline:
                _up.append(False)
            time.sleep(0.3)
    if not _up[0]:
        pytest.fail("nothing answers on " + URL)


def expect(response, status):
    assert response.status_code == status, (response.request.method, response.url, response.status_code, response.text)
    return response.json() if status != 204 else None


def expect_error(response, status):
    body = expect(response, status)
    assert isinstance(body, dict) and isinstance(body.get("error"), str), "errors answer {{\\"error\\": ...}}"
'''



def generate_web_service(rng: random.Random, difficulty: str) -> GeneratedTask:
    what, routes, constants, app_code, test_code = rng.choice(KINDS)(rng, difficulty)
    port = rng.randint(8100, 9899)
    filename = one_of(rng, "service.py", "server.py", "app.py", f"{slug(rng)}_api.py")
    header = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    app = f"{APP_PRELUDE}\n\n{header}\n\n{app_code}\n\nif __name__ == \"__main__\":\n" \
          f"    app.run(host=\"0.0.0.0\", port={port})\n"
    intro = one_of(rng, f"Write a small {what} as an HTTP JSON API in /app/{filename}.",
                   f"We need a tiny {what} that speaks JSON over HTTP. Put the code in /app/{filename}.",
                   f"Build a {what}: an HTTP service with a JSON API, its code in /app/{filename}.")
    running = paragraph(
        one_of(rng, f"It must listen on port {port} (at least on 127.0.0.1).", f"Serve it on port {port} of this machine."),
        one_of(rng, "It must still be running when you are done: start it in the background (nohup ... &) and check "
                    "that it answers.", "Leave it running in the background when you finish: it is tested live, "
                                        "after you are done."),
        one_of(rng, "Flask is installed; the standard library is fine too.", "Use Flask (installed) or only the "
                                                                            "standard library."),
        "Keep the data in memory." if what != "unit converter" else "")
    errors = paragraph("Request and response bodies are JSON. Every error answer has the body "
                       "`{\"error\": \"<a message>\"}`, with the status code that the route calls for.")
    asks = [paragraph(intro), bullets(routes), errors, running]
    if rng.random() < 0.4:
        asks = [paragraph(intro), running, bullets(routes), errors]
    solution = "\n".join([
        f"cat > /app/{filename} <<'GYM_APP_END'", app.rstrip("\n"), "GYM_APP_END",
        f"nohup python3 /app/{filename} > /tmp/{filename}.log 2>&1 &",
        f"for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:{port}/ && exit 0; sleep 0.2; done",
        f"cat /tmp/{filename}.log; exit 1"])
    tests = TEST_PRELUDE.format(port=port) + "\n" + header + test_code
    return GeneratedTask(
        family="web-service", category="web", difficulty=difficulty, instruction=instruction(*asks), files={},
        solution=solution, tests=tests, tags=["http", "json", "flask", what.split()[0]])


FAMILIES = [Family("web-service", "web", generate_web_service,
                   "write and leave running a small HTTP JSON service (store, counters, notes, converter)")]
