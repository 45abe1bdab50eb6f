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
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, Insert, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

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
from mailboxes.schema import ChannelMonthRow, DeclarationRow, DeclarationStatus
from validators.engine import PERU_TIME, transmission_date

__all__ = ["MonthState", "assign_channel", "month_counts", "previous_month_limit"]


def _month_start(year: int, month: int) -> datetime:
    """The first instant of a Lima calendar month, in UTC."""
    return datetime(year, month, 1, tzinfo=PERU_TIME).astimezone(UTC)


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


async def previous_month_limit(
    session: AsyncSession, office: str, regime: str, year: int, month: int
) -> RedLimit:
    """The red limit of ``office`` for a month, from the month before's numbered count."""
    before_year, before_month = _previous(year, month)
    numbered = await session.scalar(
        select(func.count())
        .select_from(DeclarationRow)
        .where(
            DeclarationRow.office_code == office,
            DeclarationRow.regime == regime,
            DeclarationRow.status == DeclarationStatus.ACCEPTED.value,
            DeclarationRow.received_at >= _month_start(before_year, before_month),
            DeclarationRow.received_at < _month_start(year, month),
        )
    )
    days = calendar.monthrange(before_year, before_month)[1]
    return red_limit(office, int(numbered or 0), days)


def _insert_ignoring_twin(session: AsyncSession) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the dialect of the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(ChannelMonthRow).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(ChannelMonthRow).on_conflict_do_nothing()
    return insert(ChannelMonthRow)


def _key(office: str, year: int, month: int, regime: str) -> tuple[ColumnElement[bool], ...]:
    return (
        ChannelMonthRow.office_code == office,
        ChannelMonthRow.year == year,
        ChannelMonthRow.month == month,
        ChannelMonthRow.regime == regime,
    )


async def _take_month(
    session: AsyncSession, office: str, year: int, month: int, regime: str
) -> tuple[RedLimit, MonthCounts]:
    """Count one more numbered declaration and lock the month's row; its limit and counts
    before this declaration."""
    take = (
        update(ChannelMonthRow)
        .where(*_key(office, year, month, regime))
        .values(numbered=ChannelMonthRow.numbered + 1)
        .returning(ChannelMonthRow.red_limit, ChannelMonthRow.base, ChannelMonthRow.red)
    )
    row = (await session.execute(take)).one_or_none()
    if row is None:
        limit = await previous_month_limit(session, office, regime, year, month)
        await session.execute(
            _insert_ignoring_twin(session).values(
                office_code=office,
                year=year,
                month=month,
                regime=regime,
                red_limit=limit.encode(),
                numbered=0,
                base=0,
                red=0,
                mandatory_red=0,
            )
        )
        row = (await session.execute(take)).one()
    return RedLimit.decode(row.red_limit), MonthCounts(base=row.base, red=row.red)


async def _count(
    session: AsyncSession,
    office: str,
    year: int,
    month: int,
    regime: str,
    decision: ChannelDecision,
) -> None:
    red = decision.channel is Channel.ROJO
    if decision.in_percentage:
        values = {
            "base": ChannelMonthRow.base + 1,
            "red": ChannelMonthRow.red + (1 if red else 0),
        }
    elif red:
        values = {"mandatory_red": ChannelMonthRow.mandatory_red + 1}
    else:
        return
    await session.execute(
        update(ChannelMonthRow).where(*_key(office, year, month, regime)).values(**values)
    )


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
    session = answering.session
    regime = declaration.regime
    limit, counts = await _take_month(session, office, as_of.year, as_of.month, regime)
    decision = select_channel(
        declaration,
        office=office,
        number=number,
        seed=seed,
        as_of=as_of,
        reference=reference,
        quota=(limit, counts),
    )
    await _count(session, office, as_of.year, as_of.month, regime, decision)
    return decision


@dataclass(frozen=True, slots=True)
class MonthState:
    """An office's month as the store has it (for operators and tests)."""

    limit: RedLimit
    numbered: int
    counts: MonthCounts
    mandatory_red: int


async def month_counts(
    session: AsyncSession, office: str, year: int, month: int, regime: str
) -> MonthState | None:
    """An office's month of one regime as the store has it; None before its first number."""
    row = (
        await session.execute(
            select(
                ChannelMonthRow.red_limit,
                ChannelMonthRow.numbered,
                ChannelMonthRow.base,
                ChannelMonthRow.red,
                ChannelMonthRow.mandatory_red,
            ).where(*_key(office, year, month, regime))
        )
    ).one_or_none()
    if row is None:
        return None
    return MonthState(
        limit=RedLimit.decode(row.red_limit),
        numbered=row.numbered,
        counts=MonthCounts(base=row.base, red=row.red),
        mandatory_red=row.mandatory_red,
    )
