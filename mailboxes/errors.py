"""The store's failures, named for the servers that catch them.

Servers answer a store failure with their protocol's temporary-failure code; they need to
know that the store failed, not which database library it uses.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

__all__ = ["AlreadyStored", "StoreError"]

StoreError = SQLAlchemyError
"""Any failure of the database under the store (unreachable, locked, a failed statement)."""

AlreadyStored = IntegrityError
"""A row another transaction wrote first (e.g. a message picked up by another process)."""
