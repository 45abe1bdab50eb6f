"""Sending as an agent and waiting for mail, across the nodes of a cluster."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage

import aiosmtplib

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node


async def send(node: Node, sender: str, recipient: str, raw: bytes) -> None:
    """Submit ``raw`` to ``node`` over SMTP, authenticated as ``sender``."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=node.port("smtp"), timeout=10) as client:
        await client.login(sender, DEMO_PASSWORD)
        await client.sendmail(sender, [recipient], raw)


async def wait_for_mail(
    node: Node, owner: str, count: int = 1, folder: str = "INBOX", timeout: float = 10.0
) -> list[EmailMessage]:
    """The mailbox's messages once it holds at least ``count`` (fails after ``timeout``)."""
    store = node.store
    assert store is not None
    async with asyncio.timeout(timeout):
        while len(infos := await store.list_messages(owner, folder)) < count:
            await asyncio.sleep(0.02)
    messages = []
    for info in infos:
        parsed = email.message_from_bytes(
            await store.read_message(owner, folder, info.uid), policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages
