"""What numbering keeps besides the number: channel months and the import history.

Both are written in the answering transaction (``mailboxes.jobs.Answering`` calls these with
its connection), so they commit with the number or not at all. The pipeline decides (the red
limit, the channel, whether an import is recorded); here are only the statements, built once.

Channel months: the month's row is locked for the rest of the transaction by the
``UPDATE ... RETURNING`` that reads it: on PostgreSQL a second worker numbering at the same
office waits there until the first commits, then sees its count; on SQLite the answering
transaction already holds the only writer. The row is created by the month's first
declaration with an insert that ignores a concurrent twin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Insert, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mailboxes.fixed_statements import execute
from mailboxes.schema import ChannelMonthRow, DeclarationRow, DeclarationStatus, ImportHistoryRow

__all__ = [
    "ChannelMonth",
    "MonthKey",
    "add_to_month",
    "channel_month",
    "count_channel",
    "importer_fobs",
    "numbered_between",
    "record_import",
    "take_month",
]


@dataclass(frozen=True, slots=True)
class MonthKey:
    office: str
    year: int
    month: int
    regime: str


@dataclass(frozen=True, slots=True)
class ChannelMonth:
    """An office's month of one regime: its red limit (as stored) and its counts."""

    red_limit: str
    numbered: int
    base: int
    red: int
    mandatory_red: int


def _key(key: MonthKey) -> dict[str, object]:
    return {
        "k_office": key.office,
        "k_year": key.year,
        "k_month": key.month,
        "k_regime": key.regime,
    }


_OF_KEY = (
    ChannelMonthRow.office_code == bindparam("k_office"),
    ChannelMonthRow.year == bindparam("k_year"),
    ChannelMonthRow.month == bindparam("k_month"),
    ChannelMonthRow.regime == bindparam("k_regime"),
)

_MONTH_COLUMNS = (
    ChannelMonthRow.red_limit,
    ChannelMonthRow.numbered,
    ChannelMonthRow.base,
    ChannelMonthRow.red,
    ChannelMonthRow.mandatory_red,
)

# Built once: the answering transaction runs them for every month it numbers in.
_MONTH = select(*_MONTH_COLUMNS).where(*_OF_KEY)
_TAKE = (
    update(ChannelMonthRow)
    .where(*_OF_KEY)
    .values(numbered=ChannelMonthRow.numbered + 1)
    .returning(*_MONTH_COLUMNS)
)
_ADD = (
    update(ChannelMonthRow)
    .where(*_OF_KEY)
    .values(
        numbered=ChannelMonthRow.numbered + bindparam("add_numbered"),
        base=ChannelMonthRow.base + bindparam("add_base"),
        red=ChannelMonthRow.red + bindparam("add_red"),
        mandatory_red=ChannelMonthRow.mandatory_red + bindparam("add_mandatory_red"),
    )
)
_INSERT_IGNORING_TWIN: dict[str, Insert] = {
    "postgresql": postgresql.insert(ChannelMonthRow).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(ChannelMonthRow).on_conflict_do_nothing(),
}
"""``INSERT ... ON CONFLICT DO NOTHING`` in each dialect."""


def numbered_between(
    connection: Connection, office: str, regime: str, start: datetime, end: datetime
) -> int:
    """Declarations of ``office`` and ``regime`` accepted (numbered) in [start, end)."""
    numbered = connection.scalar(
        select(func.count())
        .select_from(DeclarationRow)
        .where(
            DeclarationRow.office_code == office,
            DeclarationRow.regime == regime,
            DeclarationRow.status == DeclarationStatus.ACCEPTED.value,
            DeclarationRow.received_at >= start,
            DeclarationRow.received_at < end,
        )
    )
    return int(numbered or 0)


def take_month(
    connection: Connection,
    key: MonthKey,
    previous: tuple[datetime, datetime],
    limit_from: Callable[[int], str],
) -> ChannelMonth:
    """Count one more numbered declaration and lock the month's row; the month as it was
    before this declaration. A month's first declaration creates the row, its limit given
    by ``limit_from`` the number of declarations numbered in ``previous`` ([start, end))."""
    where = _key(key)
    found = execute(connection, _TAKE, where)
    row = found[0] if found else None
    if row is None:
        before = numbered_between(connection, key.office, key.regime, *previous)
        connection.execute(
            _INSERT_IGNORING_TWIN.get(connection.dialect.name, insert(ChannelMonthRow)),
            {
                "office_code": key.office,
                "year": key.year,
                "month": key.month,
                "regime": key.regime,
                "red_limit": limit_from(before),
                "numbered": 0,
                "base": 0,
                "red": 0,
                "mandatory_red": 0,
            },
        )
        (row,) = execute(connection, _TAKE, where)
    return ChannelMonth(row[0], row[1] - 1, row[2], row[3], row[4])


def count_channel(
    connection: Connection, key: MonthKey, *, base: int = 0, red: int = 0, mandatory_red: int = 0
) -> None:
    """Add the declaration's channel to the month's counts (its row already locked)."""
    add_to_month(connection, key, base=base, red=red, mandatory_red=mandatory_red)


def add_to_month(
    connection: Connection,
    key: MonthKey,
    *,
    numbered: int = 0,
    base: int = 0,
    red: int = 0,
    mandatory_red: int = 0,
) -> None:
    """Add several declarations to a month at once (its row locked by ``take_month``)."""
    if numbered or base or red or mandatory_red:
        added = {
            "add_numbered": numbered,
            "add_base": base,
            "add_red": red,
            "add_mandatory_red": mandatory_red,
        }
        execute(connection, _ADD, {**_key(key), **added})


def channel_month(connection: Connection, key: MonthKey) -> ChannelMonth | None:
    row = connection.execute(_MONTH, _key(key)).one_or_none()
    return None if row is None else ChannelMonth(*row)


def importer_fobs(connection: Connection, doc_type: str, doc_number: str, year: int) -> list[int]:
    """FOB values (US cents) of an importer's recorded imports of a year, oldest first."""
    cents = connection.scalars(
        _IMPORTER_FOBS, {"doc_type": doc_type, "doc_number": doc_number, "year": year}
    )
    return list(cents)


def record_import(connection: Connection, row: dict[str, object]) -> None:
    connection.execute(insert(ImportHistoryRow), row)


_IMPORTER_FOBS = (
    select(ImportHistoryRow.fob_cents)
    .where(
        ImportHistoryRow.party_doc_type == bindparam("doc_type"),
        ImportHistoryRow.party_doc_number == bindparam("doc_number"),
        ImportHistoryRow.year == bindparam("year"),
    )
    .order_by(ImportHistoryRow.received_at)
)
