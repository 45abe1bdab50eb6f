"""Pickup from a fake ISP (a second node playing the ISP) over IMAP and POP3."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.settings import Settings
from config.topology import PickupSource
from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from gateway.pickup.worker import envelope_sender
from mailboxes.jobs import JobQueue
from tests.conftest import FAST_HASHER
from tests.gateway.pipeline.helpers import AS_OF, flat, submission
from tests.gateway.topology.conftest import HQ, Cluster
from tests.gateway.topology.helpers import wait_for_mail
from validators.samples import sample_declaration

AGENT = DEMO_AGENTS[0]
PISCO_INTAKE = "aduana-127@aduanas.gob.pe"
ISP_IMAP_BOX = "casilla-teledespacho@isp.pe"
ISP_POP3_BOX = "asociacion@agentes.pe"
ISP_PASSWORD = "clave-del-isp"


def dua(reference: str) -> bytes:
    declaration = sample_declaration(
        "dua", office="127", agent_code=AGENT.agent_code, as_of=AS_OF, reference=reference
    )
    return submission(
        flat(declaration), sender=AGENT.address, to=PISCO_INTAKE, message_id=f"<{reference}@isp>"
    )


@pytest.fixture
async def isp(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    settings = Settings(
        node_name="isp",
        data_dir=tmp_path / "isp",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        smtps_port=None,
        pop3s_port=None,
        imaps_port=None,
    )
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start()
    assert node.store is not None
    for box in (ISP_IMAP_BOX, ISP_POP3_BOX):
        await node.store.create_account(box, ISP_PASSWORD, role="agent", agent_code=box[:8])
    try:
        yield node
    finally:
        await node.stop()


def sources(isp: Node) -> list[PickupSource]:
    common = {"host": "127.0.0.1", "password": ISP_PASSWORD, "deliver_to": PISCO_INTAKE}
    return [
        PickupSource.model_validate(
            {"name": "isp-imap", "protocol": "imap", "port": isp.port("imap"), "user": ISP_IMAP_BOX}
            | common
        ),
        PickupSource.model_validate(
            {"name": "isp-pop3", "protocol": "pop3", "port": isp.port("pop3"), "user": ISP_POP3_BOX}
            | common
        ),
    ]


def test_the_envelope_sender_is_the_return_path_or_the_from() -> None:
    assert envelope_sender(b"From: Agente <AGENTE1@agencias.pe>\r\n\r\nx") == "agente1@agencias.pe"
    assert envelope_sender(b"Return-Path: <a@b.pe>\r\nFrom: c@d.pe\r\n\r\nx") == "a@b.pe"
    assert envelope_sender(b"Subject: nadie\r\n\r\nx") == ""


async def test_each_message_is_imported_once_across_passes_and_restarts(
    cluster: Cluster, isp: Node
) -> None:
    assert isp.store is not None
    await isp.store.deliver(AGENT.address, [ISP_IMAP_BOX], dua("ISP-1"))
    await isp.store.deliver(AGENT.address, [ISP_IMAP_BOX], dua("ISP-2"))
    await isp.store.deliver(AGENT.address, [ISP_POP3_BOX], dua("ISP-3"))
    cluster.pickup[HQ] = sources(isp)
    await cluster.stop(HQ)
    hq = await cluster.start(HQ)  # its pickup makes a first pass at once, in the background
    assert hq.pickup is not None and hq.store is not None
    await hq.pickup.run_once()  # a second pass, perhaps concurrent with the first
    assert len(await hq.store.list_messages(PISCO_INTAKE, "Recibidos")) == 3

    await cluster.stop(HQ)
    hq = await cluster.start(HQ)
    assert hq.pickup is not None and hq.store is not None
    assert await hq.pickup.run_once() == 0

    await isp.store.deliver(AGENT.address, [ISP_IMAP_BOX], dua("ISP-4"))
    assert await hq.pickup.run_once() == 1
    assert await hq.pickup.run_once() == 0
    assert len(await hq.store.list_messages(PISCO_INTAKE, "Recibidos")) == 4
    # Imported into the same intake as SMTP: numbered, and answered to the agent.
    replies = await wait_for_mail(hq, AGENT.address, count=4)
    assert sorted(str(reply["Subject"]).split()[0] for reply in replies) == ["ACEPTADA"] * 4
    assert await JobQueue(hq.store).pending_ids() == []
    # The messages stay at the ISP (the records, not deletions, prevent a second import).
    assert len(await isp.store.list_messages(ISP_IMAP_BOX)) == 3


async def test_a_source_with_senders_takes_only_their_mail(cluster: Cluster, isp: Node) -> None:
    assert isp.store is not None
    impostor = DEMO_AGENTS[1].address  # forges nothing: just not one of the source's senders
    await isp.store.deliver(AGENT.address, [ISP_IMAP_BOX], dua("LISTED-1"))
    forged = dua("NOT-LISTED-1").replace(
        f"From: {AGENT.address}".encode(), f"From: {impostor}".encode()
    )
    assert f"From: {impostor}".encode() in forged
    await isp.store.deliver(impostor, [ISP_IMAP_BOX], forged)
    [imap_source, _] = sources(isp)
    cluster.pickup[HQ] = [imap_source.model_copy(update={"senders": frozenset({AGENT.address})})]
    await cluster.stop(HQ)
    hq = await cluster.start(HQ)
    assert hq.pickup is not None and hq.store is not None
    await hq.pickup.run_once()

    [taken] = await hq.store.list_messages(PISCO_INTAKE, "Recibidos")
    raw = await hq.store.read_message(PISCO_INTAKE, "Recibidos", taken.uid)
    assert b"LISTED-1" in raw
    assert await hq.pickup.run_once() == 0  # the other one is not looked at again
    assert len(await isp.store.list_messages(ISP_IMAP_BOX)) == 2  # and stays at the ISP
