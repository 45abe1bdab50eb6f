"""A node on PostgreSQL carries on when an operator restarts the database server under it.

The restart cuts every connection of the node. A submission the node is committing then is
answered ``451`` (the client sends it again); from the next one on, the node takes mail,
answers declarations and reports them as before, without a restart of its own.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.settings import Settings
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.gateway.pipeline.helpers import declaration, flat, submission
from tests.node_clients import AGENT, smtp_send, submit_and_wait
from tests.postgres import PostgresServer


@pytest.fixture
async def node(
    own_server: PostgresServer, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Node]:
    settings = Settings(
        data_dir=tmp_path / "node",
        database_url=await own_server.create_database(migrated=False),
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        smtps_port=0,
        pop3s_port=0,
        imaps_port=0,
        host_all_offices=True,
    )
    running = Node(settings, clock=clock, hasher=FAST_HASHER)
    await running.start(demo=True)
    try:
        yield running
    finally:
        await running.stop()


def _dua(reference: str) -> bytes:
    return submission(flat(declaration(reference=reference, agent_code=AGENT.agent_code)),
                      sender=AGENT.address)  # fmt: skip


async def test_declarations_are_answered_after_the_database_restarts(
    node: Node, own_server: PostgresServer
) -> None:
    (before,) = await submit_and_wait(node, _dua("ANTES-1"), 1)
    assert before["X-Teledespacho-Status"] == "accepted"

    await asyncio.to_thread(own_server.restart)
    probe = b"Subject: tras el reinicio\r\n\r\nhola\r\n"
    try:  # the first submission may meet a connection the restart cut
        await asyncio.to_thread(smtp_send, node, AGENT.address, [AGENT.address], probe)
    except smtplib.SMTPResponseException as refused:
        assert 400 <= refused.smtp_code < 500, refused
        await asyncio.to_thread(smtp_send, node, AGENT.address, [AGENT.address], probe)

    replies = await submit_and_wait(node, _dua("DESPUES-1"), 3)  # the probe, two answers
    after = [reply for reply in replies if reply["X-Teledespacho-Reference"] == "DESPUES-1"]
    assert [reply["X-Teledespacho-Status"] for reply in after] == ["accepted"]
    assert after[0]["X-Teledespacho-Number"] != before["X-Teledespacho-Number"]
