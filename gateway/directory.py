"""Which addresses this node hosts, and what a delivery to each of them means."""

from __future__ import annotations

import re
from collections.abc import Collection

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
    """Resolves recipient addresses against the offices this node hosts and the accounts."""

    def __init__(self, store: Store, *, domain: str, hosted_offices: Collection[str]) -> None:
        self._store = store
        self.domain = domain.lower()
        self.hosted_offices = frozenset(hosted_offices)

    def intake_office(self, address: str) -> str | None:
        """The office code if ``address`` is the intake of an office hosted here."""
        match = _INTAKE.match(address)
        if match is None or match["domain"] != self.domain:
            return None
        code = match["code"]
        return code if code in self.hosted_offices else None

    def is_local_domain(self, address: str) -> bool:
        return address.rpartition("@")[2] == self.domain

    async def resolve(self, address: str) -> Recipient | None:
        """Where mail to ``address`` goes on this node, or ``None`` if it is not hosted here.

        Raises ``InvalidAddress`` for something that is not an address at all.
        """
        normalized = normalize_address(address)
        office = self.intake_office(normalized)
        if office is not None:
            return Recipient(normalized, INTAKE_FOLDER, intake_office=office)
        if await self._store.get_account(normalized) is not None:
            return Recipient(normalized)
        return None
