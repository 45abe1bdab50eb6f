"""What the store needs to know of routing, given to it (never set on it from outside).

The node's router keeps one immutable routing snapshot (which node hosts which office and
agent, which offices wait for a numbering handover) and replaces it whole when an office
moves. The store reads ``routing.current`` once per decision: a filing is relayed or filed
here, and a job is held or claimed, by one consistent snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["LOCAL_ONLY", "FixedRouting", "Routes", "RoutingSource"]


class Routes(Protocol):
    """One routing snapshot, as the store reads it."""

    @property
    def held_offices(self) -> frozenset[str]:
        """Offices whose intake jobs wait here (moved in, numbering not handed over yet)."""
        ...

    def remote_node(self, address: str) -> str | None:
        """The peer that hosts ``address``, or ``None`` if it is not hosted by a peer."""
        ...


class RoutingSource(Protocol):
    @property
    def current(self) -> Routes: ...


@dataclass(frozen=True, slots=True)
class _LocalRoutes:
    held_offices: frozenset[str] = frozenset()

    def remote_node(self, address: str) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class FixedRouting:
    """A routing that never changes (a store outside a node: every address is local)."""

    current: Routes = field(default_factory=_LocalRoutes)


LOCAL_ONLY = FixedRouting()
