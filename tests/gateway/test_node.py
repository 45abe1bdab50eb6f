"""A whole node in process: SMTP in, POP3 out, with Python's own clients."""

from __future__ import annotations

import asyncio
import poplib

import pytest

from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from tests.node_clients import pop3_fetch_raw, smtp_send, untraced

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address

MESSAGE = (
    b"From: agente1@agencias.pe\r\n"
    b"To: agente2@agencias.pe\r\n"
    b"Subject: =?iso-8859-1?q?Declaraci=F3n?=\r\n"
    b"\r\n"
    b"..empieza con dos puntos\r\n"
    b".\r\n"
    b"\xf1\xe1\r\n"
)


async def test_smtp_in_pop3_out_byte_identical(node: Node) -> None:
    await asyncio.to_thread(smtp_send, node, AGENT, [OTHER], MESSAGE)
    (fetched,) = await asyncio.to_thread(pop3_fetch_raw, node, OTHER)
    assert untraced(fetched) == MESSAGE


async def test_an_agent_sees_only_its_own_mailbox(node: Node) -> None:
    await asyncio.to_thread(smtp_send, node, AGENT, [OTHER], MESSAGE)
    assert await asyncio.to_thread(pop3_fetch_raw, node, AGENT) == []

    def login_as_other_with_own_password() -> None:
        client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
        try:
            client.user(OTHER)
            client.pass_("not-demo")
        finally:
            client.close()

    with pytest.raises(poplib.error_proto):
        await asyncio.to_thread(login_as_other_with_own_password)


async def test_demo_creates_every_office_intake_and_the_agents(node: Node) -> None:
    assert node.store is not None
    addresses = {account.address for account in await node.store.list_accounts()}
    assert {f"aduana-{code}@aduanas.gob.pe" for code in node.offices} <= addresses
    assert {agent.address for agent in DEMO_AGENTS} <= addresses
