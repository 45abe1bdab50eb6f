"""Large mailboxes for the tests that prove a page or a session costs what it shows, not
what the mailbox holds: filled through the store, thousands at a time (concurrent
deliveries commit in batches, so 50 000 small messages take a few seconds)."""

from __future__ import annotations

import asyncio

from mailboxes.store import Store

STEP = 5000


def small(sender: str, owner: str, n: int) -> bytes:
    """A few dozen bytes: the mailbox's size is in its count, not its bytes."""
    return f"From: {sender}\r\nTo: {owner}\r\nSubject: relleno {n}\r\n\r\nx\r\n".encode()


async def fill(store: Store, sender: str, owner: str, count: int, *, first: int = 0) -> None:
    """Messages ``first`` to ``first + count - 1`` from ``sender`` into ``owner``'s INBOX."""
    for start in range(first, first + count, STEP):
        stop = min(first + count, start + STEP)
        await asyncio.gather(
            *(store.deliver(sender, [owner], small(sender, owner, n)) for n in range(start, stop))
        )
