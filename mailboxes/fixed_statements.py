"""Fixed statements run straight on the driver's cursor, with ready parameter tuples.

Every intake batch and every answering transaction runs the same few statements: inserts,
``max(id)`` reads, a number or a month's row taken, UIDs reserved, answers on file looked up.
Through ``Connection.execute`` each costs SQLAlchemy's execution context, compiled cache
lookup and result set-up, several times what SQLite itself spends on it. Here the SQL is
compiled once per dialect by SQLAlchemy, the values pass the binds' own processors and the
result columns theirs, so what is stored and read is what SQLAlchemy would store and read;
only the way to the driver is shorter. They go to a cursor of the connection's DBAPI
connection, which is what SQLAlchemy itself calls: on SQLite (the ``pysqlite`` driver the
store's connections use) the ``sqlite3`` cursor; on PostgreSQL the cursor of SQLAlchemy's
adapter over asyncpg (which begins the transaction, prepares and caches the statement and
translates asyncpg's errors, as on SQLAlchemy's path). A driver failure is raised as
SQLAlchemy's own error (the servers catch ``StoreError``), and a lost server invalidates
the pool's connections as on SQLAlchemy's path. With another driver, and while
anything listens to a connection's statements, they go through SQLAlchemy as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from sqlalchemy import Connection, Dialect, Select, insert
from sqlalchemy.engine.interfaces import DBAPIModule
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable

from mailboxes.schema import Base, UTCDateTime

__all__ = ["Insert", "execute", "scalar"]


_ON_CURSOR: Final = frozenset({"pysqlite", "asyncpg"})
"""The drivers whose DBAPI cursors take the statements here (the store's two)."""


def _on_cursor(connection: Connection) -> Any | None:
    """The DBAPI connection under ``connection``, or None to go through SQLAlchemy: for a
    driver the store does not use, and while anything listens to the connection's
    statements (events fire on SQLAlchemy's path only)."""
    if connection.dialect.driver not in _ON_CURSOR:
        return None
    if connection._has_events or connection.engine._has_events:
        return None
    return connection.connection.dbapi_connection


def _raise_wrapped(
    connection: Connection, sql: str, parameters: Any, exc: DBAPIModule.Error, cursor: Any
) -> NoReturn:
    """A driver failure as SQLAlchemy raises it (``IntegrityError``, ``OperationalError``...).

    One that says the server is gone (a restart cut the connection) goes through
    SQLAlchemy's own handling, which invalidates the connection and the pool's older ones:
    the next use connects anew instead of failing on them for good. Any other leaves the
    transaction as it is, for the unit of work to carry on or roll back (SQLAlchemy's
    handling would roll back a transaction begun outside it, as ``_Lent``'s are).
    """
    dialect = connection.dialect
    if dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor):
        connection._handle_dbapi_exception(exc, sql, parameters, cursor, None)
    raise DBAPIError.instance(
        sql, parameters, exc, dialect.loaded_dbapi.Error, dialect=dialect
    ) from exc


def _sql(statement: Select[Any], dialect: Dialect) -> str:
    compiled = statement.compile(dialect=dialect)
    assert not compiled.binds, "a fixed statement without parameters"
    return str(compiled.string)


_SCALARS: dict[tuple[int, str, str], tuple[Select[Any], str]] = {}


def scalar(connection: Connection, statement: Select[Any]) -> Any:
    """The first column of the first row of ``statement`` (built once, no parameters and no
    result processing: e.g. a ``max(id)``), or None when there is no row."""
    dialect = connection.dialect
    key = (id(statement), dialect.name, dialect.driver)
    known = _SCALARS.get(key)
    if known is None or known[0] is not statement:
        known = _SCALARS[key] = (statement, _sql(statement, dialect))
    sql = known[1]
    raw = _on_cursor(connection)
    if raw is None:
        return connection.exec_driver_sql(sql).scalar()
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone()
    except connection.dialect.loaded_dbapi.Error as exc:
        _raise_wrapped(connection, sql, (), exc, cursor)
    return None if row is None else row[0]


@dataclass(frozen=True, slots=True)
class _CompiledStatement:
    statement: Executable
    sql: str | None
    """None: a statement SQLAlchemy binds by name here, left to go through it."""
    construct_params: Callable[[dict[str, Any]], dict[str, Any]]
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...] | None
    """The result columns' processors (a stored date read back as one), None if none has."""


_STATEMENTS: dict[tuple[int, str, str], _CompiledStatement] = {}


def execute(
    connection: Connection, statement: Executable, parameters: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of ``statement`` (built once: no expanding parameters), run with
    ``parameters`` as SQLAlchemy would bind them and their columns converted as it would
    convert them (a date); as plain tuples, read by position."""
    raw = _on_cursor(connection)
    if raw is None:
        return _through_sqlalchemy(connection, statement, parameters)
    dialect = connection.dialect
    key = (id(statement), dialect.name, dialect.driver)
    known = _STATEMENTS.get(key)
    if known is None or known.statement is not statement:
        known = _STATEMENTS[key] = _compile_statement(statement, dialect)
    if known.sql is None:
        return _through_sqlalchemy(connection, statement, parameters)
    bound = known.construct_params(parameters)
    values = tuple(
        bound[name] if process is None else process(bound[name])
        for name, process in zip(known.names, known.processors, strict=True)
    )
    cursor = raw.cursor()
    try:
        cursor.execute(known.sql, values)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as exc:
        _raise_wrapped(connection, known.sql, values, exc, cursor)
    if rows and type(rows[0]) is not tuple:  # asyncpg's records: plain tuples, as SQLite's
        rows = [tuple(row) for row in rows]
    results = known.results
    if results is None or not rows:
        return rows
    return [
        tuple(
            value if process is None else process(value)
            for value, process in zip(row, results, strict=True)
        )
        for row in rows
    ]


def _through_sqlalchemy(
    connection: Connection, statement: Executable, parameters: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    result = connection.execute(statement, parameters)
    return result.all() if result.returns_rows else []


def _compile_statement(statement: Executable, dialect: Dialect) -> _CompiledStatement:
    compiled: Any = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    results = tuple(
        column_type.dialect_impl(dialect).result_processor(dialect, None)
        for *_, column_type in compiled._result_columns
    )
    names = tuple(compiled.positiontup or ())
    processors = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect)
        for bind, name in compiled.bind_names.items()
    }
    return _CompiledStatement(
        statement,
        str(compiled.string) if compiled.positional else None,
        compiled.construct_params,
        names,
        tuple(processors.get(name) for name in names),
        results if any(process is not None for process in results) else None,
    )


class Insert:
    """An ``INSERT`` of some columns of a table, compiled once per dialect and run with one
    tuple of values per row (``executemany``).

    Given as dicts to a Core ``insert``, each row went through ``construct_params`` and every
    column's bind processor. Here each column is processed at once for all the rows, and a
    date column converts each distinct value once (a transaction's rows share their dates).
    """

    def __init__(self, table: type[Base], columns: Sequence[str]) -> None:
        self._table = table
        self._columns = tuple(columns)
        self._compiled: dict[tuple[str, str], _CompiledInsert] = {}

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    def run(self, connection: Connection, rows: Sequence[Sequence[object]]) -> None:
        """Insert ``rows`` (each a tuple in the columns' order) with one statement."""
        if not rows:
            return
        dialect = connection.dialect
        compiled = self._compiled.get((dialect.name, dialect.driver))
        if compiled is None:
            compiled = self._compiled[(dialect.name, dialect.driver)] = self._compile(dialect)
        columns: list[Sequence[object]] = list(zip(*rows, strict=True))
        for index, (process, distinct) in compiled.processors.items():
            values = columns[index]
            if distinct:
                converted = {value: process(value) for value in set(values)}
                columns[index] = [converted[value] for value in values]
            else:
                columns[index] = [process(value) for value in values]
        ordered = [columns[index] for index in compiled.order]
        parameters = list(zip(*ordered, strict=True))
        if not compiled.positional:
            names = compiled.names
            connection.exec_driver_sql(
                compiled.sql, [dict(zip(names, row, strict=True)) for row in parameters]
            )
            return
        raw = _on_cursor(connection)
        if raw is not None:
            cursor = raw.cursor()
            try:
                cursor.executemany(compiled.sql, parameters)
            except connection.dialect.loaded_dbapi.Error as exc:
                _raise_wrapped(connection, compiled.sql, parameters, exc, cursor)
        elif len(parameters) == 1:
            connection.exec_driver_sql(compiled.sql, parameters[0])
        else:
            connection.exec_driver_sql(compiled.sql, parameters)

    def _compile(self, dialect: Dialect) -> _CompiledInsert:
        compiled = insert(self._table).compile(dialect=dialect, column_keys=list(self._columns))
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup or ()) if positional else self._columns
        order = tuple(self._columns.index(name) for name in names)
        processors: dict[int, tuple[Callable[[Any], Any], bool]] = {}
        for index, name in enumerate(self._columns):
            column_type = self._table.__table__.c[name].type
            process = column_type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[index] = (process, isinstance(column_type, UTCDateTime))
        return _CompiledInsert(compiled.string, positional, names, order, processors)


@dataclass(frozen=True, slots=True)
class _CompiledInsert:
    sql: str
    positional: bool
    names: tuple[str, ...]
    """The bound columns, in the statement's order."""
    order: tuple[int, ...]
    """For each of ``names``, its index among the ``Insert``'s columns."""
    processors: dict[int, tuple[Callable[[Any], Any], bool]]
    """Bind processors by column index, and whether to convert each distinct value once."""
