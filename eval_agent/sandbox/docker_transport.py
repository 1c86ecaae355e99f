"""Byte streams to a bash in a container, over the engine's hijacked HTTP connection.

The first shell of a sandbox is the container's own main process, spoken to through an attach
made before the container starts: no `docker exec` (a runtime process of its own) per sandbox.
It runs under a small sh wrapper that reports the shell's exit on the stream and then keeps the
container alive, so background jobs survive the shell. A shell started later (the first one
exited or was killed) is a `docker exec`."""

from __future__ import annotations

import re
import secrets
import select
import socket
import struct

import docker
from docker.errors import APIError, DockerException

from .shell import QUIET_SHELL, SIGNAL_COMMAND_SCRIPT


class _EngineStream:
    """A hijacked engine connection carrying a bash's stdin one way and its stdout and stderr,
    multiplexed (8-byte header: stream, size; then the payload), the other."""

    def __init__(self, client: docker.DockerClient, container_id: str, user: str | None, response_socket):
        self._api = client.api
        self._container_id = container_id
        self._user = user or ""
        self._response_socket = response_socket  # keeps the HTTP response alive
        self._sock: socket.socket = getattr(response_socket, "_sock", response_socket)
        self._frames = b""

    def send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def recv(self, timeout: float) -> bytes | None:
        payload = self._take_frames()
        if payload:
            return payload
        ready, _, _ = select.select([self._sock], [], [], max(timeout, 0))
        while ready:
            chunk = self._sock.recv(65536)
            if not chunk:
                return self._take_frames() or b""
            self._frames += chunk
            payload = self._take_frames()
            if payload:
                return payload
            ready, _, _ = select.select([self._sock], [], [], max(timeout, 0))
        return None

    def _take_frames(self) -> bytes:
        out = bytearray()
        while len(self._frames) >= 8:
            size = struct.unpack(">I", self._frames[4:8])[0]
            if len(self._frames) < 8 + size:
                break
            out += self._frames[8 : 8 + size]
            self._frames = self._frames[8 + size :]
        return bytes(out)

    def signal_command(self, mode: str, shell_pid: int, window: int) -> None:
        exec_id = self._api.exec_create(
            self._container_id, ["sh", "-c", SIGNAL_COMMAND_SCRIPT, "sh", mode, str(shell_pid), str(window)],
            user=self._user,
        )["Id"]
        self._api.exec_start(exec_id)

    def close(self) -> None:
        for closer in (self._sock, self._response_socket):
            try:
                closer.close()
            except OSError:
                pass


class DockerExecTransport(_EngineStream):
    """A bash started with `docker exec -i`."""

    def __init__(self, client: docker.DockerClient, container_id: str, user: str | None, workdir: str):
        exec_id = client.api.exec_create(
            container_id, ["sh", "-c", f"exec {QUIET_SHELL}"], stdin=True, stdout=True, stderr=True,
            tty=False, user=user or "", workdir=workdir,
        )["Id"]
        super().__init__(client, container_id, user, client.api.exec_start(exec_id, socket=True))
        self._exec_id = exec_id

    def exit_code(self) -> int | None:
        try:
            state = self._api.exec_inspect(self._exec_id)
        except (APIError, DockerException):
            return -1
        return None if state.get("Running") else state.get("ExitCode", -1)


def main_shell_command(nonce: str) -> list[str]:
    """The container's command: the shell, then a line saying it exited and with what code,
    then a wait that keeps the container (and any background job) alive."""
    return ["sh", "-c", f"{QUIET_SHELL}; printf '\\n__EA_SHELL_EXITED_{nonce}_%s__\\n' \"$?\"; exec sleep infinity"]


class ExitLine:
    """Finds the wrapper's exit line in the stream, which may arrive split over reads. `feed`
    returns the shell's output (a tail that may be the start of the exit line is held back until
    the next read tells); `code` is the shell's exit code once the line has come."""

    def __init__(self, nonce: str):
        self._line = re.compile(rb"\n?__EA_SHELL_EXITED_" + nonce.encode() + rb"_(\d+)__\n")
        self._prefix = f"__EA_SHELL_EXITED_{nonce}_".encode()
        self._held = b""
        self.code: int | None = None

    def feed(self, data: bytes) -> bytes:
        text, self._held = self._held + data, b""
        found = self._line.search(text)
        if found:
            self.code = int(found.group(1))
            return text[: found.start()]  # what follows is the wrapper's, not the shell's
        begun = text.rfind(self._prefix)  # the line's start, its end still to come
        keep = len(text) - begun if begun >= 0 else _partial_suffix(text, self._prefix)
        if keep:
            text, self._held = text[:-keep], text[-keep:]
        return text

    def flush(self) -> bytes:
        held, self._held = self._held, b""
        return held


def _partial_suffix(text: bytes, prefix: bytes) -> int:
    """The length of the longest end of `text` that `prefix` starts with (0 if none)."""
    for size in range(min(len(text), len(prefix)), 0, -1):
        if text.endswith(prefix[:size]):
            return size
    return 0


class MainShellTransport(_EngineStream):
    """The container's main process, through an attach (stdin, stdout, stderr) made before start.
    The stream stays open after the shell exits (the wrapper's wait holds it), so the end of the
    shell is the wrapper's exit line: what came before it is the shell's, then the stream ends."""

    def __init__(self, client: docker.DockerClient, container_id: str, user: str | None, nonce: str):
        attach = client.api.attach_socket(container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        super().__init__(client, container_id, user, attach)
        self._exit = ExitLine(nonce)
        self._gone = False

    def recv(self, timeout: float) -> bytes | None:
        if self._exit.code is not None or self._gone:
            return b""
        data = super().recv(timeout)
        if data == b"":  # the container itself has gone
            self._gone = True
            return self._exit.flush()
        if data is None:
            return None
        return self._exit.feed(data) or (b"" if self._exit.code is not None else None)

    def exit_code(self) -> int | None:
        if self._gone and self._exit.code is None:
            return -1
        return self._exit.code


def new_nonce() -> str:
    return secrets.token_hex(8)
