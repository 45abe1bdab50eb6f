"""Which node hosts an address: the office registry for intakes, the topology for agents.

Pure lookups, no I/O, on an immutable snapshot: the SMTP handler, the directory, the relay
queue, the pipeline and the store ask it whether a recipient lives here or on a peer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from config.offices import OfficeRegistry
from config.topology import Topology

__all__ = ["Router", "RoutingSnapshot"]

_INTAKE = re.compile(r"^aduana-(?P<code>\d{3})@(?P<domain>.+)$")


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    """Who hosts what, at one moment: never changed, only replaced (``Router.replace``).

    ``hosted_offices`` are the offices whose intake this node serves; ``held_offices`` those
    of them whose jobs wait for the numbering handover of an office move.
    """

    node_name: str
    domain: str
    offices: OfficeRegistry
    topology: Topology
    hosted_offices: frozenset[str]
    host_all_offices: bool = False
    held_offices: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        node_name: str,
        domain: str,
        offices: OfficeRegistry,
        topology: Topology,
        host_all_offices: bool = False,
        held_offices: frozenset[str] = frozenset(),
    ) -> RoutingSnapshot:
        """The snapshot of a registry: the offices it gives this node are hosted here."""
        if host_all_offices:
            hosted = frozenset(offices)
        else:
            hosted = frozenset(office.code for office in offices.hosted_by(node_name))
        return cls(node_name, domain, offices, topology, hosted, host_all_offices, held_offices)

    def with_offices(self, offices: OfficeRegistry) -> RoutingSnapshot:
        """The same node under a new registry (an office moved); holds are kept."""
        return self.of(
            node_name=self.node_name,
            domain=self.domain,
            offices=offices,
            topology=self.topology,
            host_all_offices=self.host_all_offices,
            held_offices=self.held_offices,
        )

    def with_held(self, held: frozenset[str]) -> RoutingSnapshot:
        return replace(self, held_offices=held)

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


class Router:
    """The node's routing: the current snapshot, shared by the SMTP directory, the relay
    queue, the pipeline and the store, and replaced whole (never edited) by office moves.

    Readers take ``current`` once per decision; a replacement is a single assignment on the
    event loop, so no reader ever sees half a move.
    """

    def __init__(self, snapshot: RoutingSnapshot) -> None:
        self._current = snapshot

    @property
    def current(self) -> RoutingSnapshot:
        return self._current

    def replace(self, snapshot: RoutingSnapshot) -> None:
        self._current = snapshot

    @property
    def node_name(self) -> str:
        return self._current.node_name

    @property
    def domain(self) -> str:
        return self._current.domain

    @property
    def topology(self) -> Topology:
        return self._current.topology

    def remote_node(self, address: str) -> str | None:
        return self._current.remote_node(address)

    def is_peer(self, name: str) -> bool:
        return self._current.is_peer(name)
