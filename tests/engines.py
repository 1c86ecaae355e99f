"""A second Docker engine and a local Ray cluster, for the scale-out tests.

The second engine is a real dockerd of its own (socket, data root, exec root, bridge), so that two
Ray "nodes" on this machine really use two engines; it also listens on TCP at this machine's own
address, which eval-agent takes for a remote engine (its services' URLs name that host). It needs
root, as the rest of the suite's engine set-up does. The sandbox image is copied into it
(docker save | docker load) instead of being built a second time."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SECOND_SOCKET = "/run/eval-agent-test-docker2.sock"
SECOND_ROOT = Path("/var/lib/eval-agent-test-docker2")
SECOND_EXEC = Path("/run/eval-agent-test-docker2")
SECOND_PIDFILE = Path("/run/eval-agent-test-docker2.pid")
SECOND_BRIDGE, SECOND_SUBNET = "ea-test-br2", "172.30.0.1/16"
TCP_PORT = 23751
RAY = Path(sys.executable).with_name("ray")


def own_address() -> str:
    """This machine's first non-loopback IPv4 address (what another machine would dial)."""
    found = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True)
    for line in found.stdout.splitlines():
        address = line.split()[3].split("/")[0]
        if not address.startswith("127.") and not address.startswith("172."):
            return address
    for line in found.stdout.splitlines():
        return line.split()[3].split("/")[0]
    raise AssertionError("this machine has no non-loopback IPv4 address for a TCP engine")


@dataclass
class Engine:
    socket_url: str  # unix://...
    tcp_url: str  # tcp://ADDRESS:PORT: this machine's address, as a remote engine's would be
    address: str

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "-H", self.socket_url, *args], capture_output=True, text=True, check=check)

    def containers(self) -> list[str]:
        listed = self.docker("ps", "-a", "--filter", "label=eval-agent=1", "--format", "{{.Names}}")
        return listed.stdout.split()

    def remove_containers(self) -> None:
        """After a test that failed half-way: nothing of it is left for the next test to find."""
        if names := self.containers():
            self.docker("rm", "-f", *names, check=False)


def _answers(url: str) -> bool:
    return subprocess.run(["docker", "-H", url, "info"], capture_output=True).returncode == 0


def _stop_leftover() -> None:
    """A second engine a killed test run left behind: stopped, so that this run starts clean."""
    try:
        pid = int(SECOND_PIDFILE.read_text())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


@contextmanager
def second_engine(sandbox_image: str) -> Iterator[Engine]:
    address = own_address()
    socket_url, tcp_url = f"unix://{SECOND_SOCKET}", f"tcp://{address}:{TCP_PORT}"
    _stop_leftover()
    subprocess.run(["ip", "link", "add", "name", SECOND_BRIDGE, "type", "bridge"], capture_output=True)
    subprocess.run(["ip", "addr", "add", SECOND_SUBNET, "dev", SECOND_BRIDGE], capture_output=True)
    subprocess.run(["ip", "link", "set", SECOND_BRIDGE, "up"], check=True)
    for folder in (SECOND_ROOT, SECOND_EXEC):
        folder.mkdir(parents=True, exist_ok=True)
    log = open("/tmp/eval-agent-test-docker2.log", "ab")
    process = subprocess.Popen(
        ["dockerd", "--host", socket_url, "--host", tcp_url, "--data-root", str(SECOND_ROOT), "--exec-root",
         str(SECOND_EXEC), "--pidfile", str(SECOND_PIDFILE), "--bridge", SECOND_BRIDGE],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _answers(socket_url):
            assert process.poll() is None, "the second dockerd exited; see /tmp/eval-agent-test-docker2.log"
            assert time.monotonic() < deadline, "the second dockerd did not answer within 60 s"
            time.sleep(0.3)
        engine = Engine(socket_url, tcp_url, address)
        if engine.docker("image", "inspect", sandbox_image, check=False).returncode != 0:
            saved = subprocess.Popen(["docker", "save", sandbox_image], stdout=subprocess.PIPE)
            subprocess.run(["docker", "-H", socket_url, "load"], stdin=saved.stdout, check=True, capture_output=True)
            assert saved.wait() == 0
        yield engine
    finally:
        leftovers = subprocess.run(["docker", "-H", socket_url, "ps", "-aq"], capture_output=True, text=True).stdout.split()
        if leftovers:
            subprocess.run(["docker", "-H", socket_url, "rm", "-f", *leftovers], capture_output=True)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    address: str
    env: dict[str, str]

    def worker_pids(self, name: str = "run_attempt") -> list[int]:
        """The Ray worker processes running that function now (Ray titles them ray::NAME)."""
        found = subprocess.run(["pgrep", "-f", f"^ray::{name}"], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]


@contextmanager
def ray_cluster(engine: Engine, slots: int = 2) -> Iterator[Cluster]:
    """A head node on the default engine and a worker node on the second one, each with `slots`."""
    port = free_port()
    temp = Path(f"/tmp/ray-test-{port}")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("DOCKER_HOST", None)
    common = ["--num-cpus", "2", "--resources", f'{{"eval_agent_slot": {slots}}}', "--disable-usage-stats"]
    started = subprocess.run([str(RAY), "start", "--head", "--port", str(port), "--include-dashboard=false",
                              "--temp-dir", str(temp), *common], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        joined = subprocess.run([str(RAY), "start", "--address", f"127.0.0.1:{port}", *common],
                                env={**env, "DOCKER_HOST": engine.socket_url}, capture_output=True, text=True)
        assert joined.returncode == 0, joined.stderr[-2000:]
        yield Cluster(f"127.0.0.1:{port}", env)
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True)
        shutil.rmtree(temp, ignore_errors=True)
