"""POP3 on a node with its default settings, as a stock client meets it: no APOP timestamp
in the greeting (clients that see one try APOP first), SASL and STLS in CAPA, AUTH PLAIN."""

from __future__ import annotations

import asyncio
import poplib
from base64 import b64encode

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.node_clients import AGENT


def meet(node: Node) -> tuple[bytes, list[str], bytes, int]:
    client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
    try:
        greeting = client.getwelcome()
        capabilities = list(client.capa())
        plain = b64encode(f"\0{AGENT.address}\0{DEMO_PASSWORD}".encode()).decode()
        reply = client._shortcmd(f"AUTH PLAIN {plain}")
        return greeting, capabilities, reply, client.stat()[0]
    finally:
        client.quit()


async def test_a_stock_client_meets_sasl_and_no_apop(node: Node) -> None:
    greeting, capabilities, reply, count = await asyncio.to_thread(meet, node)
    assert greeting == b"+OK Teledespacho POP3 server ready"  # no <timestamp>: APOP is off
    assert {"SASL", "STLS", "USER"} <= set(capabilities)
    assert reply.startswith(b"+OK")
    assert count == 0
