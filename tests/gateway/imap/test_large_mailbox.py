"""A large mailbox must not slow the node down for everyone else.

Selecting, listing and idling on a mailbox of thousands of messages shares the event loop
with the SMTP server: if any of it did work proportional to the mailbox in one step, every
delivery made meanwhile would wait for it. Here an agent's INBOX holds ``LARGE`` messages;
while clients select it again and again, list it over POP3 and idle on it (each delivery
lands in that very mailbox, so the idling sessions must catch up after each one), another
client's SMTP deliveries are timed. The bound is generous (an order of magnitude above a
delivery's usual cost on a loaded machine); reading the whole mailbox on the event loop
takes far longer.

The second test times the deliveries from a client process of their own while another
client process selects a 50 000-message mailbox, the first SELECT included.
"""

from __future__ import annotations

import asyncio
import gc
import imaplib
import json
import poplib
import smtplib
import statistics
import sys
import threading
import time
from collections.abc import Awaitable

from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests import mailbox_fill

LARGE = 10_000
DELIVERIES = 40
USUAL_DELIVERY = 0.3
"""Seconds, for nine deliveries in ten; reading the whole 10k mailbox on the event loop held
them 1.4 s (median) and up to 3.6 s. A commit's fsync on a busy disk may spike once."""
WORST_DELIVERY = 1.0

OWNER, SENDER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address


def small(n: int) -> bytes:
    return mailbox_fill.small(SENDER, OWNER, n)


def timed_deliveries(node: Node, stop: threading.Event) -> list[float]:
    """Seconds each SMTP submission took (DATA answered, so the message is committed)."""
    took: list[float] = []
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=30) as client:
        client.login(SENDER, DEMO_PASSWORD)
        for n in range(DELIVERIES):
            started = time.perf_counter()
            client.sendmail(SENDER, [OWNER], small(LARGE + n))
            took.append(time.perf_counter() - started)
    stop.set()
    return took


def select_and_list(node: Node, stop: threading.Event, rounds: list[int]) -> None:
    """SELECT the large INBOX, fetch its last message's flags, list it over POP3; again."""
    with imaplib.IMAP4("127.0.0.1", node.port("imap"), timeout=30) as imap:
        imap.login(OWNER, DEMO_PASSWORD)
        while not stop.is_set():
            status, data = imap.select("INBOX")
            assert status == "OK" and int(data[0] or 0) >= LARGE
            assert imap.uid("FETCH", "*", "(FLAGS)")[0] == "OK"
            assert imap.noop()[0] == "OK"
            pop = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=30)
            try:
                pop.user(OWNER)
                pop.pass_(DEMO_PASSWORD)
                assert pop.stat()[0] >= LARGE
                assert len(pop.list()[1]) >= LARGE
            finally:
                pop.quit()
            rounds[0] += 1


def idle_on(node: Node, stop: threading.Event, ready: threading.Event) -> None:
    """A session with the large INBOX selected that polls with NOOP, as mail clients do."""
    with imaplib.IMAP4("127.0.0.1", node.port("imap"), timeout=30) as imap:
        imap.login(OWNER, DEMO_PASSWORD)
        imap.select("INBOX")
        ready.set()
        while not stop.is_set():
            assert imap.noop()[0] == "OK"
            time.sleep(0.02)


async def test_deliveries_keep_their_latency_while_a_large_mailbox_is_read(node: Node) -> None:
    assert node.store is not None
    await mailbox_fill.fill(node.store, SENDER, OWNER, LARGE)
    stop, ready = threading.Event(), threading.Event()
    rounds = [0]
    readers = [
        asyncio.create_task(asyncio.to_thread(idle_on, node, stop, ready)),
        asyncio.create_task(asyncio.to_thread(idle_on, node, stop, threading.Event())),
    ]
    await asyncio.to_thread(ready.wait, 60)
    readers.append(asyncio.create_task(asyncio.to_thread(select_and_list, node, stop, rounds)))
    try:
        took = await asyncio.to_thread(timed_deliveries, node, stop)
    finally:
        stop.set()
        await asyncio.gather(*readers)
    assert rounds[0] >= 1, "the reader never completed a round during the deliveries"
    ninth_decile = statistics.quantiles(took, n=10)[-1]
    summary = (
        f"deliveries took up to {max(took) * 1000:.0f} ms (9 in 10 within "
        f"{ninth_decile * 1000:.0f} ms) while the mailbox was read"
    )
    assert ninth_decile < USUAL_DELIVERY, summary
    assert max(took) < WORST_DELIVERY, summary


SMTP_CLIENT = """
import select, smtplib, sys, time
port, sender, password, owner, count = sys.argv[1:6]
until_told = sys.argv[6:] == ["until-told"]  # then go on past count until stdin closes
with smtplib.SMTP("127.0.0.1", int(port), timeout=30) as client:
    client.login(sender, password)
    n = 0
    while n < int(count) or (until_told and not select.select([sys.stdin], [], [], 0)[0]):
        message = f"From: {sender}\\r\\nTo: {owner}\\r\\nSubject: medida {n}\\r\\n\\r\\nx\\r\\n"
        started = time.perf_counter()
        client.sendmail(sender, [owner], message.encode())
        print(time.perf_counter() - started, flush=True)
        n += 1
"""

SELECTING_CLIENT = """
import imaplib, sys
port, owner, password = sys.argv[1:4]
while True:
    with imaplib.IMAP4("127.0.0.1", int(port), timeout=60) as imap:
        imap.login(owner, password)
        status, data = imap.select("INBOX")
        assert status == "OK", data
        print(data[0].decode(), flush=True)
"""

HUGE = 50_000
SELECT_BOUND = 0.050
"""Seconds another client's SELECTs of a large mailbox may add to a delivery (the
third-worst of 150, against as many made alone just before). Building the first view of
50 000 messages held the event loop 0.17 s in one step and let the cyclic garbage
collector walk 50 000 message objects (50-140 ms at a time): the third-worst delivery
meanwhile was 115-170 ms, against 10-13 ms alone."""


def _client(script: str, *args: object) -> Awaitable[asyncio.subprocess.Process]:
    """A client in its own process: a thread here would share the interpreter lock with
    the node, and time the interpreter rather than the node."""
    return asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        *map(str, args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def _timed(client: asyncio.subprocess.Process, started: asyncio.Event) -> list[float]:
    """The seconds of each delivery the client reports; ``started`` is set at the first."""
    assert client.stdout is not None
    took: list[float] = []
    while line := await client.stdout.readline():
        took.append(float(line))
        started.set()
    assert await client.wait() == 0
    return took


async def test_a_delivery_waits_under_50_ms_for_another_clients_select(node: Node) -> None:
    """One client delivers while another selects a 50 000-message mailbox: the first
    SELECT (which reads it and builds the view), then SELECT after SELECT. The third-worst
    of 150 deliveries (a loaded machine preempts a process now and then) stays within
    50 ms of the third-worst of 150 made alone just before."""
    assert node.store is not None
    await mailbox_fill.fill(node.store, SENDER, OWNER, HUGE)
    smtp = (node.port("smtp"), SENDER, DEMO_PASSWORD, OWNER)
    alone = sorted(await _timed(await _client(SMTP_CLIENT, *smtp, 150), asyncio.Event()))
    started = asyncio.Event()
    # At least 150 deliveries, and on until the other client has selected twice: on a
    # loaded machine its first SELECT may take longer than 150 deliveries.
    delivering = await _client(SMTP_CLIENT, *smtp, 150, "until-told")
    deliveries = asyncio.create_task(_timed(delivering, started))
    await started.wait()  # the deliveries are under way: now the other client selects
    reader = await _client(SELECTING_CLIENT, node.port("imap"), OWNER, DEMO_PASSWORD)
    assert reader.stdout is not None and delivering.stdin is not None
    selects = 0
    try:
        while selects < 2 or not deliveries.done():
            line = await asyncio.wait_for(reader.stdout.readline(), timeout=60)
            assert int(line) >= HUGE
            selects += 1
            if selects == 2:
                delivering.stdin.close()  # enough: the deliveries end after their 150th
    finally:
        reader.terminate()
        await reader.wait()
    meanwhile = sorted(await deliveries)
    assert selects >= 2 and len(meanwhile) >= 150
    third_worst = meanwhile[-(3 * len(meanwhile) // 150)]  # the same share as 3 of 150
    assert third_worst - alone[-3] < SELECT_BOUND, (
        f"while {selects} SELECTs of a {HUGE}-message mailbox ran (the first one reading "
        f"it), the third-worst delivery in 150 took {third_worst * 1000:.0f} ms, against "
        f"{alone[-3] * 1000:.0f} ms alone"
    )


WHOLE_MAILBOX_CLIENT = """
import imaplib, json, sys
port, owner, password = sys.argv[1:4]
with imaplib.IMAP4("127.0.0.1", int(port), timeout=120) as imap:
    imap.login(owner, password)
    def told(name, answer):
        status, data = answer
        assert status == "OK", (name, data)
        print(json.dumps([name, len([d for d in data if d is not None])]), flush=True)
        return data
    told("select", imap.select("INBOX"))
    found = told("search", imap.uid("SEARCH", "ALL"))
    print(json.dumps(["found", len(found[0].split())]), flush=True)
    told("fetch", imap.uid("FETCH", "1:*", "(FLAGS)"))
    seen = told("store", imap.store("1:*", "+FLAGS", "(\\\\Seen)"))
    print(json.dumps(["seen", sum(b"\\\\Seen" in line for line in seen)]), flush=True)
    told("delete", imap.store("1:*", "+FLAGS.SILENT", "(\\\\Deleted)"))
    told("expunge", imap.expunge())
"""

WHOLE = 20_000
WHOLE_BOUND = 0.3
"""Seconds another client's commands over a whole large mailbox may add to a delivery (the
third-worst meanwhile, against the third-worst alone). Each was answered in one step of
the event loop: with 20 000 messages a delivery waited up to a second behind
``UID SEARCH ALL``, ``UID FETCH 1:* (FLAGS)`` and ``STORE 1:* +FLAGS (\\Seen)`` (the
third-worst 0.7 s); answered a slice at a time, 45 ms."""


async def test_commands_over_a_whole_large_mailbox_let_deliveries_through(node: Node) -> None:
    """SEARCH, FETCH, STORE and EXPUNGE over 20 000 messages, answered a slice at a time
    (``gateway.imap.slices``), and every answer whole: as many UIDs found, FETCH and STORE
    lines, and EXPUNGE lines as messages."""
    assert node.store is not None
    await mailbox_fill.fill(node.store, SENDER, OWNER, WHOLE)
    # As ``serve`` freezes what it holds once started: the collector's full passes over
    # this test process's own heap took 0.1-0.15 s each, a pause the node does not have.
    gc.collect()
    gc.freeze()
    try:
        await _deliveries_meanwhile(node)
    finally:
        gc.unfreeze()


async def _deliveries_meanwhile(node: Node) -> None:
    assert node.store is not None
    smtp = (node.port("smtp"), SENDER, DEMO_PASSWORD, SENDER)  # into another mailbox
    alone = sorted(await _timed(await _client(SMTP_CLIENT, *smtp, 100), asyncio.Event()))
    started = asyncio.Event()
    delivering = await _client(SMTP_CLIENT, *smtp, 100, "until-told")
    deliveries = asyncio.create_task(_timed(delivering, started))
    await started.wait()
    reader = await _client(WHOLE_MAILBOX_CLIENT, node.port("imap"), OWNER, DEMO_PASSWORD)
    assert reader.stdout is not None and delivering.stdin is not None
    told: dict[str, int] = {}
    try:
        while line := await asyncio.wait_for(reader.stdout.readline(), timeout=120):
            name, count = json.loads(line)
            told[name] = count
    finally:
        delivering.stdin.close()
        assert await reader.wait() == 0
    meanwhile = sorted(await deliveries)
    assert told == {
        "select": 1, "search": 1, "found": WHOLE, "fetch": WHOLE, "store": WHOLE,
        "seen": WHOLE, "delete": 0, "expunge": WHOLE,
    }  # fmt: skip
    assert await node.store.list_messages(OWNER) == []
    third_worst = meanwhile[-3]
    assert third_worst - alone[-3] < WHOLE_BOUND, (
        f"while another client searched, fetched, stored and expunged {WHOLE} messages, "
        f"the third-worst of {len(meanwhile)} deliveries took {third_worst * 1000:.0f} ms, "
        f"against {alone[-3] * 1000:.0f} ms alone"
    )
