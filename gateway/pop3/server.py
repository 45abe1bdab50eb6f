"""The asyncio adapter around ``Pop3Session``: sockets, the store and maildrop locks.

Thin on purpose: read bytes, feed the core, answer its requests from the store, write what
it produced. Store failures become the core's ``-ERR [SYS/TEMP]`` replies; anything
unexpected is logged and the peer gets only the generic ``SERVER_ERROR`` line, never the
exception text. The loop clock is used for one thing: the idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
from collections.abc import Iterator
from typing import Final

from gateway.pop3 import replies
from gateway.pop3.apop import apop_digest_matches, make_greeting_timestamp
from gateway.pop3.events import (
    ApopRequested,
    AuthRequested,
    ConnectionClosed,
    Event,
    MessageRequested,
    NeedData,
    UpdateRequested,
)
from gateway.pop3.locks import MaildropLocks
from gateway.pop3.maildrop import StoredListing
from gateway.pop3.session import DEFAULT_MAX_AUTH_FAILURES, DEFAULT_MAX_BAD_COMMANDS, Pop3Session
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.store import Store

__all__ = ["DEFAULT_IDLE_TIMEOUT", "Pop3Server", "start_pop3_server"]

log = logging.getLogger(__name__)

#: RFC 1939 section 3: an autologout timer "of at least 10 minutes".
DEFAULT_IDLE_TIMEOUT: Final = 600.0
FOLDER: Final = "INBOX"
READ_CHUNK: Final = 4096


class Pop3Server:
    """Serves POP3 on the store; owns the maildrop locks and the live connections."""

    def __init__(
        self,
        store: Store,
        *,
        greeting_name: str,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_bad_commands: int = DEFAULT_MAX_BAD_COMMANDS,
        max_auth_failures: int = DEFAULT_MAX_AUTH_FAILURES,
    ) -> None:
        make_greeting_timestamp(0, 0, "check", greeting_name)  # fail now on a bad name
        if idle_timeout <= 0:
            raise ValueError("the idle timeout must be positive")
        self.store = store
        self.greeting_name = greeting_name
        self.idle_timeout = idle_timeout
        self.max_bad_commands = max_bad_commands
        self.max_auth_failures = max_auth_failures
        self.locks = MaildropLocks()
        self._greetings = itertools.count(1)
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._server: asyncio.Server | None = None

    async def start(self, *, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port`` (port 0: any free port) in the running loop."""
        self._server = await asyncio.start_server(self._handle, host=host, port=port)
        return self._server

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Stop listening and end every session as if its client had hung up.

        Sessions get EOF, so none enters UPDATE (their deletions are not applied); one busy
        in a store call finishes that call first. After ``grace`` seconds stragglers are
        cancelled.
        """
        if self._server is not None:
            self._server.close()
        connections = dict(self._connections)
        for connection in connections.values():
            connection.hang_up()
        if connections:
            _, pending = await asyncio.wait(connections, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def new_session(self) -> Pop3Session:
        timestamp = make_greeting_timestamp(
            os.getpid(), next(self._greetings), secrets.token_hex(6), self.greeting_name
        )
        return Pop3Session(
            greeting_timestamp=timestamp,
            max_bad_commands=self.max_bad_commands,
            max_auth_failures=self.max_auth_failures,
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None:  # asyncio runs every stream callback in a task of its own
            raise RuntimeError("POP3 connection handler called outside a task")
        connection = _Connection(self, reader, writer)
        self._connections[task] = connection
        try:
            await connection.run()
        except asyncio.CancelledError:
            # Only aclose() cancels a connection (after its grace period); re-raising would
            # make asyncio's stream callback log it as an unhandled error.
            log.info("POP3 %s session cancelled at shutdown", connection.peer)
        finally:
            del self._connections[task]


class _Connection:
    """One client: drives its ``Pop3Session`` and holds its maildrop lock."""

    def __init__(
        self, server: Pop3Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.store = server.store
        self.reader = reader
        self.writer = writer
        self.peer = writer.get_extra_info("peername")
        self.session = server.new_session()
        self.maildrop: str | None = None  # the address whose lock this connection holds

    async def run(self) -> None:
        log.debug("POP3 connection from %s", self.peer)
        try:
            await self._serve()
        except TimeoutError:
            # RFC 1939 section 3: on autologout, close without a reply and without UPDATE.
            log.info("POP3 %s idle for %ss, closing", self.peer, self.server.idle_timeout)
        except ConnectionError as exc:
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
        while True:
            await self._flush()  # greeting, or the answer to the last request
            event = session.next_event()
            if isinstance(event, NeedData):
                await self._flush()  # replies to the commands just processed
                async with asyncio.timeout(self.server.idle_timeout):
                    data = await self.reader.read(READ_CHUNK)
                session.receive_data(data)
            elif isinstance(event, ConnectionClosed):
                await self._flush()
                return
            else:
                await self._answer(event)

    async def _flush(self) -> None:
        data = self.session.data_to_send()
        if data:
            self.writer.write(data)
            async with asyncio.timeout(self.server.idle_timeout):
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
        except _StoreFailed:
            log.exception("POP3 %s store failure", self.peer)
            self.session.request_failed()

    async def _user_pass(self, event: AuthRequested) -> None:
        with _store_failures():
            account = await self.store.authenticate(event.user, event.password)
        if account is None:
            log.info("POP3 %s login failed for %r", self.peer, event.user)
            self.session.auth_rejected()
        else:
            await self._open_maildrop(account.address)

    async def _apop(self, event: ApopRequested) -> None:
        try:
            address = normalize_address(event.user)
        except InvalidAddress:
            self.session.auth_rejected()
            return
        with _store_failures():
            secret = await self.store.apop_secret(address)
        if secret is None or not apop_digest_matches(event.timestamp, secret, event.digest):
            log.info("POP3 %s APOP failed for %r", self.peer, event.user)
            self.session.auth_rejected()
        else:
            await self._open_maildrop(address)

    async def _open_maildrop(self, address: str) -> None:
        if not self.server.locks.acquire(address):
            log.info("POP3 %s maildrop %s is in use", self.peer, address)
            self.session.maildrop_in_use()
            return
        self.maildrop = address
        try:
            with _store_failures():
                listing = await self.store.maildrop(address, FOLDER)
        except _StoreFailed:
            self.server.locks.release(address)
            self.maildrop = None
            raise
        log.info("POP3 %s logged in as %s (%d messages)", self.peer, address, len(listing.uids))
        self.session.auth_succeeded(
            StoredListing(listing.uid_validity, listing.uids, listing.sizes)
        )

    async def _read_message(self, uid: int) -> None:
        address = self._locked_maildrop()
        try:
            with _store_failures(KeyError):
                raw = await self.store.read_message(address, FOLDER, uid)
        except KeyError:
            self.session.message_gone()
        else:
            self.session.message_supplied(raw)

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
