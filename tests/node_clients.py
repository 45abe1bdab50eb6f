"""Python's own mail clients against a running node (the ``node`` fixture): submit, fetch.

smtplib and poplib are blocking; the async helpers run them in a thread so the node, in the
test's event loop, can answer.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import poplib
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from mailboxes.store import Change

__all__ = [
    "AGENT",
    "OFFICE",
    "ca_file",
    "pop3_fetch",
    "pop3_fetch_raw",
    "smtp_send",
    "submit_and_wait",
    "untraced",
]

AGENT = DEMO_AGENTS[0]
OFFICE = "aduana-118@aduanas.gob.pe"


def ca_file(node: Node) -> str:
    """The node's own CA file: what a client with default TLS checks must trust."""
    assert node.tls is not None and node.tls.ca is not None
    return str(node.tls.ca.ca_file)


def untraced(raw: bytes) -> bytes:
    """A submission as the client sent it: without the ``Received:`` field the node put on
    top (``gateway.smtp.trace``), which must be there."""
    assert raw.startswith(b"Received: from "), raw[:80]
    end = 0
    while True:
        end = raw.index(b"\n", end) + 1
        if raw[end : end + 1] not in (b" ", b"\t"):
            return raw[end:]


def smtp_send(node: Node, sender: str, recipients: Sequence[str], raw: bytes) -> None:
    """Submit ``raw`` with AUTH as ``sender`` (a demo account)."""
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
        client.login(sender, DEMO_PASSWORD)
        client.sendmail(sender, list(recipients), raw)


def pop3_fetch_raw(node: Node, user: str) -> list[bytes]:
    """Every message of ``user``'s INBOX, as RETR gives it (CRLF lines, un-dot-stuffed)."""
    client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
    try:
        client.user(user)
        client.pass_(DEMO_PASSWORD)
        count, _ = client.stat()
        return [b"\r\n".join(client.retr(n)[1]) + b"\r\n" for n in range(1, count + 1)]
    finally:
        client.quit()


def pop3_fetch(node: Node, user: str) -> list[EmailMessage]:
    messages = []
    for raw in pop3_fetch_raw(node, user):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


async def submit_and_wait(
    node: Node, raw: bytes, replies: int, *, agent: str = AGENT.address, to: str = OFFICE
) -> list[EmailMessage]:
    """Send over SMTP, wait until the agent's INBOX holds ``replies`` mails, fetch over POP3."""
    assert node.store is not None
    arrived = asyncio.Event()

    def listen(change: Change) -> None:
        if (agent, "INBOX") in change.mailboxes:
            arrived.set()

    unsubscribe = node.store.subscribe(listen)
    try:
        await asyncio.to_thread(smtp_send, node, agent, [to], raw)
        async with asyncio.timeout(20):
            while len(await node.store.list_messages(agent)) < replies:
                await arrived.wait()
                arrived.clear()
    finally:
        unsubscribe()
    return await asyncio.to_thread(pop3_fetch, node, agent)
