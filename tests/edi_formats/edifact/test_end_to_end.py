"""A CUSDEC mailed to an office over SMTP comes back answered with a CUSRES, read over POP3."""

from __future__ import annotations

import asyncio
import email
import email.policy
import poplib
import smtplib
from email.message import EmailMessage

from edi_formats.codec import WireFormat, parse_response, render_declaration
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from mailboxes.store import Change
from tests.gateway.pipeline.helpers import attachments, body_text, declaration, submission

AGENT = DEMO_AGENTS[0]
OFFICE = "aduana-118@aduanas.gob.pe"


def _send(node: Node, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
        client.login(AGENT.address, DEMO_PASSWORD)
        client.sendmail(AGENT.address, [OFFICE], raw)


def _fetch(node: Node) -> list[EmailMessage]:
    client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
    try:
        client.user(AGENT.address)
        client.pass_(DEMO_PASSWORD)
        count, _ = client.stat()
        messages = []
        for number in range(1, count + 1):
            _, lines, _ = client.retr(number)
            parsed = email.message_from_bytes(b"\r\n".join(lines), policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            messages.append(parsed)
        return messages
    finally:
        client.quit()


async def _answers(node: Node, raw: bytes, count: int) -> list[EmailMessage]:
    """Send over SMTP, wait for ``count`` mails in the agent's INBOX, fetch them over POP3."""
    assert node.store is not None
    arrived = asyncio.Event()

    def listen(change: Change) -> None:
        if (AGENT.address, "INBOX") in change.mailboxes:
            arrived.set()

    unsubscribe = node.store.subscribe(listen)
    try:
        await asyncio.to_thread(_send, node, raw)
        async with asyncio.timeout(20):
            while len(await node.store.list_messages(AGENT.address)) < count:
                await arrived.wait()
                arrived.clear()
    finally:
        unsubscribe()
    return await asyncio.to_thread(_fetch, node)


def _cusdec(reference: str) -> bytes:
    made = declaration(reference=reference, agent_code=AGENT.agent_code)
    return render_declaration(made, WireFormat.EDIFACT)


async def test_a_cusdec_is_answered_with_a_cusres_attachment(node: Node) -> None:
    raw = submission(_cusdec("EDI-E2E-1"), sender=AGENT.address, filenames=["DUA.DAT"])
    (reply,) = await _answers(node, raw, 1)
    assert reply["Subject"].startswith("ACEPTADA DUA ")
    (part,) = list(reply.iter_attachments())
    assert part.get_content_type() == "application/edifact"
    ((name, data),) = attachments(reply)
    assert name == f"respuesta-{reply['X-Teledespacho-Number']}.edi"
    response = parse_response(data)
    assert response.status == "accepted" and response.agent_reference == "EDI-E2E-1"
    assert response.number == reply["X-Teledespacho-Number"]
    assert response.channel == reply["X-Teledespacho-Channel"]
    assert "UN/EDIFACT (CUSRES)" in body_text(reply)


async def test_a_cusdec_with_a_wrong_unt_count_is_rejected_naming_the_segment(node: Node) -> None:
    good = _cusdec("EDI-E2E-2")
    count = good.split(b"UNT+")[1].split(b"+")[0]
    bad = good.replace(b"UNT+" + count + b"+", b"UNT+" + str(int(count) - 1).encode() + b"+")
    (reply,) = await _answers(node, submission(bad, sender=AGENT.address), 1)
    assert reply["Subject"].startswith("RECHAZADA")
    assert reply["X-Teledespacho-Status"] == "rejected"
    text = body_text(reply)
    position = f"segmento {int(count)} del mensaje (UNT), elemento 1"
    assert "EDI-COUNT" in text and position in " ".join(text.split())
    ((name, data),) = attachments(reply)
    assert name.endswith(".edi")
    (finding,) = parse_response(data).findings
    assert (finding.rule_id, finding.field) == ("EDI-COUNT", position)
