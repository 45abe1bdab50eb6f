"""What the HTTP side needs from the node, passed in whole (nothing is patched on later)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from config.clock import Clock
from gateway.chaos import Chaos
from gateway.directory import LocalDirectory
from mailboxes.ledger import Ledger
from mailboxes.registrations import MailboxRequests
from mailboxes.store import Store

__all__ = ["HttpContext"]


@dataclass
class HttpContext:
    store: Store
    directory: LocalDirectory
    clock: Clock
    domain: str
    admins: frozenset[str] = frozenset()
    """Accounts with administrator rights (the ``http_admins`` setting)."""
    test_rig: bool = False
    """The emulated date and the chaos switches may be changed (``http_test_rig``)."""
    chaos: Chaos = field(default_factory=Chaos)
    max_body: int = 20 * 1024 * 1024
    ledger: Ledger = field(init=False)
    scopes: MailboxRequests = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.store)
        self.scopes = MailboxRequests(self.store)

    @classmethod
    def build(
        cls,
        store: Store,
        directory: LocalDirectory,
        clock: Clock,
        domain: str,
        *,
        admins: Collection[str] = (),
        test_rig: bool = False,
        chaos: Chaos | None = None,
        max_body: int = 20 * 1024 * 1024,
    ) -> HttpContext:
        return cls(
            store,
            directory,
            clock,
            domain.lower(),
            frozenset(a.lower() for a in admins),
            test_rig,
            chaos or Chaos(),
            max_body,
        )
