"""Reaching the Docker engine, with one actionable line when it does not answer."""

from __future__ import annotations

import functools
import os
from urllib.parse import urlsplit

import docker
from docker.errors import DockerException

from ..errors import DockerUnavailable, UsageError

LABEL = "eval-agent"  # every container and image eval-agent makes carries eval-agent=1
CONTAINER_PREFIX = "eval-agent-"

FIX = (
    "start it (as root on Debian: `apt-get install docker.io && dockerd &`), "
    "or add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again)"
)


OWNER_HOST, OWNER_PID, OWNER_STARTED = f"{LABEL}.owner.host", f"{LABEL}.owner.pid", f"{LABEL}.owner.started"


def owner_labels() -> dict[str, str]:
    """Labels naming the process that makes a container (host, pid, the pid's start time, so a
    reused pid is not taken for the owner): `sandbox prune` removes only what a dead one left."""
    from ..trajectory.summary import process_started, this_host

    pid = os.getpid()
    return {OWNER_HOST: this_host(), OWNER_PID: str(pid), OWNER_STARTED: str(process_started(pid) or "")}


def owner_alive(labels: dict[str, str]) -> bool | None:
    """Is the process that made the container still running? None when no owner was recorded
    (a container of an older eval-agent); True for another host's (it cannot be checked here)."""
    from ..trajectory.summary import process_alive

    pid = labels.get(OWNER_PID, "")
    if not pid.isdigit():
        return None
    started = labels.get(OWNER_STARTED, "")
    return process_alive(int(pid), labels.get(OWNER_HOST) or None, int(started) if started.isdigit() else None)


ENGINE_SCHEMES = ("unix", "tcp", "ssh", "http", "https")


def use_docker_host(url: str | None) -> None:
    """--docker-host: the engine every client of this process talks to (as DOCKER_HOST would)."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ENGINE_SCHEMES or not (parts.hostname or parts.path):
        raise UsageError(f"--docker-host {url}: use unix:///PATH/docker.sock, tcp://HOST:PORT or ssh://USER@HOST")
    os.environ["DOCKER_HOST"] = url
    docker_client.cache_clear()


def remote_engine_host() -> str | None:
    """The host name of a remote engine (DOCKER_HOST tcp:// or ssh://), None for a local socket:
    a remote sandbox's ports are published on that host, and its services' URLs name it."""
    parts = urlsplit(os.environ.get("DOCKER_HOST", ""))
    if parts.scheme in ("tcp", "ssh", "http", "https") and parts.hostname not in (None, "localhost", "127.0.0.1", "::1"):
        return parts.hostname
    return None


@functools.lru_cache(maxsize=1)
def docker_client() -> docker.DockerClient:
    """A client for the engine named by DOCKER_HOST or the default socket; raises
    DockerUnavailable (exit code 3) with the fix when the engine does not answer."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except DockerException as exc:
        reason = str(exc).split("\n")[0]
        if "Permission denied" in reason:
            raise DockerUnavailable(
                "Docker engine refused access (permission denied on its socket): "
                "add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again)"
            ) from None
        raise DockerUnavailable(f"Docker engine unreachable ({_short(reason)}): {FIX}") from None
    return client


def _short(reason: str) -> str:
    for marker in ("Error while fetching server API version:", "ConnectionError"):
        if marker in reason:
            return "no engine answers on its socket"
    return reason[:160]
