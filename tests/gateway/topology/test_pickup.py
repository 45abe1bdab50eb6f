"""Pickup from a fake ISP (a second node playing the ISP) over IMAP and POP3.

The agent keeps its declarations in a folder of its own ISP mailbox (``Teledespacho``): only
it can put mail there, so the node takes everything in it as the agent's. An INBOX, or a
POP3 maildrop, takes mail from anyone: the node leaves it where it is."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.clock import FixedClock
from config.settings import Settings
from config.topology import PickupSource
from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from mailboxes.jobs import JobQueue
from mailboxes.records import Recipient
from tests.conftest import FAST_HASHER
from tests.gateway.pickup.dkim_keys import dns_for, lookup, signed
from tests.gateway.pickup.fakes import fake_server, trickling_imap
from tests.gateway.pipeline.helpers import AS_OF, flat, submission
from tests.gateway.topology.conftest import HQ, Cluster, free_port
from tests.gateway.topology.helpers import wait_for_mail
from tests.logs import told
from validators.samples import sample_declaration

AGENT = DEMO_AGENTS[0]
PISCO_INTAKE = "aduana-127@aduanas.gob.pe"
ISP_IMAP_BOX = "casilla-teledespacho@isp.pe"
ISP_POP3_BOX = "asociacion@agentes.pe"
ISP_PASSWORD = "clave-del-isp"
AGENTS_FOLDER = "Teledespacho"


def dua(reference: str) -> bytes:
    declaration = sample_declaration(
        "dua", office="127", agent_code=AGENT.agent_code, as_of=AS_OF, reference=reference
    )
    return submission(
        flat(declaration), sender=AGENT.address, to=PISCO_INTAKE, message_id=f"<{reference}@isp>"
    )


async def start_isp(tmp_path: Path, clock: FixedClock, *, imap_port: int = 0) -> Node:
    """A second node playing the agents' ISP, with its two mailboxes."""
    settings = Settings(
        node_name="isp",
        data_dir=tmp_path / "isp",
        smtp_port=0,
        pop3_port=0,
        imap_port=imap_port,
        smtps_port=None,
        pop3s_port=None,
        imaps_port=None,
    )
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start()
    assert node.store is not None
    for box in (ISP_IMAP_BOX, ISP_POP3_BOX):
        await node.store.create_account(box, ISP_PASSWORD, role="agent", agent_code=box[:8])
    return node


@pytest.fixture
async def isp(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    node = await start_isp(tmp_path, clock)
    try:
        yield node
    finally:
        await node.stop()


def sources(isp: Node) -> list[PickupSource]:
    return sources_at(isp.port("imap"), isp.port("pop3"))


def sources_at(imap_port: int, pop3_port: int) -> list[PickupSource]:
    common = {"host": "127.0.0.1", "password": ISP_PASSWORD, "deliver_to": PISCO_INTAKE}
    return [
        PickupSource.model_validate(
            {
                "name": "isp-imap",
                "protocol": "imap",
                "port": imap_port,
                "user": ISP_IMAP_BOX,
                "folder": AGENTS_FOLDER,
                "agent": AGENT.address,
            }
            | common
        ),
        PickupSource.model_validate(
            {"name": "isp-pop3", "protocol": "pop3", "port": pop3_port, "user": ISP_POP3_BOX}
            | common
        ),
    ]


async def in_agents_folder(isp: Node, raw: bytes, sender: str = AGENT.address) -> None:
    """What the agent's mail client does: save the declaration in its folder at the ISP."""
    assert isp.store is not None
    await isp.store.deliver(sender, [Recipient(ISP_IMAP_BOX, folder=AGENTS_FOLDER)], raw)


async def test_each_message_is_imported_once_across_passes_and_restarts(
    cluster: Cluster, isp: Node
) -> None:
    assert isp.store is not None
    await in_agents_folder(isp, dua("ISP-1"))
    await in_agents_folder(isp, dua("ISP-2"))
    await isp.store.deliver(AGENT.address, [ISP_POP3_BOX], dua("ISP-3"))  # an INBOX: left
    cluster.pickup[HQ] = sources(isp)
    await cluster.stop(HQ)
    hq = await cluster.start(HQ)  # its pickup makes a first pass at once, in the background
    assert hq.pickup is not None and hq.store is not None
    await hq.pickup.run_once()  # a second pass, perhaps concurrent with the first
    assert len(await hq.store.list_messages(PISCO_INTAKE, "Recibidos")) == 2

    await cluster.stop(HQ)
    hq = await cluster.start(HQ)
    assert hq.pickup is not None and hq.store is not None
    assert await hq.pickup.run_once() == 0

    await in_agents_folder(isp, dua("ISP-4"))
    assert await hq.pickup.run_once() == 1
    assert await hq.pickup.run_once() == 0
    assert len(await hq.store.list_messages(PISCO_INTAKE, "Recibidos")) == 3
    # Imported into the same intake as SMTP: numbered, and answered to the agent.
    replies = await wait_for_mail(hq, AGENT.address, count=3)
    assert sorted(str(reply["Subject"]).split()[0] for reply in replies) == ["ACEPTADA"] * 3
    assert await JobQueue(hq.store).pending_ids() == []
    # The messages stay at the ISP (the records, not deletions, prevent a second import).
    assert len(await isp.store.list_messages(ISP_IMAP_BOX, AGENTS_FOLDER)) == 3
    assert len(await isp.store.list_messages(ISP_POP3_BOX)) == 1


async def test_a_source_down_is_told_once_then_ever_more_rarely_and_when_it_works_again(
    cluster: Cluster, tmp_path: Path, clock: FixedClock
) -> None:
    """The ISP is down for a while: its first failed poll is a warning, the next ones are
    told at the 8th, 16th… in a row, not one warning per poll; the first poll that works
    again says so."""
    imap_port = free_port()  # nothing listens there yet
    source = sources_at(imap_port, free_port())[0].model_copy(update={"poll_seconds": 0.01})
    cluster.pickup[HQ] = [source]
    await cluster.stop(HQ)
    with told("gateway.pickup.worker") as said:
        await cluster.start(HQ)
        await said.said("still fails (9 polls in a row)")
        told_of_it = [r.getMessage() for r in said.at(logging.WARNING)]
        assert len(told_of_it) == 2, told_of_it
        assert told_of_it[0].startswith("pickup from isp-imap failed: ")
        assert told_of_it[0].endswith("; polled again every 0.01 s")
        assert told_of_it[1].startswith("pickup from isp-imap still fails (8 polls in a row): ")
        assert not any(r.exc_info for r in said.records)

        isp = await start_isp(tmp_path, clock, imap_port=imap_port)
        try:
            await in_agents_folder(isp, dua("BACK-1"))
            await said.said("works again after ")
            assert len(await wait_for_mail(cluster[HQ], AGENT.address)) == 1
        finally:
            await isp.stop()


async def test_a_source_that_never_finishes_answering_holds_up_no_other(
    cluster: Cluster, isp: Node
) -> None:
    """The first source answers a line at a time, for ever: the worker's one lock held every
    other source's polls behind it, each step of its poll for the whole time a step may take
    (30 s), poll after poll."""
    await in_agents_folder(isp, dua("ISP-7"))
    async with fake_server(trickling_imap) as port:
        slow = sources_at(port, free_port())[0].model_copy(update={"name": "isp-lenta"})
        cluster.pickup[HQ] = [slow, sources(isp)[0]]
        await cluster.stop(HQ)
        hq = await cluster.start(HQ)  # its pickup polls each source at once, slow one first
        assert hq.store is not None
        async with asyncio.timeout(10):
            while not await hq.store.list_messages(PISCO_INTAKE, "Recibidos"):  # noqa: ASYNC110 - the node imports in the background; nothing to wait on from here
                await asyncio.sleep(0.05)


async def test_a_message_larger_than_the_node_takes_is_left_and_holds_up_none_after_it(
    cluster: Cluster, isp: Node
) -> None:
    """Pickup took any size (SMTP refuses a message over ``max_message_size``); bounding the
    fetch alone would have failed every poll at that message, and the ones after it. Once
    the limit is raised, the message is taken: it was recorded as taken when left, for good."""
    await in_agents_folder(isp, dua("ISP-7"))
    cluster.pickup[HQ] = sources(isp)[:1]
    await cluster.stop(HQ)
    hq = await cluster.start(HQ)
    assert hq.pickup is not None and hq.store is not None
    await hq.pickup.run_once()  # after the pass made at start, which took ISP-7
    hq.pickup.max_message = 8 * 1024
    big = dua("ISP-GRANDE").replace(b"\r\n\r\n", b"\r\nComments: " + b"x" * 10_000 + b"\r\n\r\n", 1)
    with told("gateway.pickup.worker") as said:  # by this pass, or the node's own meanwhile
        await in_agents_folder(isp, big)
        await in_agents_folder(isp, dua("ISP-8"))
        await hq.pickup.run_once()
    told_of_it = [r.getMessage() for r in said.records if "max_message_size" in r.getMessage()]
    assert len(told_of_it) == 1, told_of_it
    assert told_of_it[0].endswith(
        "left at the source: 11572 bytes, larger than max_message_size (8192)"
    )
    with told("gateway.pickup.worker") as said:
        assert await hq.pickup.run_once() == 0  # not fetched again, and not told again
    assert not [r for r in said.records if "max_message_size" in r.getMessage()]
    assert len(await hq.store.list_messages(PISCO_INTAKE, "Recibidos")) == 2
    assert len(await isp.store.list_messages(ISP_IMAP_BOX, AGENTS_FOLDER)) == 3  # all stay

    hq.pickup.max_message = 64 * 1024  # as a node restarted with a larger limit
    assert await hq.pickup.run_once() == 1
    assert len(await hq.store.list_messages(PISCO_INTAKE, "Recibidos")) == 3


async def test_a_forged_from_in_an_inbox_is_not_numbered_as_the_agents(
    cluster: Cluster, isp: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone can mail the ISP's INBOX a DUA with the agent's From: and Return-Path:."""
    assert isp.store is not None
    forged = b"Return-Path: <" + AGENT.address.encode() + b">\r\n" + dua("FORGED-1")
    await isp.store.deliver("intruso@otro.pe", [ISP_IMAP_BOX], forged)
    inbox = sources(isp)[0].model_copy(update={"folder": "INBOX", "agent": None})
    cluster.pickup[HQ] = [inbox]
    await cluster.stop(HQ)
    hq = await cluster.start(HQ)
    assert hq.pickup is not None and hq.store is not None
    assert await hq.pickup.run_once() == 0
    assert await hq.store.list_messages(PISCO_INTAKE, "Recibidos") == []
    assert await JobQueue(hq.store).pending_ids() == []
    assert "1 message(s) left at the source: nothing there proves who wrote them" in caplog.text
    assert len(await isp.store.list_messages(ISP_IMAP_BOX)) == 1  # still there


async def test_a_bound_folder_is_the_agents_whatever_its_headers_say(
    cluster: Cluster, isp: Node
) -> None:
    impostor = DEMO_AGENTS[1].address
    claims_other = dua("CLAIMS-OTHER").replace(
        f"From: {AGENT.address}".encode(), f"From: {impostor}".encode()
    )
    forged = b"Return-Path: <" + impostor.encode() + b">\r\nX-Teledespacho-Status: accepted\r\n"
    await in_agents_folder(isp, forged + claims_other)
    cluster.pickup[HQ] = sources(isp)[:1]
    await cluster.stop(HQ)
    hq = await cluster.start(HQ)  # its pickup makes a first pass at once, in the background
    assert hq.pickup is not None and hq.store is not None
    await hq.pickup.run_once()  # taken by this pass or the node's own, once either way
    [taken] = await hq.store.list_messages(PISCO_INTAKE, "Recibidos")
    raw = await hq.store.read_message(PISCO_INTAKE, "Recibidos", taken.uid)
    assert b"CLAIMS-OTHER" in raw and b"X-Teledespacho-" not in raw.partition(b"\r\n\r\n")[0]
    (reply,) = await wait_for_mail(hq, AGENT.address)  # answered to the folder's agent
    assert reply["X-Teledespacho-Reference"] == "CLAIMS-OTHER"
    assert await hq.store.list_messages(impostor) == []


@pytest.mark.parametrize(
    "where", [{"protocol": "pop3"}, {"protocol": "imap", "folder": "inbox"}, {"protocol": "imap"}]
)
def test_an_agent_can_be_bound_only_to_an_imap_folder_other_than_inbox(
    where: dict[str, str],
) -> None:
    with pytest.raises(ValidationError, match="anyone can mail an INBOX"):
        PickupSource.model_validate(
            {
                "name": "x",
                "host": "127.0.0.1",
                "port": 143,
                "user": "u",
                "password": "p",
                "deliver_to": PISCO_INTAKE,
                "agent": AGENT.address,
            }
            | where
        )


async def test_with_senders_only_a_dkim_signed_message_is_taken(
    cluster: Cluster, isp: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """The INBOX of a shared mailbox: a forged From:/Return-Path: stays; the agent's own
    mail, signed by its domain's mail system, is taken as the agent's."""
    assert isp.store is not None
    forged = b"Return-Path: <" + AGENT.address.encode() + b">\r\n" + dua("FORGED-2")
    await isp.store.deliver("intruso@otro.pe", [ISP_IMAP_BOX], forged)
    await isp.store.deliver(AGENT.address, [ISP_IMAP_BOX], signed(dua("SIGNED-1"), "agencias.pe"))
    inbox = sources(isp)[0].model_copy(
        update={"folder": "INBOX", "agent": None, "senders": frozenset({AGENT.address})}
    )
    cluster.pickup[HQ] = [inbox]
    cluster.dkim_dns = lookup(dns_for("agencias.pe"))
    await cluster.stop(HQ)
    hq = await cluster.start(HQ)
    assert hq.pickup is not None and hq.store is not None
    await hq.pickup.run_once()

    [taken] = await hq.store.list_messages(PISCO_INTAKE, "Recibidos")
    raw = await hq.store.read_message(PISCO_INTAKE, "Recibidos", taken.uid)
    assert b"SIGNED-1" in raw and b"FORGED-2" not in raw
    assert "no valid DKIM signature of agencias.pe" in caplog.text
    (reply,) = await wait_for_mail(hq, AGENT.address)
    assert reply["X-Teledespacho-Reference"] == "SIGNED-1"
    assert await hq.pickup.run_once() == 0  # the forged one is not looked at again
    assert len(await isp.store.list_messages(ISP_IMAP_BOX)) == 2  # both stay at the ISP


def test_a_bound_source_takes_no_senders() -> None:
    with pytest.raises(ValidationError, match="takes no senders"):
        PickupSource.model_validate(
            {
                "name": "x",
                "protocol": "imap",
                "host": "127.0.0.1",
                "port": 143,
                "user": "u",
                "password": "p",
                "folder": AGENTS_FOLDER,
                "deliver_to": PISCO_INTAKE,
                "agent": AGENT.address,
                "senders": [AGENT.address],
            }
        )
