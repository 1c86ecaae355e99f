"""`--docker-host`: the sandbox on another Docker engine (a second, real dockerd of this machine,
tests/engines.py), reached by its socket or by TCP at this machine's own address as a remote
engine would be: the container runs there and not on the default engine, services' URLs name
that host and answer there, and an engine that does not see the workspace is one clear line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

from conftest import bash, cli_env, finish, json_events, run_cli, script_file


def engine_events(url: str | None, since: float) -> str:
    host = ["-H", url] if url else []
    listed = subprocess.run(["docker", *host, "events", "--since", str(int(since)), "--until", str(int(time.time()) + 1),
                             "--filter", "type=container", "--format", "{{.Actor.ID}}"], capture_output=True, text=True)
    return listed.stdout


def test_run_puts_its_sandbox_on_the_engine_docker_host_names(tmp_path, eval_home, second_docker):
    before = set(second_docker.containers())
    ws = tmp_path / "ws"
    ws.mkdir()
    script = script_file(tmp_path, [bash("cat /etc/hostname; echo made > made.txt"), finish()])
    since = time.time() - 1
    done = run_cli(["run", "look", "--model", f"scripted:{script}", "--json", "-w", str(ws),
                    "--docker-host", second_docker.socket_url], cli_env(eval_home))
    assert done.returncode == 0, done.stderr
    observation = next(e for e in json_events(done.stdout) if e["type"] == "tool_finished")["observation"]
    container_id = observation.split()[0].strip()
    assert len(container_id) == 12
    assert container_id in engine_events(second_docker.socket_url, since)
    assert container_id not in engine_events(None, since)
    assert (ws / "made.txt").read_text() == "made\n"  # the engine saw the workspace: it is this machine's
    assert set(second_docker.containers()) <= before


def test_services_on_a_remote_engine_are_reached_at_its_host(tmp_path, eval_home, second_docker):
    before = set(second_docker.containers())
    ws = tmp_path / "ws"
    ws.mkdir()
    serve = bash("echo hello > index.html; (nohup python3 -m http.server 8000 > /tmp/http.log 2>&1 &); "
                 "for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null && break; sleep 0.1; done")
    script = script_file(tmp_path, [serve, finish("serving")])
    process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", "serve", "--model", f"scripted:{script}",
                                "-w", str(ws), "--keep-running", "--docker-host", second_docker.tcp_url],
                               env=cli_env(eval_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in process.stderr:
            if "keeping the sandbox up for" in line:
                url = line.split("keeping the sandbox up for ")[1].split(";")[0].strip()
                break
        assert url is not None, "the run named no service"
        assert url.startswith(f"http://{second_docker.address}:")
        with urllib.request.urlopen(url + "/index.html", timeout=10) as answer:
            assert answer.read() == b"hello\n"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert set(second_docker.containers()) <= before


def test_an_engine_that_does_not_see_the_workspace_is_one_line(tmp_path, eval_home, second_docker):
    before = set(second_docker.containers())
    ws = tmp_path / "ws"
    ws.mkdir()
    script = script_file(tmp_path, [bash("ls"), finish()])
    command = [sys.executable, "-m", "eval_agent", "run", "look", "--model", f"scripted:{script}", "-w", str(ws),
               "--docker-host", second_docker.socket_url]
    # a mount only this process sees: the engine, outside it, finds the folder empty, as a remote one would
    inner = f"mount -t tmpfs none {ws} && echo mine > {ws}/file && exec {' '.join(command)}"
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", inner], env=cli_env(eval_home),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "does not see" in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert set(second_docker.containers()) <= before


def test_a_bad_docker_host_is_one_line(tmp_path, eval_home):
    done = run_cli(["run", "look", "--docker-host", "ftp://nowhere"], cli_env(eval_home))
    assert done.returncode == 2 and "--docker-host ftp://nowhere" in done.stderr and "Traceback" not in done.stderr
    bench = run_cli(["bench", str(tmp_path), "--docker-host", "nowhere"], cli_env(eval_home))
    assert bench.returncode == 2 and "--docker-host nowhere" in bench.stderr
