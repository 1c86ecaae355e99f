"""The in-process port forwarder (sandbox/forward.py) against real TCP servers on this machine:
what a browser or curl on the host would see through a sandbox's port."""

from __future__ import annotations

import hashlib
import os
import socket
import socketserver
import threading
import time

import pytest

from eval_agent.sandbox.forward import PortForwarder, engine_is_routable, reachable


class _Echo(socketserver.BaseRequestHandler):
    """Reads until the client half-closes, then answers with the length and digest of what came."""

    def handle(self):
        digest, size = hashlib.sha256(), 0
        while chunk := self.request.recv(65536):
            digest.update(chunk)
            size += len(chunk)
        self.request.sendall(f"{size} {digest.hexdigest()}".encode())


@pytest.fixture
def upstream():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _send_all_then_read(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)  # the upstream answers only once it sees the end
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_connections_are_relayed_both_ways_with_half_close(upstream):
    forwarder = PortForwarder("127.0.0.1", (upstream,))
    try:
        (mapping,) = forwarder.mappings
        assert mapping.container_port == upstream and mapping.host_ip == "127.0.0.1" and mapping.host_port != upstream
        payload = os.urandom(8 * 1024 * 1024)  # larger than any socket buffer: the relay must keep pace
        expected = f"{len(payload)} {hashlib.sha256(payload).hexdigest()}".encode()
        answers: list[bytes] = []
        threads = [threading.Thread(target=lambda: answers.append(_send_all_then_read(mapping.host_port, payload)))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert answers == [expected] * 4
    finally:
        forwarder.close()


def test_a_port_nobody_listens_on_closes_the_connection_and_close_frees_every_port(upstream):
    idle = socket.socket()
    idle.bind(("127.0.0.1", 0))  # bound, never listening: connecting there is refused
    forwarder = PortForwarder("127.0.0.1", (upstream, idle.getsockname()[1]))
    by_port = {m.container_port: m.host_port for m in forwarder.mappings}
    with socket.create_connection(("127.0.0.1", by_port[idle.getsockname()[1]]), timeout=10) as conn:
        conn.settimeout(10)
        assert conn.recv(1) == b"", "the host sees the connection closed, as with Docker's own proxy"
    held = socket.create_connection(("127.0.0.1", by_port[upstream]), timeout=10)  # open when the forwarder stops
    time.sleep(0.2)
    started = time.monotonic()
    forwarder.close()
    assert time.monotonic() - started < 2
    held.settimeout(10)
    try:
        assert held.recv(1) == b"", "an open connection is cut"
    except ConnectionResetError:
        pass
    held.close()
    for host_port in by_port.values():
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", host_port), timeout=5)
    idle.close()


def test_reachable_tells_a_refusal_from_no_route():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    assert reachable("127.0.0.1", closed.getsockname()[1])  # refused: the address answered
    closed.close()
    # a listener whose queue is full drops new handshakes: nothing answers, as from an address
    # this machine has no route to (a rootless engine's container, seen from the host)
    full = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = full.getsockname()[1]
    queued = []
    for _ in range(4):
        try:
            queued.append(socket.create_connection(("127.0.0.1", port), timeout=0.3))
        except OSError:
            break
    started = time.monotonic()
    assert not reachable("127.0.0.1", port, timeout=0.5)
    assert time.monotonic() - started < 3
    for sock in [*queued, full]:
        sock.close()


def test_only_the_local_system_engine_is_taken_as_routable(monkeypatch):
    local = "http+docker://localhost"
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert engine_is_routable(local)
    for url, routable in [("unix:///var/run/docker.sock", True), ("unix:///run/docker.sock", True),
                          ("unix:///run/user/1000/docker.sock", False),  # rootless: its own network namespace
                          ("unix:///home/me/.docker/desktop/docker.sock", False),  # Docker Desktop: a VM
                          ("tcp://10.0.0.5:2375", False), ("ssh://me@build-host", False)]:
        monkeypatch.setenv("DOCKER_HOST", url)
        assert engine_is_routable(local if url.startswith("unix") else "http://10.0.0.5:2375") is routable, url
