"""A free loopback port for a test's server, below the range of outgoing connections.

Binding to port 0 draws from that range, and a port so reserved, then released until the
server listens on it, may be taken meanwhile by an outgoing connection (or, polled while
nothing listens there, be connected to itself): ``gateway.ports.free_ports`` says more.
"""

from __future__ import annotations

from gateway.ports import free_ports

__all__ = ["free_port"]


def free_port() -> int:
    return free_ports(1)[0]
