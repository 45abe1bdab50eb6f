"""The asyncio adapter around ``Pop3Session``: sockets, the store and maildrop locks.

Thin on purpose: read bytes, feed the core, answer its requests from the store, write what
it produced. Store failures become the core's ``-ERR [SYS/TEMP]`` replies; anything
unexpected is logged and the peer gets only the generic ``SERVER_ERROR`` line, never the
exception text. The loop clock is used for one thing: the timeouts (a client has
``login_timeout`` seconds from connecting to log in, however slowly it sends, then
``idle_timeout`` seconds per read). Connections are counted in the node's
``ConnectionLimits``; over the cap the greeting is ``-ERR [SYS/TEMP]`` and a close.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import secrets
import ssl
from collections.abc import Iterator
from typing import Final

from gateway.lane import by_size, serve_as
from gateway.limits import (
    FAILURE_LOG_INTERVAL,
    ConnectionLimits,
    RateLimitedLog,
    peer_address,
    say_and_close,
)
from gateway.logins import LoginChecks, LoginRefused
from gateway.pop3 import replies
from gateway.pop3.apop import apop_digest_matches, make_greeting_timestamp
from gateway.pop3.events import (
    ApopRequested,
    AuthRequested,
    ConnectionClosed,
    Event,
    MessageRequested,
    NeedData,
    StartTlsRequested,
    UpdateRequested,
)
from gateway.pop3.locks import MaildropLocks
from gateway.pop3.maildrop import StoredListing
from gateway.pop3.session import DEFAULT_MAX_AUTH_FAILURES, DEFAULT_MAX_BAD_COMMANDS, Pop3Session
from gateway.tls.handshake import TlsHandshakes, start_tls_server
from gateway.tls.plaintext import drop_buffered
from gateway.turns import Turns
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.store import Store

__all__ = ["DEFAULT_IDLE_TIMEOUT", "Pop3Server", "start_pop3_server"]

log = logging.getLogger(__name__)

#: RFC 1939 section 3: an autologout timer "of at least 10 minutes".
DEFAULT_IDLE_TIMEOUT: Final = 600.0
DEFAULT_LOGIN_TIMEOUT: Final = 60.0
FOLDER: Final = "INBOX"
READ_CHUNK: Final = 4096


class Pop3Server:
    """Serves POP3 on the store; owns the maildrop locks and the live connections.

    With ``tls_context`` STLS is offered (RFC 2595) and ``start_implicit_tls`` opens a port
    that is TLS from the first byte (RFC 8314, port 995's way); both share the maildrop
    locks. ``auth_requires_tls`` refuses USER/PASS and AUTH before TLS; ``apop`` puts the
    APOP timestamp in the greeting.
    """

    def __init__(
        self,
        store: Store,
        *,
        greeting_name: str,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        login_timeout: float = DEFAULT_LOGIN_TIMEOUT,
        max_bad_commands: int = DEFAULT_MAX_BAD_COMMANDS,
        max_auth_failures: int = DEFAULT_MAX_AUTH_FAILURES,
        limits: ConnectionLimits | None = None,
        tls_context: ssl.SSLContext | None = None,
        auth_requires_tls: bool = False,
        apop: bool = False,
        logins: LoginChecks | None = None,
    ) -> None:
        make_greeting_timestamp(0, 0, "check", greeting_name)  # fail now on a bad name
        self.tls_context = tls_context
        self.auth_requires_tls = auth_requires_tls
        self.apop = apop
        if idle_timeout <= 0 or login_timeout <= 0:
            raise ValueError("the timeouts must be positive")
        self.store = store
        self.logins = logins or LoginChecks(store, hasher=store.hasher)
        self.greeting_name = greeting_name
        self.idle_timeout = idle_timeout
        self.login_timeout = login_timeout
        self.limits = limits
        self.max_bad_commands = max_bad_commands
        self.max_auth_failures = max_auth_failures
        self.locks = MaildropLocks()
        self.store_failures = RateLimitedLog(FAILURE_LOG_INTERVAL)
        """One traceback a minute for the store's failures, whichever session meets them."""
        self._greetings = itertools.count(1)
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._server: asyncio.Server | None = None
        self._implicit_server: asyncio.Server | None = None

    async def start(self, *, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port`` (port 0: any free port) in the running loop."""
        self._server = await asyncio.start_server(self._handle, host=host, port=port)
        return self._server

    async def start_implicit_tls(self, *, host: str, port: int) -> asyncio.Server:
        """Also listen where the connection is TLS from the start (``aclose`` ends both)."""
        if self.tls_context is None:
            raise RuntimeError("implicit TLS needs a TLS context")
        handshakes = TlsHandshakes("POP3S", self.tls_context, self.limits, self.login_timeout)
        self._implicit_server = await start_tls_server(
            functools.partial(self._handle, secure=True), handshakes, host=host, port=port
        )
        return self._implicit_server

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Stop listening and end every session as if its client had hung up.

        Sessions get EOF, so none enters UPDATE (their deletions are not applied); one busy
        in a store call finishes that call first. After ``grace`` seconds stragglers are
        cancelled.
        """
        for listener in (self._server, self._implicit_server):
            if listener is not None:
                listener.close()
        connections = dict(self._connections)
        for connection in connections.values():
            connection.hang_up()
        if connections:
            _, pending = await asyncio.wait(connections, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for listener in (self._server, self._implicit_server):
            if listener is not None:
                await listener.wait_closed()

    def new_session(self, *, secure: bool = False) -> Pop3Session:
        """A session for a new connection; ``secure``: it is TLS already (implicit TLS)."""
        timestamp = None
        if self.apop:
            timestamp = make_greeting_timestamp(
                os.getpid(), next(self._greetings), secrets.token_hex(6), self.greeting_name
            )
        return Pop3Session(
            greeting_timestamp=timestamp,
            max_bad_commands=self.max_bad_commands,
            max_auth_failures=self.max_auth_failures,
            tls=self.tls_context is not None,
            secure=secure,
            auth_requires_tls=self.auth_requires_tls,
        )

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, secure: bool = False
    ) -> None:
        task = asyncio.current_task()
        if task is None:  # asyncio runs every stream callback in a task of its own
            raise RuntimeError("POP3 connection handler called outside a task")
        address = peer_address(writer.get_extra_info("peername"))
        if self.limits is not None:
            refusal = self.limits.admit(address)
            if refusal is not None:
                self.limits.log_refusal("POP3", address, refusal, asyncio.get_running_loop().time())
                await say_and_close(writer, replies.too_busy(refusal.value).to_bytes())
                return
        connection = _Connection(self, reader, writer, secure=secure)
        self._connections[task] = connection
        try:
            await connection.run()
        except asyncio.CancelledError:
            # Only aclose() cancels a connection (after its grace period); re-raising would
            # make asyncio's stream callback log it as an unhandled error.
            log.info("POP3 %s session cancelled at shutdown", connection.peer)
        finally:
            del self._connections[task]
            if self.limits is not None:
                self.limits.release(address)


class _Connection:
    """One client: drives its ``Pop3Session`` and holds its maildrop lock."""

    def __init__(
        self,
        server: Pop3Server,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        secure: bool = False,
    ) -> None:
        self.server = server
        self.store = server.store
        self.reader = reader
        self.writer = writer
        self.peer = writer.get_extra_info("peername")
        self.session = server.new_session(secure=secure)
        self.maildrop: str | None = None  # the address whose lock this connection holds
        self.mailbox_id: int | None = None  # its INBOX row, as listed at login
        self._loop = asyncio.get_running_loop()
        self._login_deadline = self._loop.time() + server.login_timeout

    def _deadline(self) -> float:
        """Before login: the login deadline, however slowly bytes come; after: idle time."""
        if self.maildrop is None:
            return self._login_deadline
        return self._loop.time() + self.server.idle_timeout

    async def run(self) -> None:
        log.debug("POP3 connection from %s", self.peer)
        try:
            await self._serve()
        except TimeoutError:
            # RFC 1939 section 3: on autologout, close without a reply and without UPDATE.
            log.info("POP3 %s timed out, closing", self.peer)
        except (ConnectionError, ssl.SSLError) as exc:
            log.info("POP3 %s connection lost: %s", self.peer, exc.__class__.__name__)
        except Exception:
            log.exception("POP3 %s session failed", self.peer)
            with contextlib.suppress(Exception):
                self.writer.write(replies.SERVER_ERROR.to_bytes())
                await asyncio.wait_for(self.writer.drain(), timeout=5)
        finally:
            if self.maildrop is not None:
                self.server.locks.release(self.maildrop)
                self.maildrop = None
            self.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), timeout=5)

    def hang_up(self) -> None:
        """Close the socket under the session: it will see EOF and end without UPDATE."""
        self.writer.transport.abort()

    async def _serve(self) -> None:
        session = self.session
        turns = Turns()  # pipelined commands never wait for the client
        while True:
            await turns.step()
            await self._flush()  # greeting, or the answer to the last request
            event = session.next_event()
            if isinstance(event, NeedData):
                await self._flush()  # replies to the commands just processed
                async with asyncio.timeout_at(self._deadline()):
                    data = await self.reader.read(READ_CHUNK)
                session.receive_data(data)
            elif isinstance(event, ConnectionClosed):
                if event.gave_up is not None:
                    log.info("POP3 %s sent away: %s", self.peer, event.gave_up)
                await self._flush()
                return
            else:
                await self._answer(event)

    async def _flush(self) -> None:
        """What the session wrote, a piece at a time: a large message's next piece is made
        ready once the last is on its way to the client."""
        while data := self.session.data_to_send():
            self.writer.write(data)
            async with asyncio.timeout_at(self._deadline()):
                await self.writer.drain()

    async def _answer(self, event: Event) -> None:
        """Do what the core asked; every store failure becomes ``request_failed()``."""
        try:
            if isinstance(event, AuthRequested):
                await self._user_pass(event)
            elif isinstance(event, ApopRequested):
                await self._apop(event)
            elif isinstance(event, MessageRequested):
                await self._read_message(event.uid)
            elif isinstance(event, UpdateRequested):
                await self._expunge(event.uids)
            elif isinstance(event, StartTlsRequested):
                await self._start_tls()
        except _StoreFailed:
            self.server.store_failures.exception(
                log, asyncio.get_running_loop().time(), "POP3 %s store failure", self.peer
            )
            self.session.request_failed()

    async def _start_tls(self) -> None:
        """Send ``+OK``, then the handshake; a failed one ends the connection (as Dovecot)."""
        assert self.server.tls_context is not None
        await self._flush()
        # The session dropped the plain text it had read after STLS; this drops what the
        # stream holds (gateway.tls.plaintext).
        drop_buffered(self.reader)
        # STLS comes before login: the handshake has what is left of the time to log in
        # (asyncio alone would give it 60 s, whatever login_timeout says).
        async with asyncio.timeout_at(self._deadline()):
            await self.writer.start_tls(self.server.tls_context)
        self.session.tls_started()

    async def _user_pass(self, event: AuthRequested) -> None:
        try:
            with _store_failures(LoginRefused):
                account = await self.server.logins.password(
                    self._client, event.user, event.password
                )
        except LoginRefused:
            self.session.auth_throttled()
            return
        if account is None:
            log.info("POP3 %s login failed for %r", self.peer, event.user)
            self.session.auth_rejected()
        else:
            await self._open_maildrop(account.address)

    async def _apop(self, event: ApopRequested) -> None:
        async def check() -> str | None:
            try:
                address = normalize_address(event.user)
            except InvalidAddress:
                return None
            with _store_failures():
                secret = await self.store.apop_secret(address)
            if secret is None or not apop_digest_matches(event.timestamp, secret, event.digest):
                return None
            return address

        try:
            address = await self.server.logins.attempt(self._client, event.user, check)
        except LoginRefused:
            self.session.auth_throttled()
            return
        if address is None:
            log.info("POP3 %s APOP failed for %r", self.peer, event.user)
            self.session.auth_rejected()
        else:
            await self._open_maildrop(address)

    @property
    def _client(self) -> str | None:
        return self.peer[0] if isinstance(self.peer, tuple) else None

    async def _open_maildrop(self, address: str) -> None:
        if not self.server.locks.acquire(address):
            log.info("POP3 %s maildrop %s is in use", self.peer, address)
            self.session.maildrop_in_use()
            return
        self.maildrop = address
        serve_as(address)  # the connection's work in the lane takes the account's turns
        try:
            with _store_failures():
                listing = await self.store.maildrop(address, FOLDER)
        except _StoreFailed:
            self.server.locks.release(address)
            self.maildrop = None
            raise
        self.mailbox_id = listing.mailbox_id
        log.info("POP3 %s logged in as %s (%d messages)", self.peer, address, len(listing.uids))
        self.session.auth_succeeded(
            StoredListing(listing.uid_validity, listing.uids, listing.sizes)
        )

    async def _read_message(self, uid: int) -> None:
        self._locked_maildrop()
        raw = None
        if self.mailbox_id is not None:  # else the maildrop was empty: nothing to read
            with _store_failures():
                raw = await self.store.read_filed(self.mailbox_id, uid)
        if raw is None:
            self.session.message_gone()
        else:
            # The answer's line ends checked and its dots stuffed, off the loop if large:
            # nothing else touches the session while this step of it runs in the lane.
            await by_size(self.session.message_supplied, raw)

    async def _expunge(self, uids: frozenset[int]) -> None:
        address = self._locked_maildrop()
        with _store_failures():
            await self.store.expunge(address, FOLDER, uids)
        log.info("POP3 %s removed %d messages from %s", self.peer, len(uids), address)
        self.session.update_committed()

    def _locked_maildrop(self) -> str:
        if self.maildrop is None:
            raise RuntimeError("a transaction request without a locked maildrop")
        return self.maildrop


class _StoreFailed(Exception):
    """A store call raised; the original exception is the ``__cause__`` (and is logged)."""


@contextlib.contextmanager
def _store_failures(*passthrough: type[Exception]) -> Iterator[None]:
    """Turn any exception from a store call, except ``passthrough`` ones, into _StoreFailed."""
    try:
        yield
    except passthrough:
        raise
    except Exception as exc:
        raise _StoreFailed from exc


async def start_pop3_server(
    store: Store,
    *,
    host: str,
    port: int,
    greeting_name: str,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
) -> asyncio.Server:
    """Start serving POP3 in the running loop; the caller closes the returned server.

    Use ``Pop3Server`` directly to also end open sessions at shutdown (``aclose``).
    """
    server = Pop3Server(store, greeting_name=greeting_name, idle_timeout=idle_timeout)
    return await server.start(host=host, port=port)
