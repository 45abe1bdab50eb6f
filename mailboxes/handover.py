"""The store side of an office move: hand the numbering over, once, in one transaction.

The old node sends its counters for the office only when none of the office's intake jobs
is pending there any more (declarations already received finish on the old node), and
records that it sent them in the same transaction that queues the message for relay. The
new node applies them (a counter only ever moves forward) and records the receipt in one
transaction; until then it holds the office's jobs (``held_offices`` of the routing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, insert, select, update

from mailboxes.schema import (
    DeclarationCounterRow,
    IntakeJobRow,
    JobState,
    MessageContentRow,
    OfficeHandoverRow,
    RelayRow,
)
from mailboxes.store import Change, Store, relay_entry

__all__ = ["CounterValue", "handovers", "receive_handover", "send_handover"]


@dataclass(frozen=True, slots=True)
class CounterValue:
    """The last correlative given for one year and regime of an office."""

    year: int
    regime: str
    last: int


async def handovers(store: Store, direction: Literal["sent", "received"]) -> set[tuple[str, int]]:
    """The (office, move serial) pairs handed over in that direction."""
    async with store.database.read_session() as session:
        rows = await session.execute(
            select(OfficeHandoverRow.office_code, OfficeHandoverRow.serial).where(
                OfficeHandoverRow.direction == direction
            )
        )
        return {(code, serial) for code, serial in rows}


async def send_handover(
    store: Store,
    *,
    office: str,
    serial: int,
    from_node: str,
    to_node: str,
    recipient: str,
    now: datetime,
    render: Callable[[list[CounterValue]], bytes],
) -> bool:
    """Queue the handover for relay if the office's jobs here are all answered.

    Returns whether it was queued (``False``: already sent, or jobs still pending).
    """
    async with store.database.write_session() as session, session.begin():
        sent = await session.scalar(
            select(func.count()).where(
                OfficeHandoverRow.office_code == office,
                OfficeHandoverRow.serial == serial,
                OfficeHandoverRow.direction == "sent",
            )
        )
        pending = await session.scalar(
            select(func.count()).where(
                IntakeJobRow.office_code == office,
                IntakeJobRow.state == JobState.PENDING.value,
            )
        )
        if sent or pending:
            return False
        counters = [
            CounterValue(row.year, row.regime, row.last)
            for row in await session.scalars(
                select(DeclarationCounterRow)
                .where(DeclarationCounterRow.office_code == office)
                .with_for_update()
            )
        ]
        raw = render(counters)
        content_id = (
            await session.execute(
                insert(MessageContentRow)
                .values(raw=raw, size=len(raw), created_at=now)
                .returning(MessageContentRow.id)
            )
        ).scalar_one()
        await session.execute(
            insert(RelayRow).values(**relay_entry(content_id, "", recipient, to_node, now))
        )
        await session.execute(
            insert(OfficeHandoverRow).values(
                office_code=office,
                serial=serial,
                direction="sent",
                from_node=from_node,
                to_node=to_node,
                at=now,
            )
        )
    store.notify(Change(frozenset(), relayed=True))
    return True


async def receive_handover(
    store: Store,
    *,
    office: str,
    serial: int,
    from_node: str,
    to_node: str,
    counters: list[CounterValue],
    now: datetime,
) -> list[int]:
    """Apply a handover once (a repeat is ignored); the office's job ids now free to go."""
    async with store.database.write_session() as session, session.begin():
        seen = await session.scalar(
            select(func.count()).where(
                OfficeHandoverRow.office_code == office,
                OfficeHandoverRow.serial == serial,
                OfficeHandoverRow.direction == "received",
            )
        )
        if not seen:
            for counter in counters:
                key = (
                    DeclarationCounterRow.office_code == office,
                    DeclarationCounterRow.year == counter.year,
                    DeclarationCounterRow.regime == counter.regime,
                )
                current = await session.scalar(
                    select(DeclarationCounterRow.last).where(*key).with_for_update()
                )
                if current is None:
                    await session.execute(
                        insert(DeclarationCounterRow).values(
                            office_code=office,
                            year=counter.year,
                            regime=counter.regime,
                            last=counter.last,
                        )
                    )
                elif current < counter.last:
                    await session.execute(
                        update(DeclarationCounterRow).where(*key).values(last=counter.last)
                    )
            await session.execute(
                insert(OfficeHandoverRow).values(
                    office_code=office,
                    serial=serial,
                    direction="received",
                    from_node=from_node,
                    to_node=to_node,
                    at=now,
                )
            )
        job_ids = list(
            await session.scalars(
                select(IntakeJobRow.id).where(
                    IntakeJobRow.office_code == office,
                    IntakeJobRow.state == JobState.PENDING.value,
                )
            )
        )
    return job_ids
