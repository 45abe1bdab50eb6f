"""The store's failures, named for the servers that catch them.

Servers answer a store failure with their protocol's temporary-failure code; they need to
know that the store failed, not which database library it uses.
"""

from __future__ import annotations

import errno
from typing import Final

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

__all__ = ["AlreadyStored", "StoreError", "failure_reason", "storage_full", "store_unavailable"]

StoreError: Final = (SQLAlchemyError, OSError)
"""Any failure of the database under the store, for ``except``: a failed statement, a locked
or full database (SQLAlchemy's errors), or a server that cannot be reached (asyncpg raises
the socket's ``OSError`` when it connects, and SQLAlchemy passes it on as it is)."""

AlreadyStored = IntegrityError
"""A row another transaction wrote first (e.g. a message picked up by another process)."""


def store_unavailable(error: BaseException) -> bool:
    """Whether ``error`` is the database's trouble rather than the work's: the server out of
    reach or its connection lost (a restart), the database locked or out of space. Work
    that met it is nobody's fault and may succeed as it is a little later."""
    if isinstance(error, OSError | OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def failure_reason(error: BaseException) -> str:
    """What the database itself said, in one line: the driver's message without SQLAlchemy's
    wrapping, its statement and its link (``file is not a database``)."""
    said = str(getattr(error, "orig", None) or error).strip()
    return said.splitlines()[0] if said else type(error).__name__


_SQLITE_FULL: Final = 13
_POSTGRES_DISK_FULL: Final = "53100"


def storage_full(error: BaseException) -> bool:
    """Whether a database error (wrapped by SQLAlchemy, the driver, or neither) is a full
    disk: SQLite's SQLITE_FULL, PostgreSQL's disk_full, or the OS's ENOSPC."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if getattr(current, "sqlstate", None) == _POSTGRES_DISK_FULL:
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False
