"""Several workers on one PostgreSQL database: every job answered once, numbers gap-free."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from config import load_offices
from config.clock import FixedClock
from gateway.pipeline import PipelineWorker
from mailboxes.jobs import JobQueue
from mailboxes.schema import DeclarationRow, DeclarationStatus, IntakeJobRow, JobState
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.gateway.pipeline.helpers import (
    AGENT,
    AGENT_CODE,
    DOMAIN,
    OTHER_AGENT,
    OTHER_CODE,
    declaration,
    flat,
    mailbox,
    submission,
    submit,
)
from tests.postgres import fresh_database_url

JOBS_PER_AGENT = 12


@pytest.fixture
async def shared(clock: FixedClock) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores (two engines and pools, as two nodes would have) on one database."""
    url = await fresh_database_url()
    first = await Store.open(url, clock=clock, hasher=FAST_HASHER)
    second = await Store.open(url, clock=clock, hasher=FAST_HASHER, migrate=False)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_four_workers_share_the_queue_without_gaps_repeats_or_fallback(
    shared: tuple[Store, Store], clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Four workers on two engines race for the first number of a new series: none of
    their batches may collide on it (and fall back to answering one job at a time)."""
    first, second = shared
    await first.create_account(AGENT, "x", role="agent", agent_code=AGENT_CODE)
    await first.create_account(OTHER_AGENT, "x", role="agent", agent_code=OTHER_CODE)
    job_ids = []
    for index in range(JOBS_PER_AGENT):
        for sender, code in ((AGENT, AGENT_CODE), (OTHER_AGENT, OTHER_CODE)):
            raw = submission(
                flat(declaration(reference=f"R-{code}-{index}", agent_code=code)),
                sender=sender,
                message_id=f"<envio-{code}-{index}@agencias.pe>",
            )
            job_ids.append(await submit(first, raw, sender=sender))
    offices = load_offices()
    workers = [
        PipelineWorker(store, offices=offices, clock=clock, domain=DOMAIN, batch_size=3)
        for store in (first, second, first, second)
    ]
    with caplog.at_level(logging.WARNING, logger="gateway.pipeline.worker"):
        await asyncio.gather(*(worker.run_until_idle() for worker in workers))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    async with first.database.read_session() as session:
        states = set(await session.scalars(select(IntakeJobRow.state)))
        answers = list(await session.execute(select(DeclarationRow.status, DeclarationRow.number)))
    assert states == {JobState.DONE.value}
    assert {status for status, _ in answers} == {DeclarationStatus.ACCEPTED.value}
    correlatives = sorted(int(str(number).rsplit("-", 1)[1]) for _, number in answers)
    assert correlatives == list(range(1, len(job_ids) + 1))
    for agent in (AGENT, OTHER_AGENT):
        assert len(await mailbox(second, agent)) == JOBS_PER_AGENT  # one reply per job
    assert await JobQueue(second).pending_ids() == []
