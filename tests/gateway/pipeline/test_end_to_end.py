"""A whole node on loopback: smtplib submits, the pipeline answers, poplib fetches the reply."""

from __future__ import annotations

import asyncio
import email
import email.policy
import poplib
import re
import smtplib
from email.message import EmailMessage

from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from mailboxes.store import Change
from tests.gateway.pipeline.helpers import (
    attachments,
    body_text,
    declaration,
    flat,
    submission,
)

AGENT = DEMO_AGENTS[0]
OFFICE = "aduana-118@aduanas.gob.pe"
NUMBER = re.compile(r"^118-\d{4}-10-\d{6}$")


def send(node: Node, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
        client.login(AGENT.address, DEMO_PASSWORD)
        client.sendmail(AGENT.address, [OFFICE], raw)


def fetch_all(node: Node, user: str) -> list[EmailMessage]:
    client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
    try:
        client.user(user)
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


async def submit_and_wait(node: Node, raw: bytes, replies: int) -> list[EmailMessage]:
    """Send over SMTP, wait until the agent's INBOX holds ``replies`` mails, fetch over POP3."""
    assert node.store is not None
    arrived = asyncio.Event()

    def listen(change: Change) -> None:
        if (AGENT.address, "INBOX") in change.mailboxes:
            arrived.set()

    unsubscribe = node.store.subscribe(listen)
    try:
        await asyncio.to_thread(send, node, raw)
        async with asyncio.timeout(20):
            while len(await node.store.list_messages(AGENT.address)) < replies:
                await arrived.wait()
                arrived.clear()
    finally:
        unsubscribe()
    return await asyncio.to_thread(fetch_all, node, AGENT.address)


async def test_a_dua_mailed_to_the_office_comes_back_numbered(node: Node):
    document = flat(declaration(reference="E2E-1", agent_code=AGENT.agent_code))
    raw = submission(document, sender=AGENT.address, message_id="<e2e-1@agencias.pe>")
    (reply,) = await submit_and_wait(node, raw, 1)

    assert reply["Subject"].startswith("ACEPTADA DUA ")
    assert reply["X-Teledespacho-Status"] == "accepted"
    assert reply["X-Teledespacho-Reference"] == "E2E-1"
    assert NUMBER.match(reply["X-Teledespacho-Number"])
    assert reply["X-Teledespacho-Channel"] in {"verde", "naranja", "rojo"}
    assert reply["In-Reply-To"] == "<e2e-1@agencias.pe>"
    assert reply["X-Teledespacho-Number"] in reply["Subject"]

    (copy,) = await asyncio.to_thread(fetch_all, node, OFFICE)
    assert copy["X-Teledespacho-Number"] == reply["X-Teledespacho-Number"]
    assert attachments(copy)[0][1] == document


async def test_a_broken_dua_comes_back_rejected_with_its_findings(node: Node):
    broken = declaration(reference="E2E-2", agent_code=AGENT.agent_code, breaks="STR-TOTALS")
    raw = submission(flat(broken), sender=AGENT.address)
    (reply,) = await submit_and_wait(node, raw, 1)

    assert reply["Subject"].startswith("RECHAZADA DUA ref. E2E-2")
    assert reply["X-Teledespacho-Status"] == "rejected"
    assert reply["X-Teledespacho-Number"] is None
    text = body_text(reply)
    assert "STR-TOTALS - casilla/campo: totals.packages" in text
    assert "Casilla Total bultos" in text
    assert "Base legal: INTA-PG.01-A VII.A.7" in text
