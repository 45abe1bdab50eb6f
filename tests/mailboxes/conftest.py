"""The store tests run on both backends: SQLite (the default) and PostgreSQL."""

from __future__ import annotations

from tests.backends import database_url, store
from tests.mailboxes.test_database import hand_offs

__all__ = ["database_url", "hand_offs", "store"]
