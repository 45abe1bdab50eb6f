"""The store tests run on both backends: SQLite (the default) and PostgreSQL."""

from __future__ import annotations

from tests.backends import database_url, store

__all__ = ["database_url", "store"]
