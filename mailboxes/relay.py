"""The store side of the relay queue: take due messages, then settle each one.

A message is taken with a lease (its next attempt moved ``lease`` ahead, in the claiming
transaction, skipping rows another process holds on PostgreSQL): a sender that dies
mid-attempt leaves the row to be retried when the lease runs out, and two relay workers on
one database never send the same row at the same time.

Each operation is one unit of work (``Database.run``), its statements built once here: a
claim or a settlement is one hand-off to the database thread on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, select, update

from mailboxes.schema import MessageContentRow, RelayRow, UTCDateTime
from mailboxes.store import Store, drop_orphans

__all__ = ["RelayItem", "RelayQueue"]

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class RelayItem:
    id: int
    sender: str
    recipient: str
    node: str
    attempts: int
    """Attempts made before this one."""
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    raw: bytes = b""


_relay = RelayRow.__table__

_DUE = (
    select(_relay, MessageContentRow.raw)
    .join(MessageContentRow, MessageContentRow.id == RelayRow.content_id)
    .where(RelayRow.next_attempt_at <= bindparam("now"))
    .order_by(RelayRow.next_attempt_at, RelayRow.id)
    .limit(bindparam("limit"))
    .with_for_update(of=_relay, skip_locked=True)
)

_LEASE = (
    update(RelayRow)
    .where(RelayRow.id.in_(bindparam("ids", expanding=True)))
    .values(next_attempt_at=bindparam("until", type_=UTCDateTime))
)

_PENDING = select(_relay).order_by(RelayRow.id)

_RETRY = (
    update(RelayRow)
    .where(RelayRow.id == bindparam("item"))
    .values(
        attempts=RelayRow.attempts + 1,
        next_attempt_at=bindparam("when", type_=UTCDateTime),
        last_error=bindparam("error"),
    )
)

_REMOVE = delete(RelayRow).where(RelayRow.id == bindparam("item")).returning(RelayRow.content_id)


class RelayQueue:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def take_due(
        self, now: datetime, *, lease: timedelta, limit: int = 50
    ) -> list[RelayItem]:
        """Up to ``limit`` messages due at ``now``, oldest first, each leased for ``lease``."""
        return await self._store.database.run(
            partial(_take_due, now, now + lease, limit), write=True
        )

    async def pending(self) -> list[RelayItem]:
        """Every queued message (without its bytes), for operators and tests."""
        return await self._store.database.run(_pending)

    async def retry_at(self, item_id: int, when: datetime, error: str) -> None:
        """The attempt failed for a while: count it and try again at ``when``."""
        parameters = {"item": item_id, "when": when, "error": error[:MAX_ERROR_LENGTH]}

        def retry(connection: Connection) -> None:
            connection.execute(_RETRY, parameters)

        await self._store.database.run(retry, write=True)

    async def remove(self, item_id: int) -> None:
        """Delivered to the peer, or given up: forget it (and its bytes if nothing else
        holds them)."""
        await self._store.database.run(partial(_remove, item_id), write=True)


def _take_due(
    now: datetime, until: datetime, limit: int, connection: Connection
) -> list[RelayItem]:
    rows = connection.execute(_DUE, {"now": now, "limit": limit}).all()
    if rows:
        connection.execute(_LEASE, {"ids": [row.id for row in rows], "until": until})
    return [_item(row, bytes(row.raw), leased_until=until) for row in rows]


def _pending(connection: Connection) -> list[RelayItem]:
    return [_item(row) for row in connection.execute(_PENDING)]


def _remove(item_id: int, connection: Connection) -> None:
    content_id = connection.execute(_REMOVE, {"item": item_id}).scalar()
    if content_id is not None:
        drop_orphans(connection, [content_id])


def _item(row: Row[Any], raw: bytes = b"", *, leased_until: datetime | None = None) -> RelayItem:
    return RelayItem(
        id=row.id,
        sender=row.sender,
        recipient=row.recipient,
        node=row.node,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if leased_until is None else leased_until,
        last_error=row.last_error,
        raw=raw,
    )
