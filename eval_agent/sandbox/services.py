"""Which published ports have a server listening: the URLs to give the user after a run."""

from __future__ import annotations

from .base import PortMapping, Sandbox

LISTEN_STATE = "0A"


def listening_ports(sandbox: Sandbox) -> set[int]:
    # /proc/net/tcp works in any image (no ss or netstat needed)
    result = sandbox.run("cat /proc/net/tcp /proc/net/tcp6 2>/dev/null", timeout=10)
    ports = set()
    for line in result.output.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == LISTEN_STATE and ":" in fields[1]:
            try:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
            except ValueError:
                continue
    return ports


def running_services(sandbox: Sandbox) -> list[PortMapping]:
    mapped = sandbox.info.ports
    if not mapped:
        return []
    listening = listening_ports(sandbox)
    return [mapping for mapping in mapped if mapping.container_port in listening]
