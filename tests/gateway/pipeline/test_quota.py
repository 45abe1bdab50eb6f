"""The monthly red share kept in the store: a simulated month, last month's average, and two
workers numbering at the same office at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from config.clock import FixedClock
from config.reference import shipped_reference
from edi_formats.codes import GoodsState
from edi_formats.models import DUA, OE
from edi_formats.responses import Channel
from gateway.pipeline.quota import MonthState, assign_channel, month_counts
from mailboxes.jobs import Answering, JobQueue
from mailboxes.schema import DeclarationRow, IntakeJobRow, MessageContentRow
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.gateway.pipeline.helpers import declaration
from validators.engine import PERU_TIME
from validators.policy.channels import LimitKind, RedLimit

SEED = b"cuota mensual"


def with_first_series(decl: DUA | OE, **changes: Any) -> DUA | OE:
    series = list(decl.series)
    series[0] = series[0].model_copy(update=changes)
    return type(decl).model_validate(decl.model_copy(update={"series": tuple(series)}).model_dump())


PLAIN = declaration()
ARMS = with_first_series(PLAIN, subpartida="9303201000")
USED = with_first_series(PLAIN, state=GoodsState.USED)


def lima(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=PERU_TIME).astimezone(UTC)


async def number_many(
    store: Store,
    office: str,
    items: list[tuple[int, DUA | OE, datetime]],
) -> list[Channel]:
    """Assign the channel of each (correlative, declaration, receipt) in one transaction."""

    def assign_all(answering: Answering) -> list[Channel]:
        channels = []
        for correlative, decl, received in items:
            decision = assign_channel(
                answering,
                decl,
                office=office,
                received_at=received,
                number=f"{office}-{received.year}-10-{correlative:06d}",
                seed=SEED,
                reference=shipped_reference(),
            )
            channels.append(decision.channel)
        return channels

    return await JobQueue(store).answer(items[-1][2], assign_all)


async def counts_of(store: Store, office: str, year: int, month: int) -> MonthState:
    state = await month_counts(store, office, year, month, "10")
    assert state is not None
    return state


async def test_a_month_at_maritime_callao_stays_within_15_percent(store: Store):
    """620 declarations in October 2026, one in ten with arms (always red, outside the share)."""
    plan: list[tuple[int, DUA | OE, datetime]] = []
    for n in range(1, 621):
        decl = ARMS if n % 10 == 0 else (USED if n % 3 == 0 else PLAIN)
        plan.append((n, decl, lima(2026, 10, 1 + (n - 1) // 20)))
    channels: list[Channel] = []
    for start in range(0, len(plan), 62):  # one answering transaction per batch
        channels += await number_many(store, "118", plan[start : start + 62])
    arms = [channel for (n, _, _), channel in zip(plan, channels, strict=True) if n % 10 == 0]
    assert set(arms) == {Channel.ROJO}
    month = await counts_of(store, "118", 2026, 10)
    limit, counts, mandatory = month.limit, month.counts, month.mandatory_red
    assert limit == RedLimit(LimitKind.AT_MOST, Decimal("0.15"))
    assert month.numbered == 620 and mandatory == 62 and counts.base == 558
    tally = Counter(channels)
    assert tally[Channel.ROJO] == counts.red + mandatory
    assert counts.red <= limit.share * counts.base
    assert counts.red > 0.05 * counts.base  # risk selection does send some to red
    assert tally[Channel.VERDE] > 0 and tally[Channel.NARANJA] > 0


async def test_the_share_starts_again_each_month(store: Store):
    await number_many(store, "118", [(n, USED, lima(2026, 10, 31, 12)) for n in range(1, 41)])
    assert len(await number_many(store, "118", [(41, USED, lima(2026, 11, 1, 0))])) == 1
    november = await counts_of(store, "118", 2026, 11)
    assert november.numbered == 1 and november.counts.base == 1
    assert (await counts_of(store, "118", 2026, 10)).numbered == 40


async def _numbered_last_month(store: Store, office: str, count: int, month_start: date) -> None:
    """``count`` accepted declarations of ``office`` spread over the month of ``month_start``."""
    when = lima(month_start.year, month_start.month, month_start.day)
    async with store.database.write_session() as session, session.begin():
        content = (
            await session.execute(
                insert(MessageContentRow)
                .values(raw=b"x", size=1, created_at=when)
                .returning(MessageContentRow.id)
            )
        ).scalar_one()
        job = (
            await session.execute(
                insert(IntakeJobRow)
                .values(
                    content_id=content,
                    office_code=office,
                    sender="agente1@agencias.pe",
                    recipient=f"aduana-{office}@aduanas.gob.pe",
                    state="done",
                    attempts=1,
                    received_at=when,
                )
                .returning(IntakeJobRow.id)
            )
        ).scalar_one()
        if count:
            await session.execute(
                insert(DeclarationRow),
                [
                    {
                        "agent_code": "4821",
                        "agent_reference": f"{office}-R{n}",
                        "document_type": "DUA",
                        "regime": "10",
                        "office_code": office,
                        "status": "accepted",
                        "number": f"{office}-{when.year}-10-{n:06d}",
                        "channel": "verde",
                        "reply_content_id": content,
                        "job_id": job,
                        "received_at": when + timedelta(hours=n % 700),
                        "answered_at": when,
                    }
                    for n in range(1, count + 1)
                ],
            )


async def test_a_busy_office_last_month_is_capped_at_half(store: Store):
    """Arequipa numbered 310 in September (31 days would need 310; September has 30: 10.3 a
    day): October's red share is at most 50 %."""
    await _numbered_last_month(store, "154", 310, date(2026, 9, 1))
    channels = await number_many(
        store, "154", [(n, USED, lima(2026, 10, 2)) for n in range(1, 201)]
    )
    month = await counts_of(store, "154", 2026, 10)
    assert month.limit == RedLimit(LimitKind.AT_MOST, Decimal("0.50"))
    assert Counter(channels)[Channel.ROJO] == month.counts.red <= month.counts.base / 2


async def test_a_quiet_office_sends_more_than_half_to_red(store: Store):
    """Cuzco numbered 40 in September, under 10 a day: more than 50 % of October goes red."""
    await _numbered_last_month(store, "190", 40, date(2026, 9, 1))
    channels = await number_many(
        store, "190", [(n, PLAIN, lima(2026, 10, 2)) for n in range(1, 201)]
    )
    month = await counts_of(store, "190", 2026, 10)
    assert month.limit == RedLimit(LimitKind.MORE_THAN, Decimal("0.50"))
    assert Counter(channels)[Channel.ROJO] == month.counts.red > month.counts.base / 2
    assert Channel.VERDE in channels or Channel.NARANJA in channels


async def test_before_inta_pg01a_no_month_is_counted(store: Store):
    channels = await number_many(store, "118", [(1, PLAIN, lima(2005, 1, 10))])
    assert len(channels) == 1
    assert await month_counts(store, "118", 2005, 1, "10") is None


async def test_two_workers_numbering_at_once_keep_one_count(database_url: str, clock: FixedClock):
    """Two stores (two processes' worth of connections) number at the same office together."""
    first = await Store.open(database_url, clock=clock, hasher=FAST_HASHER)
    second = await Store.open(database_url, clock=clock, hasher=FAST_HASHER, migrate=False)
    try:

        async def worker(store: Store, offset: int) -> list[Channel]:
            out: list[Channel] = []
            for batch in range(10):
                items = [(offset + batch * 10 + k, USED, lima(2026, 10, 5)) for k in range(1, 11)]
                out += await number_many(store, "235", items)
            return out

        a, b = await asyncio.gather(worker(first, 0), worker(second, 1000))
        month = await counts_of(first, "235", 2026, 10)
        assert month.numbered == 200 == month.counts.base
        assert Counter(a + b)[Channel.ROJO] == month.counts.red
        assert month.counts.red <= month.limit.share * month.counts.base
    finally:
        await second.close()
        await first.close()
