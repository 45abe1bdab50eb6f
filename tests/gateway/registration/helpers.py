"""Mailing requests to a running node's registration address without AUTH (smtplib), reading
the answers (poplib), deciding them (the CLI)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import poplib
import smtplib
from email.message import EmailMessage
from email.policy import SMTP

from gateway.cli import main
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node

REGISTRATION = "buzones@aduanas.gob.pe"

FORM = """\
Señores de la aduana:

Solicitamos un buzón de Teledespacho.

agente: 6120
agencia: Agencia de Aduanas Pisco Sur S.A.
ruc: 20100070970
contacto: María Quispe, teléfono 034-532100
aduanas: 127, Marítima del Callao

Atentamente,
M. Quispe
"""


def request_mail(sender: str, body: str = FORM, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = REGISTRATION
    message["Subject"] = "Solicitud de buzón"
    message["Message-ID"] = "<solicitud.1@piscosur.com.pe>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def mail_without_auth(node: Node, sender: str, recipients: list[str], raw: bytes) -> str:
    """Send with no AUTH at all; the final reply's text (raises on any refusal)."""
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
        client.ehlo("pc486.piscosur.com.pe")
        client.mail(sender)
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code != 250:
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = client.data(raw)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return reply.decode()


AGENT1, AGENT2 = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
NEW_MAILBOX = "despacho@piscosur.com.pe"
FOR_NEW_MAILBOX = FORM + f"\nbuzon: {NEW_MAILBOX}\n"


def cli(node: Node, *argv: str) -> int:
    return main([*argv, "--data-dir", str(node.settings.data_dir)])


async def request_from_hosted_agent(node: Node, body: str = FOR_NEW_MAILBOX) -> str:
    """AGENT2 (hosted here, so it can read the answers) asks for a mailbox, without AUTH."""
    return await asyncio.to_thread(
        mail_without_auth, node, AGENT2, [REGISTRATION], request_mail(AGENT2, body)
    )


async def letters(
    node: Node, user: str = AGENT2, password: str = DEMO_PASSWORD
) -> list[EmailMessage]:
    def fetch() -> list[EmailMessage]:
        client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
        try:
            client.user(user)
            client.pass_(password)
            count, _ = client.stat()
            found = []
            for n in range(1, count + 1):
                raw = b"\r\n".join(client.retr(n)[1]) + b"\r\n"
                parsed = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                found.append(parsed)
            return found
        finally:
            client.quit()

    return await asyncio.to_thread(fetch)


def body_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
