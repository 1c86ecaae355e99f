"""The sandbox's ports on the host's 127.0.0.1, forwarded by eval-agent itself.

Publishing seven ports through the engine costs a run about half a second: dockerd starts one
docker-proxy process and writes NAT rules per port when the container starts, and undoes it all
when it is removed. A local engine on Linux puts its containers on a bridge this machine routes
to, so eval-agent can do the proxy's job in-process instead: one listening socket per port, bound
at once, and a relay per connection. The ports live as long as the sandbox, which never outlives
this process anyway. Where the container's address cannot be reached (a remote engine, Docker
Desktop, rootless Docker) the engine publishes the ports as before (see docker_sandbox).

The bytes are relayed, never read: nothing the container sends is interpreted on the host."""

from __future__ import annotations

import os
import selectors
import socket
import sys
import threading
from urllib.parse import urlsplit

from .base import PortMapping

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 5.0


def engine_is_routable(base_url: str) -> bool:
    """Whether containers of the engine at `base_url` (the docker SDK's) sit on a bridge of this
    machine: a local socket of the system engine on Linux. Rootless Docker and Docker Desktop
    keep their bridges in a namespace or a VM of their own, behind sockets in the user's folders."""
    if not sys.platform.startswith("linux"):
        return False
    parts = urlsplit(os.environ.get("DOCKER_HOST", "") or "unix:///var/run/docker.sock")
    if parts.scheme != "unix" or not base_url.startswith("http+docker://"):
        return False
    return not (parts.path.startswith("/run/user/") or "/.docker/" in parts.path)


def reachable(address: str, port: int, timeout: float = 1.0) -> bool:
    """Whether this machine reaches `address`: a refused connection counts, it came back from there."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:  # no route, or nothing answered in time
        return False


class PortForwarder:
    """Listens on 127.0.0.1 (a free port each) for each of the container's ports, and relays each
    connection to the container's address; one thread accepts, two per connection relay."""

    def __init__(self, address: str, ports: tuple[int, ...], bind: str = "127.0.0.1"):
        self.address = address
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.mappings: list[PortMapping] = []
        try:
            for port in ports:
                listener = socket.create_server((bind, 0))
                listener.setblocking(False)
                self._selector.register(listener, selectors.EVENT_READ, port)
                self.mappings.append(PortMapping(port, bind, listener.getsockname()[1]))
        except BaseException:
            self.close()
            raise
        self._acceptor = threading.Thread(target=self._accept_loop, name="eval-agent-ports", daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.data is None:  # woken by close()
                    return
                try:
                    client, _ = key.fileobj.accept()
                except OSError:  # the client gave up already
                    continue
                client.setblocking(True)
                threading.Thread(target=self._relay, args=(client, key.data), daemon=True).start()

    def _relay(self, client: socket.socket, port: int) -> None:
        try:
            upstream = socket.create_connection((self.address, port), timeout=CONNECT_TIMEOUT)
        except OSError:  # nothing listens there (yet): the client sees the connection closed, as with Docker's proxy
            client.close()
            return
        upstream.settimeout(None)
        if not self._track(client, upstream):
            return
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join()
        with self._lock:
            self._open.difference_update((client, upstream))
        client.close()
        upstream.close()

    def _track(self, *connection: socket.socket) -> bool:
        with self._lock:
            if self._closed:
                for sock in connection:
                    sock.close()
                return False
            self._open.update(connection)
            return True

    def close(self) -> None:
        """Stops listening and cuts every connection; the ports are free again when it returns."""
        with self._lock:
            self._closed = True
            open_now = list(self._open)
        try:
            self._wake_write.send(b"x")
        except OSError:
            pass
        acceptor = getattr(self, "_acceptor", None)
        if acceptor is not None and acceptor is not threading.current_thread():
            acceptor.join(timeout=5)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()
        self._wake_write.close()
        for sock in open_now:  # wakes the relays blocked in recv; each closes its own pair
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copies one direction until its end closes, then passes the end on (a half close)."""
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:  # a reset or a cut on either side ends both directions
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
