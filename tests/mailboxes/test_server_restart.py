"""A store outlives a restart of its PostgreSQL server.

An operator restarts PostgreSQL (an upgrade, a configuration change) under a running node.
The server cuts every connection; the node must not need a restart of its own: what was
in flight fails once (the SMTP client hears a ``4xx`` and sends again), and the next uses
get new connections. Each test runs a server of its own, so the restart touches nobody
else's databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from config.clock import FixedClock
from mailboxes.errors import StoreError
from mailboxes.records import Recipient
from mailboxes.store import Change, Store
from tests.conftest import FAST_HASHER
from tests.logs import told
from tests.postgres import PostgresServer

OWNER = "agente1@agencias.pe"
T = TypeVar("T")


async def _after_one_failure_at_most(use: Callable[[], Awaitable[T]]) -> T:
    """``use()``, tried a second time if the first try meets the connection the restart cut."""
    try:
        return await use()
    except StoreError:
        return await use()


async def test_deliveries_and_reads_carry_on_after_the_server_restarts(
    own_server: PostgresServer, clock: FixedClock
) -> None:
    store = await Store.open(await own_server.create_database(), clock=clock, hasher=FAST_HASHER)
    try:
        for _ in range(3):  # more than one pooled connection in use before the restart
            await store.deliver("x@agencias.pe", [Recipient(OWNER)], b"Subject: a\r\n\r\nx\r\n")
        assert len(await store.list_messages(OWNER)) == 3
        await asyncio.to_thread(own_server.restart)

        await _after_one_failure_at_most(
            lambda: store.deliver("x@agencias.pe", [Recipient(OWNER)], b"Subject: b\r\n\r\nx\r\n")
        )
        for _ in range(5):  # and from then on, every time
            await store.deliver("x@agencias.pe", [Recipient(OWNER)], b"Subject: c\r\n\r\nx\r\n")
        listed = await _after_one_failure_at_most(lambda: store.list_messages(OWNER))
        assert len(listed) == 9
        assert len(await store.list_messages(OWNER)) == 9
    finally:
        await store.close()


async def test_stores_hear_each_other_again_after_the_server_restarts(
    own_server: PostgresServer, clock: FixedClock
) -> None:
    url = await own_server.create_database()
    writer = await Store.open(url, clock=clock, hasher=FAST_HASHER)
    reader = await Store.open(url, clock=clock, hasher=FAST_HASHER, migrate=False)
    heard: asyncio.Queue[Change] = asyncio.Queue()
    reader.subscribe(heard.put_nowait)
    try:
        with told("mailboxes.notify") as log:
            await asyncio.to_thread(own_server.restart)
            await log.said("change notices restored", times=2)  # the writer's and the reader's
        await _after_one_failure_at_most(
            lambda: writer.deliver("x@agencias.pe", [Recipient(OWNER)], b"Subject: d\r\n\r\n")
        )
        change = await asyncio.wait_for(heard.get(), 10)
        assert change.mailboxes == {(OWNER, "INBOX")}
    finally:
        await writer.close()
        await reader.close()
