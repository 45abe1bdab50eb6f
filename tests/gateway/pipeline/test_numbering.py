"""Declaration numbers: their format, their year, and the end of a year's series."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.pipeline.numbering import take_number
from mailboxes.jobs import JobQueue
from mailboxes.schema import DeclarationCounterRow
from mailboxes.store import Store
from validators.policy.numbering import (
    MAX_CORRELATIVE,
    DeclarationNumber,
    NumberingExhausted,
    numbering_year,
)


def test_the_number_reads_office_year_regime_correlative():
    number = DeclarationNumber("118", 1997, "10", 42)
    assert str(number) == "118-1997-10-000042"
    assert DeclarationNumber.parse("118-1997-10-000042") == number
    with pytest.raises(ValueError, match="not a declaration number"):
        DeclarationNumber.parse("118-97-10-42")


def test_the_year_is_the_lima_calendar_year():
    assert numbering_year(datetime(1998, 1, 1, 4, 59, tzinfo=UTC)) == 1997
    assert numbering_year(datetime(1998, 1, 1, 5, 0, tzinfo=UTC)) == 1998


async def test_numbers_follow_each_other_per_series(store: Store):
    when = datetime(1997, 3, 3, 15, 0, tzinfo=UTC)
    taken = await JobQueue(store).answer(
        when,
        lambda answering: [
            str(take_number(answering, office="118", received_at=when, regime=regime))
            for regime in ("10", "10", "40", "10")
        ],
    )
    assert taken == [
        "118-1997-10-000001",
        "118-1997-10-000002",
        "118-1997-40-000001",
        "118-1997-10-000003",
    ]


async def test_a_full_series_refuses_a_seventh_digit(store: Store):
    when = datetime(1997, 3, 3, 15, 0, tzinfo=UTC)
    async with store.database.write_session() as session, session.begin():
        session.add(
            DeclarationCounterRow(office_code="118", year=1997, regime="10", last=MAX_CORRELATIVE)
        )
    with pytest.raises(NumberingExhausted):
        await JobQueue(store).answer(
            when,
            lambda answering: take_number(answering, office="118", received_at=when, regime="10"),
        )
