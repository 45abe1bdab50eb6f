"""What the HTTP side needs from the node, passed in whole (nothing is patched on later)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from config.clock import Clock
from dialup_sim.phonebook import Address, parse_address
from edi_formats.codec import DeclarationIdentity, WireFormat
from gateway.allowance import SubmissionAllowance
from gateway.chaos import Chaos
from gateway.directory import LocalDirectory
from gateway.http.feed import Feed
from gateway.limits import FullStoreLog
from gateway.logins import LoginChecks
from mailboxes.ledger import Ledger
from mailboxes.registrations import MailboxRequests
from mailboxes.store import Store

__all__ = ["HttpContext", "Identify"]

Identify = Callable[[bytes], Awaitable[tuple[WireFormat | None, DeclarationIdentity]]]
"""Reads a document's format and identity out of the node's process (the analysis pool's
``identify``)."""


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
    peers: tuple[str, ...] = ()
    """The nodes this one relays to (``[topology.peers]``)."""
    token_secret: str | None = None
    """Checks bearer tokens (``http_token_secret``); None: tokens are refused."""
    logins: LoginChecks | None = None
    """The node's login checks, shared with SMTP, POP3 and IMAP (penalty, cache, threads)."""
    modem_control: Address | None = None
    """The modem simulator's control port the chaos switch ``modem`` goes to (None: none)."""
    hostname: str = "localhost"
    """This node's name in the trace of what the API takes (as in the SMTP greeting)."""
    auth_requires_tls: bool = False
    """Passwords and tokens over HTTPS only, as the mail ports take AUTH only after TLS."""
    identify: Identify | None = None
    """Where a submitted document over 64 KiB is identified (``submit._IN_THREAD``; None:
    in a thread, whatever its size)."""
    allowance: SubmissionAllowance | None = None
    """The bytes each agent may submit in a day, shared with SMTP (None: no such bound)."""
    feeds: set[Feed] = field(default_factory=set, init=False)
    """The live feeds open, told when the server is stopping."""
    ledger: Ledger = field(init=False)
    scopes: MailboxRequests = field(init=False)
    store_full: FullStoreLog = field(
        default_factory=lambda: FullStoreLog("API submissions"), init=False
    )
    """How a store without room is told in the log (``gateway.limits``)."""

    def close_feeds(self) -> None:
        for feed in self.feeds:
            feed.stop()

    def __post_init__(self) -> None:
        if self.logins is None:
            self.logins = LoginChecks(self.store, hasher=self.store.hasher)
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
        peers: Collection[str] = (),
        token_secret: str | None = None,
        logins: LoginChecks | None = None,
        modem_control: str | None = None,
        hostname: str = "localhost",
        auth_requires_tls: bool = False,
        identify: Identify | None = None,
        allowance: SubmissionAllowance | None = None,
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
            tuple(sorted(peers)),
            token_secret,
            logins,
            parse_address(modem_control) if modem_control else None,
            hostname,
            auth_requires_tls,
            identify,
            allowance,
        )
