"""Change notices across stores sharing one PostgreSQL database (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
from functools import partial

from sqlalchemy import Connection, text

from config.clock import FixedClock
from mailboxes.notify import MAX_PAYLOAD, decode_change, encode_change
from mailboxes.records import Recipient
from mailboxes.store import Change, Store
from tests.conftest import FAST_HASHER
from tests.postgres import fresh_database_url, postgres_server

OWNER = "agente1@agencias.pe"


def test_large_changes_are_split_under_the_notice_limit() -> None:
    change = Change(
        frozenset((f"agente{n}@agencias.pe", "INBOX") for n in range(400)), tuple(range(900))
    )
    payloads = encode_change("yo", change)
    assert len(payloads) > 1
    assert all(len(payload.encode()) <= MAX_PAYLOAD for payload in payloads)
    parts = [decode_change(payload) for payload in payloads]
    assert {origin for origin, _ in parts} == {"yo"}
    assert frozenset().union(*(part.mailboxes for _, part in parts)) == change.mailboxes
    assert tuple(job for _, part in parts for job in part.job_ids) == change.job_ids


async def test_a_delivery_in_one_process_wakes_listeners_of_another(clock: FixedClock) -> None:
    url = await fresh_database_url()
    writer = await Store.open(url, clock=clock, hasher=FAST_HASHER)
    reader = await Store.open(url, clock=clock, hasher=FAST_HASHER, migrate=False)
    heard: asyncio.Queue[Change] = asyncio.Queue()
    own: list[Change] = []
    reader.subscribe(heard.put_nowait)
    writer.subscribe(own.append)
    try:
        await writer.deliver("x@agencias.pe", [Recipient(OWNER)], b"Subject: hola\r\n\r\nx\r\n")
        change = await asyncio.wait_for(heard.get(), 5)
        assert change.mailboxes == {(OWNER, "INBOX")}
        await asyncio.sleep(0.2)
        assert len(own) == 1  # the writer's own notice is not heard a second time
    finally:
        await writer.close()
        await reader.close()


def _feeds_over_a_socket(database: str, connection: Connection) -> int:
    """The notice connections (their last command ``LISTEN`` or a notice) on a Unix socket."""
    return int(
        connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :database"
                " AND client_addr IS NULL"  # NULL: a Unix socket
                " AND (query LIKE 'LISTEN%' OR query LIKE 'SELECT pg_notify%')"
            ),
            {"database": database},
        )
        or 0
    )


async def test_stores_through_the_servers_socket_hear_and_are_heard(clock: FixedClock) -> None:
    """A node beside its server may name the server's socket (docs/topology.md): its
    notices go through that socket too, both ways."""
    url = await fresh_database_url()
    name = url.rsplit("/", 1)[1]
    beside = await Store.open(
        postgres_server().socket_url(name), clock=clock, hasher=FAST_HASHER, migrate=False
    )
    over_tcp = await Store.open(url, clock=clock, hasher=FAST_HASHER, migrate=False)
    heard_beside: asyncio.Queue[Change] = asyncio.Queue()
    heard_over_tcp: asyncio.Queue[Change] = asyncio.Queue()
    beside.subscribe(heard_beside.put_nowait)
    over_tcp.subscribe(heard_over_tcp.put_nowait)
    try:
        await over_tcp.deliver("x@agencias.pe", [Recipient(OWNER)], b"Subject: 1\r\n\r\nx\r\n")
        assert (await asyncio.wait_for(heard_beside.get(), 5)).mailboxes == {(OWNER, "INBOX")}
        await asyncio.wait_for(heard_over_tcp.get(), 5)  # its own, told in process
        await beside.deliver("x@agencias.pe", [Recipient(OWNER)], b"Subject: 2\r\n\r\nx\r\n")
        assert (await asyncio.wait_for(heard_over_tcp.get(), 5)).mailboxes == {(OWNER, "INBOX")}
        assert await over_tcp.database.run(partial(_feeds_over_a_socket, name)) == 1
    finally:
        await beside.close()
        await over_tcp.close()


async def test_changes_published_while_a_notice_is_on_its_way_go_together(
    clock: FixedClock,
) -> None:
    """A burst of commits costs a notice or two, not one each; the other store hears
    every mailbox and job of them, in the order they came."""
    url = await fresh_database_url()
    writer = await Store.open(url, clock=clock, hasher=FAST_HASHER)
    reader = await Store.open(url, clock=clock, hasher=FAST_HASHER, migrate=False)
    heard: asyncio.Queue[Change] = asyncio.Queue()
    reader.subscribe(heard.put_nowait)
    burst = [Change(frozenset({(f"agente{n}@agencias.pe", "INBOX")}), (n,)) for n in range(20)]
    try:
        for change in burst:  # as commits in the same turn of the event loop publish them
            writer.notify(change)
        mailboxes: set[tuple[str, str]] = set()
        jobs: list[int] = []
        notices = 0
        while len(jobs) < len(burst):
            change = await asyncio.wait_for(heard.get(), 5)
            notices += 1
            mailboxes |= change.mailboxes
            jobs += change.job_ids
        assert mailboxes == {box for change in burst for box in change.mailboxes}
        assert jobs == list(range(20))
        assert notices <= 2
    finally:
        await writer.close()
        await reader.close()
