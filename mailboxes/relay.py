"""The store side of the relay queue: take due messages, then settle each one.

A message is taken with a lease (its next attempt moved ``lease`` ahead, in the claiming
transaction, skipping rows another process holds on PostgreSQL): a sender that dies
mid-attempt leaves the row to be retried when the lease runs out, and two relay workers on
one database never send the same row at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from mailboxes.schema import MessageContentRow, RelayRow
from mailboxes.store import Store

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


class RelayQueue:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def take_due(
        self, now: datetime, *, lease: timedelta, limit: int = 50
    ) -> list[RelayItem]:
        """Up to ``limit`` messages due at ``now``, oldest first, each leased for ``lease``."""
        async with self._store.database.write_session() as session, session.begin():
            rows = (
                await session.execute(
                    select(RelayRow, MessageContentRow.raw)
                    .join(MessageContentRow, MessageContentRow.id == RelayRow.content_id)
                    .where(RelayRow.next_attempt_at <= now)
                    .order_by(RelayRow.next_attempt_at, RelayRow.id)
                    .limit(limit)
                    .with_for_update(of=RelayRow, skip_locked=True)
                )
            ).all()
            if not rows:
                return []
            await session.execute(
                update(RelayRow)
                .where(RelayRow.id.in_([row.id for row, _ in rows]))
                .values(next_attempt_at=now + lease)
            )
            return [_item(row, bytes(raw)) for row, raw in rows]

    async def pending(self) -> list[RelayItem]:
        """Every queued message (without its bytes), for operators and tests."""
        async with self._store.database.read_session() as session:
            rows = await session.scalars(select(RelayRow).order_by(RelayRow.id))
            return [_item(row) for row in rows]

    async def retry_at(self, item_id: int, when: datetime, error: str) -> None:
        """The attempt failed for a while: count it and try again at ``when``."""
        async with self._store.database.write_session() as session, session.begin():
            await session.execute(
                update(RelayRow)
                .where(RelayRow.id == item_id)
                .values(
                    attempts=RelayRow.attempts + 1,
                    next_attempt_at=when,
                    last_error=error[:MAX_ERROR_LENGTH],
                )
            )

    async def remove(self, item_id: int) -> None:
        """Delivered to the peer, or given up: forget it (and its bytes if nothing else
        holds them)."""
        async with self._store.database.write_session() as session, session.begin():
            content_id = await session.scalar(
                delete(RelayRow).where(RelayRow.id == item_id).returning(RelayRow.content_id)
            )
            if content_id is not None:
                await self._store.drop_orphans(session, [content_id])


def _item(row: RelayRow, raw: bytes = b"") -> RelayItem:
    return RelayItem(
        id=row.id,
        sender=row.sender,
        recipient=row.recipient,
        node=row.node,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        raw=raw,
    )
