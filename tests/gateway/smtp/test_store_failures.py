"""A store failure during RCPT is answered ``451`` and the session goes on.

aiosmtpd takes a ``ConnectionResetError`` raised by a handler for the client's own
connection reset and hangs up without a word. The database's connection raises just that
when its server restarts (asyncpg passes the socket's error on): a fresh-clone run saw an
agent's RCPT, made while PostgreSQL restarted, end in "Connection unexpectedly closed". The
reset is injected where the store raises it, at the read of the agent's office scope.
"""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from mailboxes.registrations import MailboxRequests
from tests.node_clients import AGENT, OFFICE


async def test_a_connection_reset_in_the_store_is_a_451_not_a_hang_up(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def reset(self: MailboxRequests, address: str) -> frozenset[str]:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(MailboxRequests, "office_scope", reset)

    def session() -> tuple[int, int]:
        with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
            client.login(AGENT.address, DEMO_PASSWORD)
            client.mail(AGENT.address)
            refused, _ = client.rcpt(OFFICE)
            still, _ = client.noop()
            return refused, still

    refused, still = await asyncio.to_thread(session)
    assert refused == 451
    assert still == 250
