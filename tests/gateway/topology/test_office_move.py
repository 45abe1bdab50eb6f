"""Moving Pisco from Headquarters to its own node while declarations are in process."""

from __future__ import annotations

import asyncio
import re

from config.offices import OfficeMode, load_offices
from gateway.cli import main
from gateway.demo import DEMO_AGENTS
from mailboxes.jobs import JobQueue
from tests.gateway.pipeline.helpers import AS_OF, flat, submission
from tests.gateway.topology.conftest import HQ, PISCO, Cluster
from tests.gateway.topology.helpers import eventually, send, wait_for_mail
from validators.samples import sample_declaration

AGENT = DEMO_AGENTS[0]
PISCO_INTAKE = "aduana-127@aduanas.gob.pe"
NUMBER = re.compile(r"127-2026-10-(\d{6})")


def dua(reference: str) -> bytes:
    return submission(
        flat(
            sample_declaration(
                "dua", office="127", agent_code=AGENT.agent_code, as_of=AS_OF, reference=reference
            )
        ),
        sender=AGENT.address,
        to=PISCO_INTAKE,
        message_id=f"<{reference}@agencias.pe>",
    )


async def test_moving_pisco_mid_stream_loses_repeats_and_skips_nothing(cluster: Cluster) -> None:
    hq = cluster[HQ]
    assert hq.worker is not None and hq.moves is not None and hq.store is not None
    await hq.worker.stop()  # three declarations are "in process" at HQ when the move comes
    for n in (1, 2, 3):
        await send(hq, AGENT.address, PISCO_INTAKE, dua(f"PISCO-{n}"))
    assert len(await JobQueue(hq.store).pending_ids()) == 3

    status = main(
        ["office", "move", "127", "--to", PISCO, "--offices-file", str(cluster.offices_file)]
    )
    assert status == 0
    moved = load_offices(cluster.offices_file)["127"]
    assert (moved.node, moved.mode, moved.moved_from) == (PISCO, OfficeMode.DECENTRALIZED, HQ)

    pisco = await cluster.start(PISCO)
    assert pisco.store is not None and pisco.store.routing.current.held_offices == {"127"}
    await hq.moves.refresh()  # (it also notices by itself within a second)
    for n in (4, 5, 6):  # new mail for Pisco now goes to the Pisco node, and waits there
        await send(hq, AGENT.address, PISCO_INTAKE, dua(f"PISCO-{n}"))
    pisco_queue = JobQueue(pisco.store)
    store = pisco.store

    async def three_arrived() -> bool:
        return len(await store.pending_jobs()) == 3

    await eventually(store, three_arrived)
    assert await pisco_queue.pending_ids() == []  # held: numbering not handed over yet
    assert await hq.store.list_messages(AGENT.address) == []

    await hq.worker.start()  # HQ finishes what it received, then hands the numbering over
    replies = await wait_for_mail(hq, AGENT.address, count=6)
    numbers = {}
    for reply in replies:
        text = reply.get_body().get_content()
        (reference,) = re.findall(r"PISCO-\d", text) or [str(reply["Subject"])]
        found = NUMBER.search(text)
        assert found, text
        numbers[reference] = int(found.group(1))
    assert sorted(numbers.values()) == [1, 2, 3, 4, 5, 6]
    assert {numbers[f"PISCO-{n}"] for n in (1, 2, 3)} == {1, 2, 3}  # at HQ, as received
    await asyncio.sleep(0.2)
    assert len(await hq.store.list_messages(AGENT.address)) == 6  # and nothing twice
    assert await pisco.store.pending_jobs() == []
    assert await JobQueue(hq.store).pending_ids() == []
