"""Loopback ports picked now for servers started later: the topology demo's nodes, and the
tests' servers (``tests/ports.py``), which take them from here rather than from the demo."""

from __future__ import annotations

import contextlib
import random
import socket
from pathlib import Path

__all__ = ["free_ports", "outgoing_port_range"]


def outgoing_port_range() -> tuple[int, int]:
    """The local ports the kernel gives outgoing connections (and binding to port 0)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports free now, below the range of outgoing connections.

    The demo writes every node's ports into the configs, then starts the nodes one by one.
    A port from that range (what binding to port 0 gives) could be taken meanwhile by an
    outgoing connection, a node's own, and its node then failed to start: "Address already
    in use". The probes stay bound until all are taken, so none is handed out twice.
    """
    low, _ = outgoing_port_range()
    candidates = list(range(max(1024, low // 2), low))
    random.shuffle(candidates)
    found: list[int] = []
    with contextlib.ExitStack() as held:
        for port in candidates:
            probe = held.enter_context(socket.socket())
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # another program listens there
            found.append(port)
            if len(found) == count:
                return found
    raise OSError(f"fewer than {count} free loopback ports below {low}")
