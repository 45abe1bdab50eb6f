"""A node killed (SIGKILL) three times in the middle of a long queue loses no declaration.

Before, jobs were claimed 32 at a time, each claim counting an attempt, and nothing of a batch
committed until all of it did: three kills during one batch turned every valid declaration of
it into an "error de la aduana" answer. Now a kill costs no job an attempt.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.clock import SystemClock
from gateway.demo import DEMO_AGENTS
from gateway.directory import INTAKE_FOLDER
from mailboxes.records import Recipient
from mailboxes.schema import DeclarationRow, DeclarationStatus, IntakeJobRow, JobState
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.gateway.pipeline.helpers import flat, submission
from tests.postgres import fresh_database_url
from validators.engine import transmission_date
from validators.samples import sample_declaration

pytestmark = pytest.mark.slow

OFFICE = "aduana-118@aduanas.gob.pe"
PER_AGENT = 120
"""Enough that three kills, each as soon as a few more are answered, never find the queue
empty: a node answering 400 a second once answered all of 80 before the third."""
FAST_ENV = {"TELEDISPATCH_ARGON2_MEMORY_KIB": "8", "TELEDISPATCH_ARGON2_TIME_COST": "1"}


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'teledespacho.db'}"
    return await fresh_database_url()


@pytest.fixture
async def queued(database_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    """A store holding every declaration of both demo agents, acknowledged and not answered."""
    (tmp_path / "data").mkdir()
    store = await Store.open(database_url, clock=SystemClock(), hasher=FAST_HASHER)
    as_of = transmission_date(SystemClock().now())
    try:
        for index in range(PER_AGENT):
            for agent in DEMO_AGENTS:
                declaration = sample_declaration(
                    "dua", as_of=as_of, agent_code=agent.agent_code, reference=f"K-{index}"
                )
                raw = submission(
                    flat(declaration),
                    sender=agent.address,
                    message_id=f"<k-{agent.agent_code}-{index}@agencias.pe>",
                )
                await store.deliver(
                    agent.address, [Recipient(OFFICE, INTAKE_FOLDER, intake_office="118")], raw
                )
        yield store
    finally:
        await store.close()


def serve(data_dir: Path, database_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable, "-m", "gateway", "serve", "--demo", "--data-dir", str(data_dir),
                "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0",
                "--pipeline-workers", "2",
            ],
            env={**os.environ, **FAST_ENV, "TELEDISPATCH_DATABASE_URL": database_url},
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


async def answered(store: Store) -> int:
    async with store.database.read_session() as session:
        done = await session.scalar(
            select(func.count(IntakeJobRow.id)).where(IntakeJobRow.state != JobState.PENDING.value)
        )
    return int(done or 0)


def output(log: Path) -> str:
    return log.read_text(errors="replace")


async def until(
    condition: Callable[[], Awaitable[bool]], node: subprocess.Popen[bytes], log: Path
) -> None:
    """Poll ``condition`` until it holds (the store's state: another process writes it);
    fail if the node exits first."""
    async with asyncio.timeout(60):
        while not await condition():
            assert node.poll() is None, output(log)
            await asyncio.sleep(0.02)


async def test_three_kills_mid_queue_lose_no_declaration_and_cost_no_attempt(
    queued: Store, database_url: str, tmp_path: Path
) -> None:
    store, total, log = queued, PER_AGENT * len(DEMO_AGENTS), tmp_path / "node.log"
    for _ in range(3):
        before = await answered(store)
        node = serve(tmp_path / "data", database_url, log)
        try:  # a few more answered, and more still waiting: kill it in the middle

            async def progressed(before: int = before) -> bool:
                return await answered(store) > before

            await until(progressed, node, log)
        finally:
            node.send_signal(signal.SIGKILL)
            node.wait()
        assert await answered(store) < total, "the queue ran out before the kill"

    node = serve(tmp_path / "data", database_url, log)
    try:

        async def finished() -> bool:
            return await answered(store) == total

        await until(finished, node, log)
    finally:
        node.send_signal(signal.SIGTERM)
        assert node.wait(30) == 0, output(log)

    async with store.database.read_session() as session:
        jobs = list(await session.execute(select(IntakeJobRow.state, IntakeJobRow.attempts)))
        answers = list(await session.execute(select(DeclarationRow.status, DeclarationRow.number)))
    assert set(jobs) == {(JobState.DONE.value, 0)}  # no job lost an attempt to the kills
    assert {status for status, _ in answers} == {DeclarationStatus.ACCEPTED.value}
    correlatives = sorted(int(str(number).rsplit("-", 1)[1]) for _, number in answers)
    assert correlatives == list(range(1, total + 1))  # each once, no gap
    for agent in DEMO_AGENTS:
        replies = [
            await store.read_message(agent.address, "INBOX", info.uid)
            for info in await store.list_messages(agent.address)
        ]
        assert len(replies) == PER_AGENT  # one answer per declaration, none twice
        assert not any(b"X-Teledespacho-Error" in reply for reply in replies)
        assert all(b"X-Teledespacho-Status: accepted" in reply for reply in replies)
