"""A store with an office and two agents, and a pipeline worker on it (not started).

The store is SQLite and then PostgreSQL (``tests.backends``): the declarations suite runs on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import OfficeRegistry, load_offices
from config.clock import FixedClock
from gateway.pipeline import PipelineWorker
from mailboxes.store import Store
from tests.backends import database_url, store
from tests.gateway.pipeline.helpers import (
    AGENT,
    AGENT_CODE,
    DOMAIN,
    OFFICE,
    OTHER_AGENT,
    OTHER_CODE,
)
from tests.mailboxes.test_database import hand_offs

__all__ = ["database_url", "hand_offs", "store"]

PASSWORD = "clave-1997"


@pytest.fixture(scope="session")
def offices() -> OfficeRegistry:
    return load_offices()


@pytest.fixture
async def accounts(store: Store) -> Store:
    await store.create_account(AGENT, PASSWORD, role="agent", agent_code=AGENT_CODE)
    await store.create_account(OTHER_AGENT, PASSWORD, role="agent", agent_code=OTHER_CODE)
    await store.create_account(OFFICE, PASSWORD, role="office", office_code="118")
    return store


@pytest.fixture
async def worker(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> AsyncIterator[PipelineWorker]:
    running = PipelineWorker(accounts, offices=offices, clock=clock, domain=DOMAIN, retry_delay=0.0)
    try:
        yield running
    finally:
        await running.stop()  # its analysis processes
