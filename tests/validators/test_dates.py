"""Terms computed from dates near the calendar's ends stay within it."""

from __future__ import annotations

from datetime import date

import pytest

from validators.dates import plus_months, plus_years, shifted


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        (date(2025, 3, 10), -15, date(2025, 2, 23)),
        (date(2025, 3, 10), 30, date(2025, 4, 9)),
        (date(1, 1, 5), -15, date.min),
        (date(9999, 12, 25), 30, date.max),
        (date.min, 0, date.min),
    ],
)
def test_shifted(day: date, days: int, expected: date) -> None:
    assert shifted(day, days) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2025, 11, 15), 2, date(2026, 1, 15)),
        (date(9999, 9, 1), 6, date.max),
        (date(1, 3, 1), -6, date.min),
    ],
)
def test_plus_months(start: date, months: int, expected: date) -> None:
    assert plus_months(start, months) == expected


def test_plus_years_keeps_the_day_or_the_months_last() -> None:
    assert plus_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert plus_years(date(2024, 3, 3), 1) == date(2025, 3, 3)
    assert plus_years(date(9999, 1, 1), 1) == date.max
