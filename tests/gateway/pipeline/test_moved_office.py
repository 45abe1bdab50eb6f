"""A job committed after its office's numbering was handed to another node is forwarded there.

The window: an SMTP RCPT accepted just before the old node reloaded the registry, its DATA
committed just after the old node sent its counters away. Numbering it here would repeat a
number the new node gives too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from config import OfficeRegistry
from config.clock import FixedClock
from gateway.pipeline import PipelineWorker
from mailboxes.routing import LOCAL_ONLY, Routes
from mailboxes.schema import IntakeJobRow, JobState, OfficeHandoverRow, RelayRow
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.gateway.pipeline.helpers import (
    AGENT,
    DOMAIN,
    declaration,
    flat,
    mailbox,
    submission,
    submit,
)

PISCO_INTAKE = f"aduana-127@{DOMAIN}"


@dataclass(frozen=True)
class PiscoElsewhere:
    """A routing snapshot in which Pisco's office lives on its own node, ``pisco``."""

    held_offices: frozenset[str] = frozenset()

    def remote_node(self, address: str) -> str | None:
        return "pisco" if address == PISCO_INTAKE else None


@dataclass
class MovableRouting:
    """The routing the store is given; an office move replaces its snapshot."""

    current: Routes = LOCAL_ONLY.current


@pytest.fixture
def routing() -> MovableRouting:
    return MovableRouting()


@pytest.fixture
async def store(
    database_url: str, clock: FixedClock, routing: MovableRouting
) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, clock=clock, hasher=FAST_HASHER, routing=routing)
    try:
        yield opened
    finally:
        await opened.close()


def _pisco_lives_on_its_own_node(store: Store) -> None:
    assert isinstance(store.routing, MovableRouting)
    store.routing.current = PiscoElsewhere()


async def _handover(store: Store, clock: FixedClock, direction: str, serial: int) -> None:
    async with store.database.write_session() as session, session.begin():
        session.add(
            OfficeHandoverRow(
                office_code="127",
                serial=serial,
                direction=direction,
                from_node="sede-central" if direction == "sent" else "pisco",
                to_node="pisco" if direction == "sent" else "sede-central",
                at=clock.now(),
            )
        )


async def test_a_late_job_is_relayed_to_the_new_node_not_numbered(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    worker = PipelineWorker(accounts, offices=offices, clock=clock, domain=DOMAIN)
    _pisco_lives_on_its_own_node(accounts)
    await _handover(accounts, clock, "sent", 1)
    raw = submission(flat(declaration(reference="TARDE-1")))
    job_id = await submit(accounts, raw, office="127")

    await worker.run_until_idle()

    assert await mailbox(accounts, AGENT) == []  # no answer from here
    async with accounts.database.read_session() as session:
        [relay] = (await session.scalars(select(RelayRow))).all()
        job = await session.get(IntakeJobRow, job_id)
    assert (relay.recipient, relay.node, relay.sender) == (PISCO_INTAKE, "pisco", AGENT)
    assert relay.content_id == job.content_id  # the submission as received
    assert job.state == JobState.DONE.value


async def test_jobs_in_hand_before_the_handover_finish_here(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    # The move is decided (the registry says Pisco lives elsewhere) but the counters are
    # not handed over yet: what was received here is answered here (seed 000).
    worker = PipelineWorker(accounts, offices=offices, clock=clock, domain=DOMAIN)
    _pisco_lives_on_its_own_node(accounts)
    await submit(accounts, submission(flat(declaration(reference="A-TIEMPO-1"))), office="127")

    await worker.run_until_idle()

    assert len(await mailbox(accounts, AGENT)) == 1
    async with accounts.database.read_session() as session:
        assert (await session.scalars(select(RelayRow))).all() == []


async def test_an_office_that_came_back_is_answered_here_again(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    worker = PipelineWorker(accounts, offices=offices, clock=clock, domain=DOMAIN)
    await _handover(accounts, clock, "sent", 1)
    await _handover(accounts, clock, "received", 2)  # moved away, then back
    await submit(accounts, submission(flat(declaration(reference="VUELTA-1"))), office="127")

    await worker.run_until_idle()

    assert len(await mailbox(accounts, AGENT)) == 1
