"""The office watcher: IDLE on the office's mailbox and report each accepted declaration.

An office clerk wants to see a declaration the moment the gateway numbers it. The watcher
logs in over IMAP (aioimaplib), selects the folder, and IDLEs (RFC 2177); when the server
announces new messages it fetches only their Teledespacho headers and reports every
acceptance (number, agent, channel). When the server goes away it reconnects with
exponential backoff and carries on from the last UID it reported, so nothing is reported
twice and nothing that arrived meanwhile is missed (unless the UIDVALIDITY changed).

The parsing of what the server sends (``gateway.clients.responses``), the acceptance a
message's headers announce and the backoff schedule are pure functions and values;
``OfficeWatcher`` is the thin asyncio driver around them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from typing import Any, Final, TypeVar

import aioimaplib
from pymap.parsing.modutf7 import modutf7_encode

from config.backoff import Backoff
from gateway.clients.responses import (
    announces_new_messages,
    parse_fetch,
    parse_select,
    says_bye,
    text_of,
)

__all__ = [
    "Acceptance",
    "OfficeWatcher",
    "WatchRefused",
    "acceptance_from_headers",
    "mailbox_argument",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

HEADER_FIELDS: Final = (
    "X-TELEDESPACHO-STATUS",
    "X-TELEDESPACHO-NUMBER",
    "X-TELEDESPACHO-CHANNEL",
    "X-TELEDESPACHO-AGENT",
    "X-TELEDESPACHO-REFERENCE",
)
REIDLE_SECONDS: Final = 25 * 60.0
"""RFC 2177: re-issue IDLE at least every 29 minutes, or servers may log the client off."""


class WatchRefused(Exception):
    """The server refused the login: retrying would not help."""


class _ConnectionLost(Exception):
    """The server closed the connection or stopped answering."""


@dataclass(frozen=True, slots=True)
class Acceptance:
    """An accepted declaration as filed in the office's mailbox."""

    uid: int
    number: str
    agent: str
    channel: str
    reference: str

    def line(self) -> str:
        return (
            f"{self.number}  despachador {self.agent}  canal {self.channel}  ref. {self.reference}"
        )


def acceptance_from_headers(uid: int, headers: bytes) -> Acceptance | None:
    """The acceptance a message announces, or ``None`` if it is not an accepted declaration."""
    parsed = BytesHeaderParser(policy=email.policy.default).parsebytes(headers)
    if str(parsed.get("X-Teledespacho-Status", "")).strip().lower() != "accepted":
        return None
    number = str(parsed.get("X-Teledespacho-Number", "")).strip()
    if not number:
        return None
    return Acceptance(
        uid=uid,
        number=number,
        agent=str(parsed.get("X-Teledespacho-Agent", "")).strip() or "?",
        channel=str(parsed.get("X-Teledespacho-Channel", "")).strip() or "?",
        reference=str(parsed.get("X-Teledespacho-Reference", "")).strip(),
    )


def mailbox_argument(name: str) -> str:
    """A folder name as an IMAP command argument: modified UTF-7, quoted (aioimaplib
    sends arguments as they are, so ``Canal rojo`` would be two arguments)."""
    encoded = modutf7_encode(name).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


Report = Callable[[Acceptance], None]
Status = Callable[[str], None]


class OfficeWatcher:
    """IDLE on one folder and report each new acceptance, reconnecting when needed."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        report: Report,
        status: Status | None = None,
        folder: str = "INBOX",
        show_existing: bool = False,
        backoff: Backoff | None = None,
        timeout: float = 10.0,
        reidle: float = REIDLE_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.report = report
        self.status = status or (lambda message: log.info("%s", message))
        self.folder = folder
        self.show_existing = show_existing
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.reidle = reidle
        self.sleep = sleep
        self.uid_validity: int | None = None
        self.last_uid: int | None = None
        """Highest UID looked at; ``None`` until the first SELECT."""
        self.sessions = 0

    async def run(self) -> None:
        """Watch until cancelled; raises ``WatchRefused`` if the server refuses the login."""
        while True:
            try:
                await self._session()
            except WatchRefused:
                raise
            except (OSError, TimeoutError, _ConnectionLost, aioimaplib.AioImapException) as exc:
                delay = self.backoff.next_delay()
                reason = str(exc) or type(exc).__name__
                self.status(f"sin conexión con {self.host}:{self.port} ({reason}); "
                            f"reintento en {delay:.1f} s")  # fmt: skip
                await self.sleep(delay)

    async def _session(self) -> None:
        lost = asyncio.Event()
        client = aioimaplib.IMAP4(
            self.host, self.port, timeout=self.timeout, conn_lost_cb=lambda _: lost.set()
        )
        try:
            await self._guard(lost, client.wait_hello_from_server())
            response = await self._guard(lost, client.login(self.user, self.password))
            if response.result != "OK":
                raise WatchRefused(f"login refused: {text_of(response.lines)}")
            response = await self._guard(lost, client.select(mailbox_argument(self.folder)))
            if response.result != "OK":
                # A filing folder appears with its first declaration: wait for it.
                raise _ConnectionLost(f"no se puede abrir {self.folder}: {text_of(response.lines)}")
            self._start(*parse_select(response.lines))
            self.sessions += 1
            self.backoff.reset()
            self.status(f"conectado a {self.host}:{self.port}, esperando en {self.folder}")
            await self._report_new(client, lost)
            while True:
                if await self._idle(client, lost):
                    await self._report_new(client, lost)
        finally:
            await _close(client)

    def _start(self, validity: int | None, next_uid: int | None) -> None:
        if self.last_uid is not None and validity == self.uid_validity:
            return  # a reconnection: carry on after the last UID seen
        if self.last_uid is not None:
            self.status("el buzón cambió de UIDVALIDITY: se vuelve a leer")
        self.uid_validity = validity
        if self.show_existing or next_uid is None:
            self.last_uid = 0
        else:
            self.last_uid = next_uid - 1

    async def _idle(self, client: Any, lost: asyncio.Event) -> bool:
        """One IDLE round; whether the server announced something worth a look."""
        idle = await self._guard(lost, client.idle_start(timeout=self.reidle))
        try:
            pushed = await self._guard(lost, client.wait_server_push(timeout=self.reidle + 60))
        finally:
            if client.has_pending_idle():
                client.idle_done()
        await self._guard(lost, asyncio.wait_for(idle, self.timeout))
        lines = pushed if isinstance(pushed, list) else []
        if says_bye(lines):
            raise _ConnectionLost("the server said BYE")
        return announces_new_messages(lines)

    async def _report_new(self, client: Any, lost: asyncio.Event) -> None:
        """Fetch and report what is new, until the server announces nothing more.

        The FETCH goes out with a NOOP right behind it: aioimaplib drops untagged
        responses that do not belong to a pending command, so an EXISTS the server sends
        at the end of the FETCH (a message that arrived meanwhile) lands in the NOOP's
        lines instead of being lost, and one more round picks the message up.
        """
        fields = " ".join(HEADER_FIELDS)
        while True:
            first = (self.last_uid or 0) + 1
            fetch = asyncio.ensure_future(
                client.uid("fetch", f"{first}:*", f"(UID BODY.PEEK[HEADER.FIELDS ({fields})])")
            )
            noop = asyncio.ensure_future(client.noop())
            fetched, nooped = await self._guard(lost, asyncio.gather(fetch, noop))
            if fetched.result != "OK":
                raise _ConnectionLost(f"FETCH failed: {text_of(fetched.lines)}")
            more = announces_new_messages(nooped.lines)
            for item in sorted(parse_fetch(fetched.lines), key=lambda item: item.uid):
                if item.uid < first:
                    continue  # "n:*" always matches the last message, even below n
                if item.literal is None:
                    more = True  # an unsolicited FLAGS update for a message not fetched yet
                    continue
                self.last_uid = max(self.last_uid or 0, item.uid)
                acceptance = acceptance_from_headers(item.uid, item.literal)
                if acceptance is not None:
                    self.report(acceptance)
            if not more:
                return

    @staticmethod
    async def _guard(lost: asyncio.Event, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` unless the connection drops first (aioimaplib would hang)."""
        work = asyncio.ensure_future(awaitable)
        dropped = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait({work, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            dropped.cancel()
        if not work.done():
            work.cancel()
            with contextlib.suppress(BaseException):
                await work
            raise _ConnectionLost("the server closed the connection")
        return work.result()


async def _close(client: Any) -> None:
    """Drop the connection and aioimaplib's background tasks without waiting on the server."""
    protocol = client.protocol
    for task in [*client.tasks, *protocol.tasks]:
        task.cancel()
    connecting = getattr(client, "_client_task", None)
    if connecting is not None and not connecting.done():
        connecting.cancel()
    if protocol.transport is not None:
        protocol.transport.close()
    await asyncio.sleep(0)
