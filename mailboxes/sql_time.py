"""Times the database computes from stored timestamps, written for each backend.

What the console's charts count (declarations per day, channels per month, how long an
answer took) is grouped by the database, so a page costs a few rows whatever the number
of declarations behind it. The timestamps are UTC (``schema.UTCDateTime``): SQLite keeps
them as ``YYYY-MM-DD HH:MM:SS.ffffff`` text, PostgreSQL as ``timestamptz``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["seconds_between", "utc_day", "utc_month"]


class utc_day(FunctionElement[str]):  # noqa: N801 - an SQL function, named as SQLAlchemy's are
    """``YYYY-MM-DD`` of a stored timestamp, in UTC."""

    type = String()
    inherit_cache = True


class utc_month(FunctionElement[str]):  # noqa: N801
    """``YYYY-MM`` of a stored timestamp, in UTC."""

    type = String()
    inherit_cache = True


class seconds_between(FunctionElement[float]):  # noqa: N801
    """Seconds from the first stored timestamp to the second, to the millisecond."""

    type = Float()
    inherit_cache = True


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(argument, **kw) for argument in element.clauses]


@compiles(utc_day, "sqlite")
def _sqlite_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    (stamp,) = _arguments(element, compiler, **kw)
    return f"substr({stamp}, 1, 10)"


@compiles(utc_month, "sqlite")
def _sqlite_month(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    (stamp,) = _arguments(element, compiler, **kw)
    return f"substr({stamp}, 1, 7)"


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    # julianday is a double of days: about 40 µs of rounding at today's dates, so the
    # milliseconds put 30 s back on 30.0 (a bucket's edge is "at most").
    return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)"


@compiles(utc_day, "postgresql")
def _postgresql_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    (stamp,) = _arguments(element, compiler, **kw)
    return f"to_char({stamp} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_month, "postgresql")
def _postgresql_month(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    (stamp,) = _arguments(element, compiler, **kw)
    return f"to_char({stamp} AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(seconds_between, "postgresql")
def _postgresql_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    return f"round(extract(epoch from ({end}) - ({start})), 3)"
