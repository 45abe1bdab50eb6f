"""Change notices between processes that share one PostgreSQL database (LISTEN/NOTIFY).

``Store.subscribe`` listeners hear about commits made through their own ``Store``. When
several nodes or workers share a PostgreSQL database, an IMAP session in one process must
still wake when another process delivers to its mailbox, and a pipeline worker must see jobs
queued elsewhere. Each store publishes its changes on a channel after the commit and
listens on that channel for the others' (its own notices, recognised by origin, are
dropped: its listeners already heard them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sqlalchemy.engine import make_url

from mailboxes.records import Change

__all__ = ["CHANNEL", "ChangeFeed", "decode_change", "encode_change", "merged"]

log = logging.getLogger(__name__)

CHANNEL = "teledespacho_changes"
MAX_PAYLOAD = 7000
"""PostgreSQL refuses notices of 8000 bytes or more; larger changes are sent in parts."""


def encode_change(origin: str, change: Change) -> list[str]:
    """The notice payloads for ``change`` (JSON), each under ``MAX_PAYLOAD`` bytes."""
    payloads: list[str] = []
    mailboxes = sorted(change.mailboxes)
    jobs = list(change.job_ids)
    while True:
        part: dict[str, Any] = {
            "origin": origin,
            "mailboxes": [],
            "jobs": [],
            "relayed": change.relayed,
        }
        while mailboxes or jobs:
            if mailboxes:
                part["mailboxes"].append(list(mailboxes[0]))
            else:
                part["jobs"].append(jobs[0])
            if len(json.dumps(part).encode()) > MAX_PAYLOAD and (
                len(part["mailboxes"]) + len(part["jobs"]) > 1
            ):
                (part["mailboxes"] if mailboxes else part["jobs"]).pop()
                break
            if mailboxes:
                mailboxes.pop(0)
            else:
                jobs.pop(0)
        payloads.append(json.dumps(part))
        if not mailboxes and not jobs:
            return payloads


def decode_change(payload: str) -> tuple[str, Change]:
    """The origin and change of a notice (``ValueError`` if it is not one of ours)."""
    try:
        data = json.loads(payload)
        origin = str(data["origin"])
        mailboxes = frozenset((str(owner), str(folder)) for owner, folder in data["mailboxes"])
        jobs = tuple(int(job) for job in data["jobs"])
        relayed = bool(data.get("relayed", False))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a change notice: {payload[:80]!r}") from exc
    return origin, Change(mailboxes, jobs, relayed)


def merged(changes: Sequence[Change]) -> Change:
    """One change that names what they all name, their jobs in order."""
    return Change(
        frozenset().union(*(change.mailboxes for change in changes)),
        tuple(job for change in changes for job in change.job_ids),
        any(change.relayed for change in changes),
    )


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeFeed:
    """One connection that publishes this store's changes and hears the other stores'."""

    def __init__(self, url: str, on_remote: Callable[[Change], None]) -> None:
        self._dsn = _dsn(url)
        self._on_remote = on_remote
        self.origin = uuid.uuid4().hex
        self._connection: Any = None
        self._waiting: list[Change] = []
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._connection = await asyncpg.connect(self._dsn)
        await self._connection.add_listener(CHANNEL, self._received)

    def publish(self, change: Change) -> None:
        """Send ``change`` in the background (called after the commit, from sync code).

        Changes published while a notice is on its way wait for it and go together, as
        one: under load a node commits faster than it can notify, and each notice is a
        round trip, a commit on the server and a notice heard by every store listening,
        this one included. Listeners lose nothing by it: a notice says which mailboxes and
        jobs to look at, not what happened to them.
        """
        if self._connection is None:
            return
        self._waiting.append(change)  # merged when sent: once, however long the wait
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_waiting())

    async def _send_waiting(self) -> None:
        try:
            while self._waiting and self._connection is not None:
                changes, self._waiting = self._waiting, []
                try:
                    for payload in encode_change(self.origin, merged(changes)):
                        await self._connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                except Exception:
                    log.exception("cannot publish a change notice")
        finally:
            self._sender = None

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            origin, change = decode_change(payload)
        except ValueError:
            log.warning("ignoring a notice on %s that is not a change", CHANNEL)
            return
        if origin != self.origin:
            self._on_remote(change)

    async def close(self) -> None:
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
