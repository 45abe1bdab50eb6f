"""Mailbox requests by mail on a running node: the registration address takes mail without
AUTH (and nothing else does), files each request and answers it; the office decides with
``teledispatch account approve|reject``, and an approved agent submits at once."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
from email.message import EmailMessage
from pathlib import Path

from config.clock import FixedClock
from config.registration import RegistrationSettings
from config.settings import Settings
from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from mailboxes.registrations import MailboxRequests
from mailboxes.relay import RelayQueue
from tests.conftest import FAST_HASHER
from tests.gateway.registration.helpers import (
    AGENT2,
    FOR_NEW_MAILBOX,
    NEW_MAILBOX,
    REGISTRATION,
    body_text,
    letters,
    mail_without_auth,
    request_from_hosted_agent,
    request_mail,
)

AGENT1 = DEMO_AGENTS[0].address


async def test_a_request_mailed_without_auth_is_filed_and_acknowledged(node: Node) -> None:
    assert node.store is not None
    reply = await request_from_hosted_agent(node)
    assert "request 1 filed" in reply
    [ack] = await letters(node)
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Teledespacho-Request"] == "1"
    assert ack["In-Reply-To"] == "<solicitud.1@piscosur.com.pe>"
    assert "N° 1 recibida" in ack["Subject"]
    assert "registrada con el número 1" in body_text(ack)
    [request] = await MailboxRequests(node.store).listing(pending_only=True)
    assert (request.mailbox, request.agent_code, request.ruc, request.offices) == (
        NEW_MAILBOX, "6120", "20100070970", ("127", "118")
    )  # fmt: skip
    assert request.requester == AGENT2 and request.client == "127.0.0.1"
    # the mail itself is kept at the registration address
    assert len(await node.store.list_messages(REGISTRATION)) == 1


async def test_a_json_request_attached_is_read(node: Node) -> None:
    assert node.store is not None
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = AGENT2, REGISTRATION, "Solicitud"
    message.set_content("Adjunto la solicitud.")
    form = (
        '{"agent_code": "7001", "agency": "Agencia Sur", "ruc": "20100070970", '
        '"contact": "Luis Mamani 054-21", "offices": ["Arequipa", "172"], '
        f'"mailbox": "{NEW_MAILBOX}"}}'
    )
    message.add_attachment(form.encode(), maintype="application", subtype="json",
                           filename="solicitud.json")  # fmt: skip
    raw = message.as_bytes(policy=email.policy.SMTP)
    await asyncio.to_thread(mail_without_auth, node, AGENT2, [REGISTRATION], raw)
    [request] = await MailboxRequests(node.store).listing()
    assert (request.agent_code, request.offices) == ("7001", ("154", "172"))


async def test_an_incomplete_request_is_answered_with_what_is_missing(node: Node) -> None:
    assert node.store is not None
    body = "agente: 6120\nagencia: Agencia Sur\naduanas: Lima, 127\nruc: 20100070971\n"
    reply = await request_from_hosted_agent(node, body)
    assert "not a complete request" in reply
    [answer] = await letters(node)
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer["X-Teledespacho-Request-Status"] == "incomplete"
    text = body_text(answer)
    assert "falta el campo «contacto»" in text
    assert "no hay una aduana «Lima»" in text
    assert "dígito verificador del RUC 20100070971" in text
    assert await MailboxRequests(node.store).listing() == []


async def test_a_request_nested_past_reading_is_answered_not_retried(node: Node) -> None:
    # The email package recurses once per level of nested parts (and, with its default
    # policy, per nested comment of a header field): past that, a 451 and a traceback
    # at every retry.
    nested = b"".join(
        b"Content-Type: multipart/mixed; boundary=%d\r\n\r\n--%d\r\n" % (n, n) for n in range(1200)
    )
    raw = b"From: %s\r\nSubject: solicitud\r\n%s\r\nhola\r\n" % (AGENT2.encode(), nested)
    reply = await asyncio.to_thread(mail_without_auth, node, AGENT2, [REGISTRATION], raw)
    assert "not a complete request" in reply
    [answer] = await letters(node)
    assert answer["X-Teledespacho-Request-Status"] == "incomplete"
    assert "partes anidadas" in " ".join(body_text(answer).split())


async def test_the_registration_address_takes_nothing_else_without_auth(node: Node) -> None:
    assert node.store is not None

    def session() -> list[int]:
        codes = []
        with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
            client.ehlo("pc486")
            codes.append(client.mail("<>")[0])
            codes.append(client.rset()[0])
            codes.append(client.mail(AGENT2)[0])
            codes.append(client.rcpt("aduana-118@aduanas.gob.pe")[0])
            codes.append(client.rcpt("anyone@example.com")[0])
            codes.append(client.rcpt(AGENT1)[0])
            codes.append(client.rcpt(REGISTRATION)[0])
            codes.append(client.rcpt("aduana-118@aduanas.gob.pe")[0])
            codes.append(client.rset()[0])
            codes.append(client.mail(AGENT2, ["SIZE=10000000"])[0])
            codes.append(client.rset()[0])
            codes.append(client.mail(AGENT2)[0])
            codes.append(client.rcpt(REGISTRATION)[0])
            codes.append(client.data(b"Subject: x\r\n\r\n" + b"agente: 1\r\n" * 10_000)[0])
            codes.append(client.verify(AGENT1)[0])
        return codes

    assert await asyncio.to_thread(session) == [
        550, 250,  # a request needs a return address
        250, 530, 550, 550,  # intakes and mailboxes want AUTH; other domains are not relayed
        250, 452,  # the request travels alone
        250, 552, 250,  # too big, said before sending
        250, 250, 552,  # too big, found while reading
        530,
    ]  # fmt: skip
    assert await node.store.list_messages("aduana-118@aduanas.gob.pe", "Recibidos") == []
    assert await node.store.list_messages(REGISTRATION) == []


async def test_an_outside_requester_gets_its_answer_held_here_never_relayed(
    node: Node,
) -> None:
    assert node.store is not None
    outsider = "gerencia@piscosur.com.pe"
    await asyncio.to_thread(
        mail_without_auth, node, outsider, [REGISTRATION], request_mail(outsider)
    )
    assert await RelayQueue(node.store).pending() == []
    [held] = await node.store.list_messages(outsider)
    raw = await node.store.read_message(outsider, "INBOX", held.uid)
    assert b"X-Teledespacho-Request: 1" in raw


async def test_requests_are_rate_limited_per_sender_and_per_client(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = Settings(
        data_dir=tmp_path / "node", smtp_port=0, pop3_port=0, imap_port=0,
        host_all_offices=True,
        registration=RegistrationSettings(per_sender=2, per_client=3),
    )  # fmt: skip
    limited = Node(settings, clock=clock, hasher=FAST_HASHER)
    await limited.start(demo=True)
    try:

        def rcpt(sender: str) -> int:
            with smtplib.SMTP("127.0.0.1", limited.port("smtp"), timeout=10) as client:
                client.ehlo("pc486")
                client.mail(sender)
                return client.rcpt(REGISTRATION)[0]

        codes = [
            await asyncio.to_thread(rcpt, sender)
            for sender in ("a@x.pe", "a@x.pe", "a@x.pe", "b@x.pe", "c@x.pe")
        ]
    finally:
        await limited.stop()
    assert codes == [250, 250, 450, 250, 450]


async def test_a_closed_registration_keeps_auth_required_at_mail(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = Settings(
        data_dir=tmp_path / "node", smtp_port=0, pop3_port=0, imap_port=0,
        registration=RegistrationSettings(open=False),
    )  # fmt: skip
    closed = Node(settings, clock=clock, hasher=FAST_HASHER)
    await closed.start()
    try:

        def mail() -> int:
            with smtplib.SMTP("127.0.0.1", closed.port("smtp"), timeout=10) as client:
                client.ehlo("pc486")
                return client.mail(AGENT2)[0]

        assert await asyncio.to_thread(mail) == 530
    finally:
        await closed.stop()


async def test_a_request_sent_by_a_machine_is_filed_but_never_answered(node: Node) -> None:
    assert node.store is not None
    raw = request_mail(AGENT2, FOR_NEW_MAILBOX, Auto_Submitted="auto-replied")
    await asyncio.to_thread(mail_without_auth, node, AGENT2, [REGISTRATION], raw)
    assert len(await MailboxRequests(node.store).listing()) == 1
    assert len(await node.store.list_messages(REGISTRATION)) == 1
    assert await node.store.list_messages(AGENT2) == []  # RFC 3834: no answer to a robot
