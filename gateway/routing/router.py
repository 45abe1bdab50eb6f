"""Which node hosts an address: the office registry for intakes, the topology for agents.

Pure lookups, no I/O: the SMTP handler, the directory and the store ask it whether a
recipient lives here or on a peer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.offices import OfficeRegistry
from config.topology import Topology

__all__ = ["Router"]

_INTAKE = re.compile(r"^aduana-(?P<code>\d{3})@(?P<domain>.+)$")


@dataclass
class Router:
    node_name: str
    domain: str
    offices: OfficeRegistry
    """Replaced when an office moves (``office move``); read on every lookup."""
    topology: Topology
    host_all_offices: bool = False

    def home_of(self, address: str) -> str | None:
        """The node hosting ``address`` (normalized), or ``None`` if no configuration says.

        ``None`` means "here, if this node has such an account".
        """
        match = _INTAKE.match(address)
        if match is not None and match["domain"] == self.domain.lower():
            if self.host_all_offices:
                return self.node_name
            office = self.offices.get(match["code"])
            return None if office is None else office.node
        return self.topology.agent_homes.get(address)

    def remote_node(self, address: str) -> str | None:
        """The peer to relay ``address`` to, or ``None`` if it is not hosted by a peer.

        An address homed on a node that is not a configured peer is nobody's to relay to.
        """
        node = self.home_of(address)
        if node is None or node == self.node_name or node not in self.topology.peers:
            return None
        return node

    def is_peer(self, name: str) -> bool:
        return name in self.topology.peers and name != self.node_name
