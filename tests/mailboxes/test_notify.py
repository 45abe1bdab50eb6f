"""Change notices across stores sharing one PostgreSQL database (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import pytest
from sqlalchemy import Connection, text

from config.backoff import Backoff
from config.clock import FixedClock
from mailboxes.notify import (
    MAX_PAYLOAD,
    MAX_WAITING,
    ChangeFeed,
    decode_change,
    encode_change,
    merged,
)
from mailboxes.records import Recipient
from mailboxes.store import Change, Store
from tests.conftest import FAST_HASHER
from tests.logs import Told, told
from tests.postgres import PostgresServer, database_name, fresh_database_url, postgres_server

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
    """The notice connections (named ``teledespacho-notices-…``) on a Unix socket."""
    return int(
        connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :database"
                " AND client_addr IS NULL"  # NULL: a Unix socket
                " AND application_name LIKE 'teledespacho-notices-%'"
            ),
            {"database": database},
        )
        or 0
    )


async def test_stores_through_the_servers_socket_hear_and_are_heard(clock: FixedClock) -> None:
    """A node beside its server may name the server's socket (docs/topology.md): its
    notices go through that socket too, both ways."""
    url = await fresh_database_url()
    name = database_name(url)
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


# -- a feed whose connection the server drops -------------------------------------------------

QUICK = Backoff(initial=0.05, maximum=0.2)


@asynccontextmanager
async def feeds(url: str, heard: asyncio.Queue[Change]) -> AsyncIterator[tuple[ChangeFeed, ...]]:
    """A publishing feed and a listening one on the database at ``url``."""
    publisher = ChangeFeed(url, lambda _change: None, backoff=QUICK)
    listener = ChangeFeed(url, heard.put_nowait, backoff=QUICK)
    await publisher.start()
    await listener.start()
    try:
        yield publisher, listener
    finally:
        await publisher.close()
        await listener.close()


async def _cut(feed: ChangeFeed) -> None:
    await postgres_server().cut_connections(f"application_name = '{feed.application_name}'")


async def _allow_connections(url: str, allowed: bool) -> None:
    name = database_name(url)
    await postgres_server().admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {allowed}")


@asynccontextmanager
async def cut_and_refused(url: str, feed: ChangeFeed, log: Told) -> AsyncIterator[None]:
    """``feed``'s connection cut, and the server refusing new connections to the database
    at ``url`` until the block ends."""
    await _allow_connections(url, False)
    try:
        await _cut(feed)
        await log.said("lost the connection")
        yield
    finally:
        await _allow_connections(url, True)


def _job(n: int) -> Change:
    return Change(frozenset({(f"agente{n % 7}@agencias.pe", "INBOX")}), (n,))


async def _heard_until(heard: asyncio.Queue[Change], last_job: int) -> Change:
    """What the notices heard name, up to the one that names ``last_job``."""
    changes: list[Change] = []
    while not changes or last_job not in changes[-1].job_ids:
        changes.append(await asyncio.wait_for(heard.get(), 10))
    return merged(changes)


async def test_a_feed_whose_connection_is_dropped_listens_again() -> None:
    """Cut by the server, a listening feed says so once, reconnects and hears again."""
    url = await fresh_database_url()
    heard: asyncio.Queue[Change] = asyncio.Queue()
    with told("mailboxes.notify") as log:
        async with feeds(url, heard) as (publisher, listener):
            await _cut(listener)
            await log.said("change notices restored")
            publisher.publish(_job(1))
            assert (await asyncio.wait_for(heard.get(), 10)).job_ids == (1,)
    assert [record.getMessage() for record in log.at(logging.WARNING)] == [
        "lost the connection for change notices (closed by the server); reconnecting, and"
        " until then the other processes' changes are seen on the poll interval"
    ]
    assert not any(record.exc_info for record in log.records)


async def test_changes_published_while_reconnecting_wait_and_are_told_once() -> None:
    """The server refuses new connections for a while: the changes published meanwhile
    are sent when the feed gets back, and the log says it once, not once per change or
    per attempt (the eighth failed attempt is told, then the 16th, the 32nd...)."""
    url = await fresh_database_url()
    heard: asyncio.Queue[Change] = asyncio.Queue()
    with told("mailboxes.notify") as log:
        async with feeds(url, heard) as (publisher, _listener):
            async with cut_and_refused(url, publisher, log):
                for n in range(30):
                    publisher.publish(_job(n))
                    await asyncio.sleep(0)  # each in its own turn, as commits publish them
                await log.said("reconnection attempt", times=9)
            assert (await _heard_until(heard, 29)).job_ids == tuple(range(30))
    lost, still, restored = (record.getMessage() for record in log.at(logging.INFO))
    assert lost.startswith("lost the connection for change notices")
    assert still.startswith("change notices: reconnection attempt 8 failed: ")  # 1-7, 9 quiet
    assert restored.startswith("change notices restored after ")
    assert "30 changes waited" in restored
    assert not any(record.exc_info for record in log.records)


async def test_changes_that_pile_up_while_reconnecting_are_bounded() -> None:
    """Beyond ``MAX_WAITING`` the waiting changes become one: every mailbox is still told,
    with the newest job numbers; the log says how many numbers were dropped."""
    url = await fresh_database_url()
    heard: asyncio.Queue[Change] = asyncio.Queue()
    published = 3 * MAX_WAITING + 5
    with told("mailboxes.notify") as log:
        async with feeds(url, heard) as (publisher, _listener):
            async with cut_and_refused(url, publisher, log):
                for n in range(published):
                    publisher.publish(_job(n))
            told_of = await _heard_until(heard, published - 1)
    assert told_of.mailboxes == {box for n in range(7) for box in _job(n).mailboxes}
    jobs = told_of.job_ids
    assert list(jobs) == sorted(jobs)
    assert MAX_WAITING <= len(jobs) <= 2 * MAX_WAITING
    restored = log.at(logging.INFO)[-1].getMessage()
    assert f"({published - len(jobs)} job numbers dropped;" in restored


async def test_a_notice_sent_as_the_server_goes_down_waits_for_the_next_connection(
    own_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A restart reaches a busy node: the server's goodbye has been read on the feed's
    connection, but not yet the end of the connection, when the next notice goes out. The
    driver then refuses the notice without ever reporting the connection lost; the notice
    is kept and sent once the feed is back."""
    url = await own_server.create_database(migrated=False)
    heard: asyncio.Queue[Change] = asyncio.Queue()
    with told("mailboxes.notify") as log:
        async with feeds(url, heard) as (publisher, _listener):
            own_server.restart()  # blocking on purpose: nothing is read meanwhile
            await asyncio.sleep(0)  # one turn of the loop: the goodbye read, the end not yet
            publisher.publish(_job(1))
            await log.said("change notices restored", times=2)  # both feeds
    restored = [record.getMessage() for record in log.records if "restored" in record.msg]
    assert sorted(message.split("; ")[1] for message in restored) == [
        "0 changes waited to be sent",  # the listener's
        "1 changes waited to be sent",  # the publisher's: the notice was kept
    ]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
