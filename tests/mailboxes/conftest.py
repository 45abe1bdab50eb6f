"""The store tests run on both backends: SQLite (the default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config.clock import FixedClock
from mailboxes.store import Store
from tests.backends import database_url, store
from tests.conftest import FAST_HASHER
from tests.mailboxes.test_database import hand_offs
from tests.postgres import fresh_database_url

__all__ = ["database_url", "hand_offs", "postgres_store", "store"]


@pytest.fixture
async def postgres_store(clock: FixedClock) -> AsyncIterator[Store]:
    """A store on PostgreSQL only, for what only PostgreSQL does (its one-statement writes)."""
    store = await Store.open(await fresh_database_url(), clock=clock, hasher=FAST_HASHER)
    try:
        yield store
    finally:
        await store.close()
