"""Reading an outside mailbox for the pickup worker: IMAP (aioimaplib) or POP3
(``gateway.clients.pop3``, in a thread).

Each reader lists the messages with their stable keys (IMAP: UIDVALIDITY and UID; POP3:
the UIDL) and fetches one by key; deciding what is new, and what to do with it, is the
worker's job (``gateway.pickup.worker``).

An outside server is bounded like any client of the node: each step (logging in, the
listing, each message, logging out) has ``io_seconds`` in all, and what it sends is bounded
before it is kept. aioimaplib gives each IMAP command its time; over POP3 a socket's
timeout starts again with every byte, so a server that sent a line every few seconds held a
poll for ever: the socket is shut down when a step's time is up (``_bounded``). Over IMAP,
lines, literals and packets are bounded by ``_BoundedProtocol``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import aioimaplib

from config.topology import PickupSource
from gateway.clients.pop3 import MAX_RESPONSE, Pop3Error, Pop3Session
from gateway.clients.responses import parse_fetch, parse_search, parse_select

__all__ = ["MAX_LINE", "ImapReader", "PickupError", "Pop3Reader", "Reader", "open_reader"]

T = TypeVar("T")

MAX_LINE: Final = 64 * 1024
"""Longest IMAP response line taken from an outside server, its literals apart."""


class PickupError(Exception):
    """The outside mailbox refused us or answered something unusable."""


class _BoundedProtocol(aioimaplib.IMAP4ClientProtocol):  # type: ignore[misc]  # untyped
    """aioimaplib's client protocol, with what the server sends bounded before it is kept.

    aioimaplib keeps a line until its end comes, however long, and a literal of whatever
    size the server announces, and it reads the lines that come together by recursing once a
    line (a packet of thousands of short lines raised ``RecursionError`` in the event loop's
    callback). Past a bound the connection is dropped, and the command in hand fails at once
    with the reason. (Upstream, aioimaplib would take a line limit and a literal limit, and
    read a packet's lines in a loop.)
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, max_literal: int) -> None:
        super().__init__(loop, None)
        self._max_literal = max_literal

    def data_received(self, d: bytes) -> None:
        try:
            super().data_received(d)
        except RecursionError:
            self._refuse("it sent too many response lines at once")
            return
        command = self.current_command
        if len(self.incomplete_line) > MAX_LINE:
            self._refuse(f"it sent a response line longer than {MAX_LINE} bytes")
        elif command is not None and command._expected_size > self._max_literal:
            self._refuse(f"it announced a literal of {command._expected_size} bytes")

    def _refuse(self, why: str) -> None:
        if self.transport is not None:
            self.transport.abort()
        pending = [self.pending_sync_command, *self.pending_async_commands.values()]
        for command in pending:
            if command is not None:
                command._exception = PickupError(why)  # as aioimaplib's own timer does
                command.close(why.encode(), "KO")


class _BoundedImap(aioimaplib.IMAP4):  # type: ignore[misc]  # untyped
    """aioimaplib's client on ``_BoundedProtocol``."""

    def __init__(self, host: str, port: int, timeout: float, max_literal: int) -> None:
        self._max_literal = max_literal
        super().__init__(host=host, port=port, timeout=timeout)

    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: Any = None,
        ssl_context: Any = None,
    ) -> None:
        running = loop if loop is not None else asyncio.get_running_loop()
        protocol = self.protocol = _BoundedProtocol(running, self._max_literal)
        self._client_task = running.create_task(
            running.create_connection(lambda: protocol, host, port, ssl=ssl_context)
        )


@dataclass(frozen=True, slots=True)
class Listing:
    mailbox_key: str
    """UIDVALIDITY of the IMAP folder, or ``pop3``."""
    keys: list[str]


class Reader(Protocol):
    async def listing(self) -> Listing: ...

    async def size(self, key: str) -> int | None:
        """The message's size as the server gives it (None: it does not say)."""
        ...

    async def fetch(self, key: str) -> bytes: ...


class ImapReader:
    def __init__(self, client: Any, source: PickupSource) -> None:
        self._client = client
        self._source = source

    async def listing(self) -> Listing:
        response = await self._client.select(self._source.folder)
        if response.result != "OK":
            raise PickupError(f"cannot select {self._source.folder}")
        validity, _ = parse_select(response.lines)
        if validity is None:
            raise PickupError("the server gave no UIDVALIDITY")
        found = await self._client.uid_search("ALL")
        if found.result != "OK":
            raise PickupError("UID SEARCH failed")
        uids = parse_search(found.lines[:-1])  # the last line is the completion's text
        return Listing(str(validity), [str(uid) for uid in uids])

    async def size(self, key: str) -> int | None:
        response = await self._client.uid("fetch", key, "(RFC822.SIZE)")
        if response.result != "OK":
            raise PickupError(f"cannot fetch the size of UID {key}")
        sizes = [item.size for item in parse_fetch(response.lines) if str(item.uid) == key]
        return sizes[0] if sizes else None

    async def fetch(self, key: str) -> bytes:
        response = await self._client.uid("fetch", key, "(BODY.PEEK[])")
        if response.result != "OK":
            raise PickupError(f"cannot fetch UID {key}")
        for item in parse_fetch(response.lines):
            if str(item.uid) == key and item.literal is not None:
                return item.literal
        raise PickupError(f"UID {key} is gone")


class Pop3Reader:
    def __init__(self, sock: socket.socket, session: Pop3Session, io_seconds: float) -> None:
        self._sock = sock
        self._session = session
        self._io_seconds = io_seconds
        self._numbers: dict[str, int] = {}
        self._sizes: dict[int, int] = {}

    async def listing(self) -> Listing:
        try:
            keys = await _bounded(self._sock, self._io_seconds, self._session.unique_ids)
            sizes = await _bounded(self._sock, self._io_seconds, self._session.scan_listing)
        except Pop3Error as exc:
            raise PickupError(f"UIDL or LIST refused: {exc}") from exc
        self._numbers = {uidl: number for number, uidl in keys.items()}
        self._sizes = dict(sizes)
        return Listing("pop3", list(self._numbers))

    async def size(self, key: str) -> int | None:
        return self._sizes.get(self._numbers[key])

    async def fetch(self, key: str) -> bytes:
        try:
            return await _bounded(
                self._sock, self._io_seconds, self._session.retrieve, self._numbers[key]
            )
        except Pop3Error as exc:
            raise PickupError(f"cannot fetch {key}: {exc}") from exc


async def _bounded(sock: socket.socket, seconds: float, call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` in a thread, within ``seconds`` in all; past them (or cancelled) the
    socket is shut down, so that the thread, still reading, ends too."""
    try:
        async with asyncio.timeout(seconds):
            return await asyncio.to_thread(call, *args)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        raise


@contextlib.asynccontextmanager
async def open_reader(
    source: PickupSource, io_seconds: float, max_message: int = MAX_RESPONSE
) -> AsyncIterator[Reader]:
    """A logged-in reader of ``source``, closed on exit; each of its steps takes at most
    ``io_seconds``, and a message at most ``max_message`` bytes."""
    password = source.password.get_secret_value()
    if source.protocol == "imap":
        client = _BoundedImap(source.host, source.port, io_seconds, max_message)
        try:
            await client.wait_hello_from_server()
            response = await client.login(source.user, password)
            if response.result != "OK":
                raise PickupError(f"login to {source.name} refused")
            yield ImapReader(client, source)
            # A polite end only after a poll that went well: after a failure the session
            # is in no known state, and a server that stopped answering would not answer.
            if not client.protocol.transport.is_closing():
                with contextlib.suppress(Exception):
                    await client.logout()
        finally:
            transport = client.protocol.transport
            if transport is not None:
                transport.abort()
        return

    sock = await asyncio.to_thread(
        socket.create_connection, (source.host, source.port), timeout=io_seconds
    )

    def log_in() -> Pop3Session:
        session = Pop3Session(sock, max_response=max_message)
        try:
            session.login(source.user, password)
        except Pop3Error as exc:
            session.close()
            raise PickupError(f"login to {source.name} refused: {exc}") from exc
        return session

    try:
        session = await _bounded(sock, io_seconds, log_in)
    except BaseException:
        sock.close()
        raise
    try:
        yield Pop3Reader(sock, session, io_seconds)
        with contextlib.suppress(Exception):  # as for IMAP: after a poll that went well
            await _bounded(sock, io_seconds, session.quit)
    finally:
        session.close()
        sock.close()
