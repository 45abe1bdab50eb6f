"""Reading an outside mailbox for the pickup worker: IMAP (aioimaplib) or POP3
(``gateway.clients.pop3``, in a thread).

Each reader lists the messages with their stable keys (IMAP: UIDVALIDITY and UID; POP3:
the UIDL) and fetches one by key; deciding what is new, and what to do with it, is the
worker's job (``gateway.pickup.worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import aioimaplib

from config.topology import PickupSource
from gateway.clients.pop3 import Pop3Error, Pop3Session
from gateway.clients.responses import parse_fetch, parse_search, parse_select

__all__ = ["ImapReader", "PickupError", "Pop3Reader", "Reader", "open_reader"]


class PickupError(Exception):
    """The outside mailbox refused us or answered something unusable."""


@dataclass(frozen=True, slots=True)
class Listing:
    mailbox_key: str
    """UIDVALIDITY of the IMAP folder, or ``pop3``."""
    keys: list[str]


class Reader(Protocol):
    async def listing(self) -> Listing: ...

    async def fetch(self, key: str) -> bytes: ...


class ImapReader:
    def __init__(self, client: Any, source: PickupSource) -> None:
        self._client = client
        self._source = source
        self._listing: Listing | None = None

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

    async def fetch(self, key: str) -> bytes:
        response = await self._client.uid("fetch", key, "(BODY.PEEK[])")
        if response.result != "OK":
            raise PickupError(f"cannot fetch UID {key}")
        for item in parse_fetch(response.lines):
            if str(item.uid) == key and item.literal is not None:
                return item.literal
        raise PickupError(f"UID {key} is gone")


class Pop3Reader:
    def __init__(self, session: Pop3Session) -> None:
        self._session = session
        self._numbers: dict[str, int] = {}

    async def listing(self) -> Listing:
        try:
            keys = await asyncio.to_thread(self._session.unique_ids)
        except Pop3Error as exc:
            raise PickupError(f"UIDL refused: {exc}") from exc
        self._numbers = {uidl: number for number, uidl in keys.items()}
        return Listing("pop3", list(self._numbers))

    async def fetch(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._session.retrieve, self._numbers[key])
        except Pop3Error as exc:
            raise PickupError(f"cannot fetch {key}: {exc}") from exc


@contextlib.asynccontextmanager
async def open_reader(source: PickupSource, io_seconds: float) -> AsyncIterator[Reader]:
    """A logged-in reader of ``source``, closed on exit."""
    password = source.password.get_secret_value()
    if source.protocol == "imap":
        client = aioimaplib.IMAP4(host=source.host, port=source.port, timeout=io_seconds)
        await client.wait_hello_from_server()
        response = await client.login(source.user, password)
        if response.result != "OK":
            with contextlib.suppress(Exception):
                await client.logout()
            raise PickupError(f"login to {source.name} refused")
        try:
            yield ImapReader(client, source)
        finally:
            with contextlib.suppress(Exception):
                await client.logout()
        return

    def connect() -> tuple[socket.socket, Pop3Session]:
        sock = socket.create_connection((source.host, source.port), timeout=io_seconds)
        with contextlib.ExitStack() as undo:  # everything opened here, unless logged in
            undo.callback(sock.close)
            try:
                session = undo.enter_context(Pop3Session(sock))
                session.login(source.user, password)
            except Pop3Error as exc:
                raise PickupError(f"login to {source.name} refused: {exc}") from exc
            undo.pop_all()
        return sock, session

    sock, session = await asyncio.to_thread(connect)
    try:
        yield Pop3Reader(session)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(session.quit)
        session.close()
        sock.close()
