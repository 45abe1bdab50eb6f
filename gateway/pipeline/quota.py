"""The month's red-channel counts per office, read and counted in the answering transaction.

The policy (the month's red limit from last month's numbered count, the channel within it,
how a decision counts) is ``validators.policy.channels``; this is the glue that runs it on the
store's month. It runs right after the number is taken, so the count and the number commit
together or not at all. The month's row is locked for the rest of the transaction by the
``UPDATE ... RETURNING`` that reads it (``mailboxes.ledgers.take_month``): on PostgreSQL a
second worker numbering at the same office waits there until the first commits, then sees its
count; on SQLite the answering transaction already holds the only writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from config.reference import ReferenceData
from edi_formats.models import DUA, OE
from mailboxes.jobs import Answering
from mailboxes.ledgers import MonthKey
from mailboxes.store import Store
from validators.context import transmission_date
from validators.policy.channels import (
    ChannelDecision,
    ChannelInputs,
    MonthCounts,
    RedLimit,
    channel_inputs,
    choose_channel,
    counted,
    limit_for,
    month_of,
    previous_month,
)

__all__ = ["MonthState", "assign_channel", "channel_for", "month_counts"]

# Pure functions of a month (and the office), asked again for every declaration numbered:
# the answering transaction keeps each answer instead of recomputing the Lima calendar's
# instants and the month's length (they were a third of ``channel_for``'s time).
_previous_month: Callable[[int, int], tuple[datetime, datetime]] = lru_cache(maxsize=64)(
    previous_month
)
_limit_for: Callable[[str, int, int], Callable[[int], str]] = lru_cache(maxsize=1024)(limit_for)
_red_limit: Callable[[str], RedLimit] = lru_cache(maxsize=1024)(RedLimit.decode)


def channel_for(
    answering: Answering,
    inputs: ChannelInputs,
    *,
    received_at: datetime,
    regime: str,
    number: str,
    seed: bytes,
) -> ChannelDecision:
    """The channel of a declaration being numbered, counted in the office's month."""
    month = month_of(inputs, received_at, regime)
    if month is None:
        return choose_channel(inputs, number=number, seed=seed)
    key = MonthKey(month.office, month.year, month.month, month.regime)
    row = answering.take_channel_month(
        key,
        previous=_previous_month(month.year, month.month),
        limit_from=_limit_for(month.office, month.year, month.month),
    )
    quota = (_red_limit(row.red_limit), MonthCounts(base=row.base, red=row.red))
    decision = choose_channel(inputs, number=number, seed=seed, quota=quota)
    count = counted(decision)
    answering.count_channel(key, base=count.base, red=count.red, mandatory_red=count.mandatory_red)
    return decision


def assign_channel(
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
    inputs = channel_inputs(
        declaration, office=office, as_of=transmission_date(received_at), reference=reference
    )
    return channel_for(
        answering,
        inputs,
        received_at=received_at,
        regime=declaration.regime,
        number=number,
        seed=seed,
    )


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
