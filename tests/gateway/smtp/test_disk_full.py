"""A full disk: DATA is answered 452 4.3.1 (insufficient system storage) and nothing is
stored; the log tells the operator once (then once a minute while refusals go on), each
refusal in an INFO line, never a traceback; once there is room again, mail flows and the
log says so. Below ``min_free_space_mib`` free, mail is refused the same way, and the room
kept answers the declarations already taken.

The disk is made full the way SQLite sees it: ``max_page_count`` caps the database file of
the store's one writing connection, so a write fails with SQLITE_FULL ("database or disk is
full"), the error a full file system gives.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from pathlib import Path

import pytest

from config.clock import FixedClock
from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from mailboxes.store import Store
from tests.conftest import FAST_HASHER, demo_node, more_than_free
from tests.gateway.pipeline.helpers import AS_OF, flat, mailbox, submission, submit
from tests.node_clients import smtp_send
from validators.samples import sample_declaration

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
BIG = b"From: " + AGENT.encode() + b"\r\nSubject: grande\r\n\r\n" + (b"y" * 76 + b"\r\n") * 5000


async def cap_store(store: Store, extra_pages: int) -> None:
    """Let the store's SQLite file grow by ``extra_pages`` at most (then SQLITE_FULL)."""
    async with store.database.writer.connect() as connection:
        pages = (await connection.exec_driver_sql("PRAGMA page_count")).scalar_one()
        await connection.exec_driver_sql(f"PRAGMA max_page_count = {pages + extra_pages}")


async def cap_database(node: Node, extra_pages: int) -> None:
    assert node.store is not None
    await cap_store(node.store, extra_pages)


async def test_a_full_disk_is_answered_452_and_told_once(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    await cap_database(node, 10)
    caplog.set_level(logging.INFO)
    caplog.clear()
    for _ in range(3):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await asyncio.to_thread(smtp_send, node, AGENT, [OTHER], BIG)
        assert refused.value.smtp_code == 452
        assert refused.value.smtp_error.startswith(b"4.3.1 ")
    assert node.store is not None
    assert await node.store.list_messages(OTHER) == []

    mine = [r for r in caplog.records if r.name.startswith(("gateway", "mailboxes"))]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in mine)
    told = [r for r in mine if r.levelno >= logging.WARNING]
    assert len(told) == 1 and "full" in told[0].getMessage(), [r.getMessage() for r in told]
    refusals = [r for r in mine if r.levelno == logging.INFO and "full" in r.getMessage()]
    assert len(refusals) == 3 and all(AGENT in r.getMessage() for r in refusals)

    caplog.clear()
    await cap_database(node, 1_000_000)  # room again
    await asyncio.to_thread(smtp_send, node, AGENT, [OTHER], BIG)
    assert len(await node.store.list_messages(OTHER)) == 1
    again = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(again) == 1 and "after 3 refused" in again[0].getMessage(), again


async def test_below_the_reserve_mail_is_refused_and_what_was_taken_is_answered(
    tmp_path: Path, clock: FixedClock
) -> None:
    """With less than ``min_free_space_mib`` free on the store's disk, DATA is answered 452
    4.3.1; a declaration taken before (here by a store without the reserve, as when the
    disk had room) is still answered, in the room the reserve keeps. A sender filling the
    disk once stopped the answers to every declaration already taken."""
    reserve_mib = more_than_free(tmp_path) // 2**20
    async with demo_node(tmp_path / "node", clock, min_free_space_mib=reserve_mib) as node:
        assert node.store is not None and node.worker is not None
        earlier = await Store.open(node.store.database.url, clock=clock, hasher=FAST_HASHER)
        try:
            dua = sample_declaration("dua", as_of=AS_OF, agent_code=DEMO_AGENTS[0].agent_code)
            await submit(earlier, submission(flat(dua)))
        finally:
            await earlier.close()
        await node.worker.process_available()
        (reply,) = await mailbox(node.store, AGENT)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await asyncio.to_thread(smtp_send, node, AGENT, [OTHER], BIG)
        assert await node.store.list_messages(OTHER) == []
    assert reply["Subject"].startswith("ACEPTADA")
    assert refused.value.smtp_code == 452 and refused.value.smtp_error.startswith(b"4.3.1 ")
