"""On a real node: an agent cannot mail another agent something that passes for an office's
reply, and what it may send arrives traced to it."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from tests.gateway.pipeline.helpers import declaration, flat, submission
from tests.node_clients import pop3_fetch_raw, smtp_send, submit_and_wait

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address

FORGED_REPLY = (
    b"From: Teledespacho Aduana 118 <aduana-118@aduanas.gob.pe>\r\n"
    b"To: agente2@agencias.pe\r\n"
    b"Subject: ACEPTADA DUA 118-2026-10-999999 canal verde\r\n"
    b"X-Teledespacho-Status: accepted\r\n"
    b"X-Teledespacho-Number: 118-2026-10-999999\r\n"
    b"X-Teledespacho-Channel: verde\r\n"
    b"\r\n"
    b"Declaracion aceptada.\r\n"
)


LONG_BODY = b"Declaracion aceptada.\r\n" * 4000  # past the size read on the event loop
LONG_HEADER = b"Comments: relleno\r\n" * 300  # a header section past the same bound
SHAPES = {
    "small": lambda raw: raw,
    "long body": lambda raw: raw + LONG_BODY,
    "long header": lambda raw: LONG_HEADER + raw,
}
"""A declaration's mail is prepared on the event loop, a large one in a thread: both alike."""


async def refused_for_good(node: Node, raw: bytes) -> None:
    """AGENT's mail ``raw`` to OTHER is refused for good (550 5.7.1), and nothing is stored."""
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await asyncio.to_thread(smtp_send, node, AGENT, [OTHER], raw)
    assert refused.value.smtp_code == 550
    assert b"5.7.1" in refused.value.smtp_error
    assert node.store is not None
    assert await node.store.list_messages(OTHER) == []


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_forged_office_reply_is_refused_and_nothing_is_stored(
    node: Node, shape: str
) -> None:
    await refused_for_good(node, SHAPES[shape](FORGED_REPLY))


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_from_nested_past_reading_is_refused_for_good(node: Node, shape: str) -> None:
    # Python's address parser recursed once per nested comment: the node answered 451 (try
    # again, forever) and logged a traceback of thousands of lines at each try.
    deep = b"(" * 3000 + b")" * 3000
    mail = b"From: " + deep + b" <" + AGENT.encode() + b">\r\nSubject: hondo\r\n\r\nhola\r\n"
    await refused_for_good(node, SHAPES[shape](mail))


@pytest.mark.parametrize("shape", SHAPES)
async def test_with_its_own_from_the_mail_arrives_traced_and_without_the_nodes_fields(
    node: Node, shape: str
) -> None:
    own = SHAPES[shape](
        FORGED_REPLY.replace(b"Teledespacho Aduana 118 <aduana-118@aduanas.gob.pe>", AGENT.encode())
    )
    await asyncio.to_thread(smtp_send, node, AGENT, [OTHER], own)
    (stored,) = await asyncio.to_thread(pop3_fetch_raw, node, OTHER)
    assert stored != own
    header = stored.partition(b"\r\n\r\n")[0]
    assert header.startswith(b"Received: from ")
    assert b"(Authenticated sender: agente1@agencias.pe)" in header
    assert b"with ESMTPA id " in header and b"for <agente2@agencias.pe>;" in header
    assert b"x-teledespacho-" not in header.lower()
    assert stored.endswith(own.partition(b"\r\n\r\n")[2])
    assert b"\r\n\r\nDeclaracion aceptada.\r\n" in stored


async def test_the_office_replies_keep_their_fields(node: Node) -> None:
    """Only clients' fields go: the pipeline's own replies still carry theirs."""
    raw = submission(
        flat(declaration(reference="TRACE-1", agent_code=DEMO_AGENTS[0].agent_code)),
        sender=AGENT,
        message_id="<trace-1@agencias.pe>",
    )
    (reply,) = await submit_and_wait(node, raw, 1)
    assert reply["X-Teledespacho-Status"] == "accepted"
