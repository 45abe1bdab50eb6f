"""Sending as an agent and waiting for mail, across the nodes of a cluster."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import aiosmtplib

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from mailboxes.store import Store
from tests.node_clients import ca_file


async def send(node: Node, sender: str, recipient: str, raw: bytes) -> None:
    """Submit ``raw`` to ``node`` over SMTP, authenticated as ``sender``."""
    # aiosmtplib takes STARTTLS when offered, with its default checks: trust the node's CA.
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=node.port("smtp"), timeout=10, cert_bundle=ca_file(node)
    ) as client:
        await client.login(sender, DEMO_PASSWORD)
        await client.sendmail(sender, [recipient], raw)


async def eventually(
    store: Store, check: Callable[[], Awaitable[bool]], within: float = 10.0
) -> None:
    """Return once ``check()`` holds, re-checking after each commit of ``store``."""
    changed = asyncio.Event()
    unsubscribe = store.subscribe(lambda _change: changed.set())
    try:
        async with asyncio.timeout(within):
            while True:
                changed.clear()
                if await check():
                    return
                with contextlib.suppress(TimeoutError):  # commits of other stores, too
                    await asyncio.wait_for(changed.wait(), 0.1)
    finally:
        unsubscribe()


async def wait_for_mail(
    node: Node, owner: str, count: int = 1, folder: str = "INBOX", within: float = 10.0
) -> list[EmailMessage]:
    """The mailbox's messages once it holds at least ``count`` (fails after ``within`` s)."""
    store = node.store
    assert store is not None

    async def arrived() -> bool:
        return len(await store.list_messages(owner, folder)) >= count

    await eventually(store, arrived, within)
    messages = []
    for info in await store.list_messages(owner, folder):
        parsed = email.message_from_bytes(
            await store.read_message(owner, folder, info.uid), policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages
