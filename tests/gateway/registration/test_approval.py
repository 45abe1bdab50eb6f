"""Deciding mailbox requests: ``teledispatch account approve|reject|requests`` on a running
node's store; the approved agent logs in with the password it was mailed and submits."""

from __future__ import annotations

import asyncio
import re
import smtplib
from datetime import date

import pytest

from edi_formats.codec import WireFormat, render_declaration
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from mailboxes.registrations import MailboxRequests, RequestState
from tests.gateway.registration.helpers import (
    FOR_NEW_MAILBOX,
    NEW_MAILBOX,
    body_text,
    cli,
    letters,
    request_from_hosted_agent,
)
from tests.gateway.topology.helpers import wait_for_mail
from validators.samples import sample_declaration

AGENT1 = DEMO_AGENTS[0].address


async def test_approval_creates_a_working_account(node: Node) -> None:
    assert node.store is not None
    await request_from_hosted_agent(node)
    status = await asyncio.to_thread(cli, node, "account", "approve", "1", "--by", "of127")
    assert status == 0
    _ack, letter = await letters(node)
    assert letter["X-Teledespacho-Request-Status"] == "approved"
    found = re.search(r"Clave inicial:\s+(\S+)", body_text(letter))
    assert found is not None
    password = found[1]
    # the new agent submits with AUTH at once, and reads the answer over POP3
    dua = sample_declaration("dua", as_of=date(2026, 11, 2), office="127", agent_code="6120")
    raw = (
        f"From: {NEW_MAILBOX}\r\nTo: aduana-127@aduanas.gob.pe\r\nSubject: DUA\r\n\r\n".encode()
        + render_declaration(dua, WireFormat("flat")).replace(b"\n", b"\r\n")
    )

    def submit() -> tuple[int, int, int]:
        with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
            client.login(NEW_MAILBOX, password)
            client.mail(NEW_MAILBOX)
            outside_scope = client.rcpt("aduana-154@aduanas.gob.pe")[0]  # Arequipa: not asked
            client.rset()
            client.sendmail(NEW_MAILBOX, ["aduana-127@aduanas.gob.pe"], raw)
            client.mail(NEW_MAILBOX)  # the grant is read once a session: it still holds
            still_outside = client.rcpt("aduana-154@aduanas.gob.pe")[0]
        with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
            client.login(AGENT1, DEMO_PASSWORD)  # an account added by hand has no scope
            client.mail(AGENT1)
            unscoped = client.rcpt("aduana-154@aduanas.gob.pe")[0]
        return outside_scope, still_outside, unscoped

    assert await asyncio.to_thread(submit) == (550, 550, 250)
    await wait_for_mail(node, NEW_MAILBOX, within=20)
    [answer] = await letters(node, NEW_MAILBOX, password)
    assert answer["Subject"].startswith("ACEPTADA"), body_text(answer)
    [request] = await MailboxRequests(node.store).listing()
    assert request.state is RequestState.APPROVED and request.decided_by == "of127"
    assert await MailboxRequests(node.store).office_scope(NEW_MAILBOX) == {"127", "118"}


async def test_rejection_mails_the_reason_and_is_recorded(
    node: Node, capsys: pytest.CaptureFixture[str]
) -> None:
    await request_from_hosted_agent(node)
    status = await asyncio.to_thread(
        cli, node, "account", "reject", "1", "--reason", "La agencia no figura en el registro",
        "--by", "of127",
    )  # fmt: skip
    assert status == 0
    _ack, letter = await letters(node)
    assert letter["X-Teledespacho-Request-Status"] == "rejected"
    assert "Motivo: La agencia no figura en el registro" in body_text(letter)
    capsys.readouterr()
    assert await asyncio.to_thread(cli, node, "account", "requests") == 0
    listed = capsys.readouterr().out
    assert "request 1  rejected" in listed
    assert "rejected by of127 on" in listed and "no figura en el registro" in listed
    assert await asyncio.to_thread(cli, node, "account", "requests", "--pending") == 0
    assert "no pending requests" in capsys.readouterr().out
    # decided once: neither approved nor rejected again
    assert await asyncio.to_thread(cli, node, "account", "approve", "1") == 1
    assert "already rejected" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "refusal"),
    [
        ("buzon: agente1@agencias.pe", "agente1@agencias.pe already has a mailbox"),
        ("agente: 4821", "agent code 4821 already belongs to agente1@agencias.pe"),
    ],
)
async def test_approval_is_refused_for_a_taken_address_or_agent_code(
    node: Node, capsys: pytest.CaptureFixture[str], line: str, refusal: str
) -> None:
    assert node.store is not None
    key = line.split(":")[0]
    body = (
        "\n".join(row for row in FOR_NEW_MAILBOX.splitlines() if not row.startswith(f"{key}:"))
        + f"\n{line}\n"
    )
    await request_from_hosted_agent(node, body)
    assert await asyncio.to_thread(cli, node, "account", "approve", "1") == 1
    assert refusal in capsys.readouterr().err
    [request] = await MailboxRequests(node.store).listing(pending_only=True)
    assert request.number == 1  # still pending: the office may reject it with a reason
