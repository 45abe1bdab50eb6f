"""The store's failures, named for the servers that catch them.

Servers answer a store failure with their protocol's temporary-failure code; they need to
know that the store failed, not which database library it uses.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

__all__ = ["AlreadyStored", "StoreError"]

StoreError: Final = (SQLAlchemyError, OSError)
"""Any failure of the database under the store, for ``except``: a failed statement, a locked
or full database (SQLAlchemy's errors), or a server that cannot be reached (asyncpg raises
the socket's ``OSError`` when it connects, and SQLAlchemy passes it on as it is)."""

AlreadyStored = IntegrityError
"""A row another transaction wrote first (e.g. a message picked up by another process)."""
