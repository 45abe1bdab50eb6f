"""The store side of an office move: hand the numbering over, once, in one transaction.

The old node sends its counters for the office only when none of the office's intake jobs
is pending there any more (declarations already received finish on the old node), and
records that it sent them in the same transaction that queues the message for relay. The
new node applies them (a counter only ever moves forward) and records the receipt in one
transaction; until then it holds the office's jobs (``held_offices`` of the routing).

Each of these is one unit of work (``Database.run``), its statements built once here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal

from sqlalchemy import Connection, bindparam, func, insert, select, update

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


_HANDOVERS = select(OfficeHandoverRow.office_code, OfficeHandoverRow.serial).where(
    OfficeHandoverRow.direction == bindparam("direction")
)

_RECORDED = select(func.count()).where(
    OfficeHandoverRow.office_code == bindparam("office"),
    OfficeHandoverRow.serial == bindparam("serial"),
    OfficeHandoverRow.direction == bindparam("direction"),
)

_RECORD = insert(OfficeHandoverRow)

_PENDING_JOBS = (
    select(IntakeJobRow.id)
    .where(
        IntakeJobRow.office_code == bindparam("office"),
        IntakeJobRow.state == JobState.PENDING.value,
    )
    .order_by(IntakeJobRow.id)
)

_COUNTERS = (
    select(DeclarationCounterRow.year, DeclarationCounterRow.regime, DeclarationCounterRow.last)
    .where(DeclarationCounterRow.office_code == bindparam("office"))
    .with_for_update()
)

_COUNTER_KEY = (
    DeclarationCounterRow.office_code == bindparam("office"),
    # Not the columns' own names: an UPDATE keeps those for the values it sets.
    DeclarationCounterRow.year == bindparam("counter_year"),
    DeclarationCounterRow.regime == bindparam("counter_regime"),
)

_COUNTER = select(DeclarationCounterRow.last).where(*_COUNTER_KEY).with_for_update()

_NEW_COUNTER = insert(DeclarationCounterRow)

_ADVANCE_COUNTER = (
    update(DeclarationCounterRow).where(*_COUNTER_KEY).values(last=bindparam("last_given"))
)

_CONTENT = insert(MessageContentRow).returning(MessageContentRow.id)

_RELAY = insert(RelayRow)


async def handovers(store: Store, direction: Literal["sent", "received"]) -> set[tuple[str, int]]:
    """The (office, move serial) pairs handed over in that direction."""

    def read(connection: Connection) -> set[tuple[str, int]]:
        rows = connection.execute(_HANDOVERS, {"direction": direction})
        return {(code, serial) for code, serial in rows}

    return await store.database.run(read)


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

    ``render`` composes the message from the counters read (and locked) in the transaction;
    it runs there, in the database thread, so it must be quick and not touch the event loop.
    Returns whether it was queued (``False``: already sent, or jobs still pending).
    """
    record = {
        "office_code": office,
        "serial": serial,
        "direction": "sent",
        "from_node": from_node,
        "to_node": to_node,
        "at": now,
    }

    def send(connection: Connection) -> bool:
        sent = connection.scalar(
            _RECORDED, {"office": office, "serial": serial, "direction": "sent"}
        )
        if sent or connection.execute(_PENDING_JOBS, {"office": office}).first() is not None:
            return False
        counters = [
            CounterValue(row.year, row.regime, row.last)
            for row in connection.execute(_COUNTERS, {"office": office})
        ]
        raw = render(counters)
        content_id = connection.execute(
            _CONTENT, {"raw": raw, "size": len(raw), "created_at": now}
        ).scalar_one()
        connection.execute(_RELAY, relay_entry(content_id, "", recipient, to_node, now))
        connection.execute(_RECORD, record)
        return True

    if not await store.database.run(send, write=True):
        return False
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
    record = {
        "office_code": office,
        "serial": serial,
        "direction": "received",
        "from_node": from_node,
        "to_node": to_node,
        "at": now,
    }
    return await store.database.run(partial(_receive, record, counters), write=True)


def _receive(
    record: dict[str, object], counters: list[CounterValue], connection: Connection
) -> list[int]:
    office = record["office_code"]
    seen = connection.scalar(
        _RECORDED, {"office": office, "serial": record["serial"], "direction": "received"}
    )
    if not seen:
        for counter in counters:
            key = {"office": office, "counter_year": counter.year, "counter_regime": counter.regime}
            current = connection.scalar(_COUNTER, key)
            if current is None:
                connection.execute(
                    _NEW_COUNTER,
                    {
                        "office_code": office,
                        "year": counter.year,
                        "regime": counter.regime,
                        "last": counter.last,
                    },
                )
            elif current < counter.last:
                connection.execute(_ADVANCE_COUNTER, {**key, "last_given": counter.last})
        connection.execute(_RECORD, record)
    return list(connection.scalars(_PENDING_JOBS, {"office": office}))
