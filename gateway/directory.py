"""Which addresses this node hosts, and what a delivery to each of them means."""

from __future__ import annotations

import re
import time

from gateway.routing.router import Router, RoutingSnapshot
from mailboxes.addresses import normalize_address
from mailboxes.records import Recipient
from mailboxes.store import Store

__all__ = ["INTAKE_FOLDER", "LocalDirectory", "intake_address", "intake_office_code"]

INTAKE_FOLDER = "Recibidos"
"""Where an office's raw submissions are filed; its INBOX receives accepted declarations."""

_INTAKE = re.compile(r"^aduana-(?P<code>\d{3})@(?P<domain>.+)$")


def intake_address(office_code: str, domain: str) -> str:
    return f"aduana-{office_code}@{domain}"


def intake_office_code(address: str, domain: str) -> str | None:
    """The office code if ``address`` (normalized) is an intake of ``domain``, on any node."""
    match = _INTAKE.match(address)
    if match is None or match["domain"] != domain.lower():
        return None
    return match["code"]


class LocalDirectory:
    """Resolves recipient addresses against the offices this node hosts and the accounts.

    Known accounts are remembered for ``cache_seconds`` (accounts are added, never removed
    while serving, and every RCPT would otherwise cost a database read); unknown addresses
    are asked again each time, so an account added by ``teledispatch account add`` is
    reachable at once.
    """

    def __init__(
        self,
        store: Store,
        router: Router,
        *,
        cache_seconds: float = 60.0,
        postmaster: str | None = None,
    ) -> None:
        self._store = store
        self._router = router
        self._cache_seconds = cache_seconds
        self._known: dict[str, float] = {}
        self.postmaster = normalize_address(postmaster or f"postmaster@{self.domain}")
        """Where mail to ``postmaster`` goes (RFC 5321 §4.5.1: every server takes it)."""
        self._account_domains: tuple[float, frozenset[str]] = (0.0, frozenset())

    @property
    def domain(self) -> str:
        return self._router.domain.lower()

    @property
    def routes(self) -> RoutingSnapshot:
        """The router's current snapshot: a decision made from it stands while it is current
        (the router replaces it whole when an office moves)."""
        return self._router.current

    @property
    def hosted_offices(self) -> frozenset[str]:
        """The offices whose intake this node serves, by the current routing snapshot."""
        return self._router.current.hosted_offices

    def intake_office(self, address: str, routes: RoutingSnapshot | None = None) -> str | None:
        """The office code if ``address`` is the intake of an office hosted here."""
        routes = routes or self._router.current
        code = intake_office_code(address, routes.domain)
        return code if code in routes.hosted_offices else None

    def is_local_domain(self, address: str) -> bool:
        return address.rpartition("@")[2] == self.domain

    async def hosts_domain(self, address: str) -> bool:
        """Whether ``address``'s domain is one this node keeps mailboxes for: the customs
        domain, or one of its accounts' (the agencies'). An unknown user there is a
        ``550 5.1.1``, not a relaying attempt."""
        domain = address.rpartition("@")[2]
        if domain == self.domain:
            return True
        expires, domains = self._account_domains
        now = time.monotonic()
        if expires <= now:
            domains = await self._store.account_domains()
            self._account_domains = (now + self._cache_seconds, domains)
        return domain in domains

    def _postmaster(self, address: str) -> bool:
        """``<Postmaster>`` without a domain (any case), or at the customs domain."""
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at:
            local, domain = domain, self.domain
        return local.lower() == "postmaster" and domain.lower() == self.domain

    async def resolve(
        self, address: str, routes: RoutingSnapshot | None = None
    ) -> Recipient | None:
        """Where mail to ``address`` goes on this node, or ``None`` if it is not hosted here.

        An address a peer hosts (by the router's current snapshot) resolves to a recipient
        queued for relay to that peer. ``routes``: the snapshot to decide by (the current
        one if not given). Raises ``InvalidAddress`` for something that is not an address
        at all.
        """
        if self._postmaster(address):
            return Recipient(self.postmaster)
        normalized = normalize_address(address)
        if routes is None:
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
