"""Which addresses this node hosts, and what a delivery to each of them means."""

from __future__ import annotations

import re
import time

from gateway.routing.router import Router, RoutingSnapshot
from mailboxes.addresses import normalize_address
from mailboxes.records import Recipient
from mailboxes.store import Store

__all__ = ["INTAKE_FOLDER", "LocalDirectory", "intake_address"]

INTAKE_FOLDER = "Recibidos"
"""Where an office's raw submissions are filed; its INBOX receives accepted declarations."""

_INTAKE = re.compile(r"^aduana-(?P<code>\d{3})@(?P<domain>.+)$")


def intake_address(office_code: str, domain: str) -> str:
    return f"aduana-{office_code}@{domain}"


class LocalDirectory:
    """Resolves recipient addresses against the offices this node hosts and the accounts.

    Known accounts are remembered for ``cache_seconds`` (accounts are added, never removed
    while serving, and every RCPT would otherwise cost a database read); unknown addresses
    are asked again each time, so an account added by ``teledispatch account add`` is
    reachable at once.
    """

    def __init__(self, store: Store, router: Router, *, cache_seconds: float = 60.0) -> None:
        self._store = store
        self._router = router
        self._cache_seconds = cache_seconds
        self._known: dict[str, float] = {}

    @property
    def domain(self) -> str:
        return self._router.domain.lower()

    @property
    def hosted_offices(self) -> frozenset[str]:
        """The offices whose intake this node serves, by the current routing snapshot."""
        return self._router.current.hosted_offices

    def intake_office(self, address: str, routes: RoutingSnapshot | None = None) -> str | None:
        """The office code if ``address`` is the intake of an office hosted here."""
        routes = routes or self._router.current
        match = _INTAKE.match(address)
        if match is None or match["domain"] != routes.domain.lower():
            return None
        code = match["code"]
        return code if code in routes.hosted_offices else None

    def is_local_domain(self, address: str) -> bool:
        return address.rpartition("@")[2] == self.domain

    async def resolve(self, address: str) -> Recipient | None:
        """Where mail to ``address`` goes on this node, or ``None`` if it is not hosted here.

        An address a peer hosts (by the router's current snapshot) resolves to a recipient
        queued for relay to that peer. Raises ``InvalidAddress`` for something that is not
        an address at all.
        """
        normalized = normalize_address(address)
        routes = self._router.current  # one snapshot for the whole decision
        node = routes.remote_node(normalized)
        if node is not None:
            return Recipient(normalized, relay_to=node)
        office = self.intake_office(normalized, routes)
        if office is not None:
            return Recipient(normalized, INTAKE_FOLDER, intake_office=office)
        now = time.monotonic()
        if self._known.get(normalized, 0.0) > now:
            return Recipient(normalized)
        if await self._store.get_account(normalized) is not None:
            self._known[normalized] = now + self._cache_seconds
            return Recipient(normalized)
        return None
