"""Calendar arithmetic for the rules' terms, held at the calendar's ends.

A term runs from a date the broker wrote: an arrival, the end of a discharge, a document's
issue. Python's dates stop at the years 1 and 9999, and a term computed from a date near
either end (a typo: ``0001-01-01``, ``9999-12-31``) raised ``OverflowError`` or
``ValueError`` inside the rule; the declaration was then refused as an internal error of the
customs office, a traceback logged each time. Here such a term ends at the calendar's end,
and the rule answers the date as it would any other.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

__all__ = ["plus_months", "plus_years", "shifted"]


def shifted(day: date, days: int) -> date:
    """``day`` moved by ``days`` calendar days (back when negative)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def plus_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )


def plus_years(start: date, years: int) -> date:
    """The same day ``years`` later (28 February for 29 February in a common year)."""
    return plus_months(start, 12 * years)
