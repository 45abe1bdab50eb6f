"""Fixtures that run a test directory's store tests on both backends.

A conftest imports ``database_url`` and ``store`` from here to override the suite's SQLite
``store``: each test then runs once on SQLite (the default backend) and once on PostgreSQL
(skipped where PostgreSQL is not installed, required in CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.postgres import fresh_database_url

__all__ = ["database_url", "store"]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    return await fresh_database_url()


@pytest.fixture
async def store(database_url: str, clock: FixedClock) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, clock=clock, hasher=FAST_HASHER)
    try:
        yield opened
    finally:
        await opened.close()
