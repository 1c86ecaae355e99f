"""A sandbox's ports, seen from the host, against the real engine: a server the agent starts in the
sandbox answers on 127.0.0.1 of this machine for as long as the sandbox lives. On a local engine
eval-agent forwards the ports itself (sandbox/forward.py); where the container's address cannot be
reached, the engine publishes them; with --network none there are none."""

from __future__ import annotations

import socket
import time

import pytest

from eval_agent.sandbox import docker_sandbox
from eval_agent.sandbox.docker_sandbox import DEFAULT_PORTS, DockerSandbox, DockerSandboxConfig

import sandbox_cases as cases
import test_sandbox_docker as docker_tests
from test_sandbox_docker import IMAGE, UID, new_session, owned_workspace

# the engine, the shared sandbox (on the base image) and its shell, as test_sandbox_docker.py has them
client, workspace, sandbox, sh = docker_tests.client, docker_tests.workspace, docker_tests.sandbox, docker_tests.sh


@pytest.fixture(scope="module")
def http_server(sandbox):
    """A python http.server on port 8000, started in the background of the shared sandbox."""
    cases.reset(sandbox)
    cases.case_background_job_survives(sandbox, 8000)
    (mapping,) = [m for m in sandbox.info.ports if m.container_port == 8000]
    return mapping


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_background_server_answers_inside_and_through_its_port(sh, http_server):
    assert http_server.host_ip == "127.0.0.1"
    inside = sh.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/", timeout=10)
    assert inside.output == "200"
    status, body = cases.http_get(f"{http_server.url}/")
    assert status == 200 and b"Directory listing" in body
    assert sh.run("exit 5", timeout=10).shell_restarted  # a new shell: the server stays
    assert cases.http_get(f"{http_server.url}/")[0] == 200
    assert "GET / HTTP" in sh.run("cat /tmp/ea_http_8000.log", timeout=10).output


def test_a_local_engine_publishes_nothing_eval_agent_forwards_on_loopback(client, sandbox, http_server):
    attrs = client.containers.get(sandbox.name).attrs
    assert not attrs["HostConfig"]["PortBindings"], "no docker-proxy, no NAT rule: the start costs less"
    assert sorted(m.container_port for m in sandbox.info.ports) == sorted(DEFAULT_PORTS)
    listening = _listening_addresses()
    for mapping in sandbox.info.ports:  # on loopback only: nobody else on the network reaches them
        assert mapping.host_ip == "127.0.0.1"
        assert listening[mapping.host_port] == {"127.0.0.1"}


def _listening_addresses() -> dict[int, set[str]]:
    """Port -> the IPv4 addresses this machine listens on it at (from /proc/net/tcp)."""
    found: dict[int, set[str]] = {}
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A":  # LISTEN
            address, port = fields[1].split(":")
            found.setdefault(int(port, 16), set()).add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_the_ports_close_with_the_sandbox(client, tmp_path):
    box = DockerSandbox(DockerSandboxConfig(image=IMAGE, workspace=owned_workspace(tmp_path, "ws"),
                                            session_id=new_session()), client)
    box.start()
    try:
        cases.case_background_job_survives(box, 3000)
        (mapping,) = [m for m in box.info.ports if m.container_port == 3000]
        assert cases.http_get(mapping.url)[0] == 200
    finally:
        box.close()
    assert _refused(mapping.host_port), "nothing listens on a closed sandbox's port"


def test_where_the_container_cannot_be_reached_the_engine_publishes(client, tmp_path, monkeypatch):
    # A rootless engine keeps its containers in a network namespace this machine has no route to;
    # that cannot run here, so the probe is made to fail. Everything else is the real engine.
    probes = []
    monkeypatch.setattr(docker_sandbox, "reachable", lambda address, port: probes.append(address) and False)
    monkeypatch.setattr(docker_sandbox, "_UNROUTABLE", set())
    boxes = []
    try:
        for _ in range(2):
            box = DockerSandbox(DockerSandboxConfig(image=IMAGE, workspace=owned_workspace(tmp_path, f"ws{len(boxes)}"),
                                                    session_id=new_session(), ports=(8000,)), client)
            boxes.append(box)
            box.start()
        assert len(probes) == 1, "found out once per engine: the second sandbox goes straight to the engine"
        for box in boxes:
            bindings = client.containers.get(box.name).attrs["HostConfig"]["PortBindings"]
            assert bindings["8000/tcp"][0]["HostIp"] == "127.0.0.1"
            (mapping,) = box.info.ports
            assert mapping.host_port == int(client.containers.get(box.name).attrs["NetworkSettings"]["Ports"]
                                            ["8000/tcp"][0]["HostPort"])
        cases.case_background_job_survives(boxes[1], 8000)
        assert cases.http_get(f"{boxes[1].info.ports[0].url}/")[0] == 200
        assert boxes[1].run("id -u", timeout=10).output.strip() == str(UID)
    finally:
        for box in boxes:
            box.close()
    assert not [c for c in client.containers.list(all=True) if c.name in {box.name for box in boxes}]


LOOPBACK_CHECK = ("getent hosts localhost && python3 -c \"import socket; s = socket.create_server(('localhost', 0)); "
                  "socket.create_connection(s.getsockname()[:2]); print('loopback ok')\"")


# /etc/hosts is put in two ways: a root shell writes it, for anyone else the engine unpacks it
@pytest.mark.parametrize("who", ["workspace owner", "root without workspace"])
def test_network_none_has_no_ports_and_no_route(client, tmp_path, sandbox, http_server, who):
    target_ip = client.containers.get(sandbox.name).attrs["NetworkSettings"]["IPAddress"]
    assert cases.http_get(f"http://{target_ip}:8000/")[0] == 200  # reachable on the bridge
    as_root = who.startswith("root")
    config = DockerSandboxConfig(
        image=IMAGE, workspace=None if as_root else owned_workspace(tmp_path, "ws"), network="none",
        user="0:0" if as_root else None, session_id=new_session(),
    )
    with DockerSandbox(config, client) as box:
        assert box.run("id -u", timeout=10).output.strip() == ("0" if as_root else str(UID))
        assert box.info.ports == [] and box.info.network == "none"
        assert box.run("ls /sys/class/net", timeout=10).output.split() == ["lo"]
        local = box.run(LOOPBACK_CHECK, timeout=10)
        assert local.exit_code == 0 and "localhost" in local.output and "loopback ok" in local.output, local
        assert box.run("exit 3", timeout=10).shell_restarted  # a new shell finds the file as it was
        assert box.run("wc -l < /etc/hosts", timeout=10).output.strip() == "6"  # Docker's six lines
        started = time.monotonic()
        cut = box.run(f"curl -sS -m 5 http://{target_ip}:8000/", timeout=15)
        assert cut.exit_code != 0 and "200" not in cut.output, cut
        assert time.monotonic() - started < 8
        assert box.run("echo still-works", timeout=10).output == "still-works\n"
