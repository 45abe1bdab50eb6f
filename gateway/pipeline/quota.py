"""The month's red-channel counts per office, kept in the store (CH-ASSIGN's quota).

Runs inside the answering transaction (``mailboxes.jobs.Answering``) right after the number
is taken, so the count and the number commit together or not at all. The month's row is
locked for the rest of the transaction by the ``UPDATE ... RETURNING`` that reads it: on
PostgreSQL a second worker numbering at the same office waits there until the first commits,
then sees its count; on SQLite the answering transaction already holds the only writer. The
row is created by the month's first declaration with an insert that ignores a concurrent
twin, and with its red limit fixed from the previous month's numbered declarations (read from
``declarations``: 004 VII.A.45 c depends on last month's daily average).

Months are Lima calendar months of the receipt, like the numbering year.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from config.reference import ReferenceData
from edi_formats.models import DUA, OE
from edi_formats.responses import Channel
from gateway.pipeline.channels import (
    ChannelDecision,
    MonthCounts,
    RedLimit,
    red_limit,
    select_channel,
    shares_apply,
)
from mailboxes.jobs import Answering
from mailboxes.ledgers import MonthKey
from mailboxes.store import Store
from validators.engine import PERU_TIME, transmission_date

__all__ = ["MonthState", "assign_channel", "limit_for", "month_counts", "previous_month"]


def _month_start(year: int, month: int) -> datetime:
    """The first instant of a Lima calendar month, in UTC."""
    return datetime(year, month, 1, tzinfo=PERU_TIME).astimezone(UTC)


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def previous_month(year: int, month: int) -> tuple[datetime, datetime]:
    """The month before, as [start, end) instants."""
    before_year, before_month = _previous(year, month)
    return _month_start(before_year, before_month), _month_start(year, month)


def limit_for(office: str, year: int, month: int) -> Callable[[int], str]:
    """The red limit of ``office`` for a month, from the month before's numbered count
    (004 VII.A.45 c: last month's daily average), as the store keeps it."""
    before_year, before_month = _previous(year, month)
    days = calendar.monthrange(before_year, before_month)[1]
    return lambda numbered: red_limit(office, numbered, days).encode()


async def assign_channel(
    answering: Answering,
    declaration: DUA | OE,
    *,
    office: str,
    received_at: datetime,
    number: str,
    seed: bytes,
    reference: ReferenceData,
) -> ChannelDecision:
    """The channel of a declaration being numbered, counted in the office's month."""
    as_of: date = transmission_date(received_at)
    if not shares_apply(declaration, reference, office, as_of):
        return select_channel(
            declaration, office=office, number=number, seed=seed, as_of=as_of, reference=reference
        )
    key = MonthKey(office, as_of.year, as_of.month, declaration.regime)
    month = await answering.take_channel_month(
        key,
        previous=previous_month(as_of.year, as_of.month),
        limit_from=limit_for(office, as_of.year, as_of.month),
    )
    decision = select_channel(
        declaration,
        office=office,
        number=number,
        seed=seed,
        as_of=as_of,
        reference=reference,
        quota=(RedLimit.decode(month.red_limit), MonthCounts(base=month.base, red=month.red)),
    )
    red = 1 if decision.channel is Channel.ROJO else 0
    if decision.in_percentage:
        await answering.count_channel(key, base=1, red=red)
    else:
        await answering.count_channel(key, mandatory_red=red)
    return decision


@dataclass(frozen=True, slots=True)
class MonthState:
    """An office's month as the store has it (for operators and tests)."""

    limit: RedLimit
    numbered: int
    counts: MonthCounts
    mandatory_red: int


async def month_counts(
    store: Store, office: str, year: int, month: int, regime: str
) -> MonthState | None:
    """An office's month of one regime as the store has it; None before its first number."""
    row = await store.channel_month(MonthKey(office, year, month, regime))
    if row is None:
        return None
    return MonthState(
        limit=RedLimit.decode(row.red_limit),
        numbered=row.numbered,
        counts=MonthCounts(base=row.base, red=row.red),
        mandatory_red=row.mandatory_red,
    )
