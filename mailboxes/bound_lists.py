"""``column IN (list)`` with the list bound as one parameter where the backend takes one.

On PostgreSQL, ``uid IN ($2, $3, ... $501)`` is a statement of 500 parameters, and once its
plan is cached as a generic one (after a few runs, as prepared statements are) the planner
cannot see the values: on a mailbox whose statistics still said it was small it chose the
``(mailbox_id, modseq)`` index and compared every message of the mailbox with the 500
values, 280 ms a statement where the ``(mailbox_id, uid)`` index takes half a millisecond
(a ``STORE 1:*`` of 50 000 messages took 30 s). ``uid = ANY($2)``, one array, is planned
on that index whatever the statistics say, and is one statement for every length. SQLite
has no arrays: it gets the expanding ``IN`` list SQLAlchemy renders for each length.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["one_of"]


class one_of(FunctionElement[bool]):  # noqa: N801 - an SQL construct, named as SQLAlchemy's are
    """``one_of(column, "name")``: ``column`` is one of the integers bound as ``name``."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, column: ColumnElement[int] | InstrumentedAttribute[int], name: str) -> None:
        super().__init__(column, bindparam(name, type_=ARRAY(BigInteger)))


def _parts(element: one_of) -> tuple[Any, Any]:
    column, bound = element.clauses.clauses
    return column, bound


@compiles(one_of)
def _expanding_in(element: one_of, compiler: SQLCompiler, **kw: Any) -> str:
    column, bound = _parts(element)
    return compiler.process(column.in_(bindparam(bound.key, expanding=True)), **kw)


@compiles(one_of, "postgresql")
def _any_array(element: one_of, compiler: SQLCompiler, **kw: Any) -> str:
    column, bound = _parts(element)
    return compiler.process(column == any_(bound), **kw)
