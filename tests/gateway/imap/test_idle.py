"""IDLE with aioimaplib on a whole node: SMTP deliveries and pipeline answers wake it at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aioimaplib
import aiosmtplib
import pytest

from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests.gateway.imap.conftest import AGENT, PASSWORD, Running, mail
from tests.gateway.pipeline.helpers import declaration, flat, submission
from tests.node_clients import ca_file

SENDER, RECEIVER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
OFFICE = "aduana-118@aduanas.gob.pe"


@pytest.fixture
async def idling(node: Node) -> AsyncIterator[aioimaplib.IMAP4]:
    """A client in IDLE on the second demo agent's INBOX."""
    client = await login(node.port("imap"), RECEIVER)
    try:
        yield client
    finally:
        await client.logout()


async def login(
    port: int, user: str, password: str = DEMO_PASSWORD, folder: str = "INBOX"
) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4("127.0.0.1", port, timeout=5)
    await client.wait_hello_from_server()
    assert (await client.login(user, password)).result == "OK"
    assert (await client.select(folder)).result == "OK"
    return client


async def smtp_send(node: Node, sender: str, recipient: str, raw: bytes) -> None:
    # aiosmtplib takes STARTTLS when offered, with its default checks: trust the node's CA.
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=node.port("smtp"), cert_bundle=ca_file(node)
    ) as smtp:
        await smtp.login(sender, DEMO_PASSWORD)
        await smtp.sendmail(sender, [recipient], raw)


async def wait_for_exists(client: aioimaplib.IMAP4, within: float) -> list[bytes]:
    """Lines pushed during IDLE until one says EXISTS (at most ``within`` seconds)."""
    idle = await client.idle_start(timeout=30)
    pushed: list[bytes] = []
    deadline = asyncio.get_running_loop().time() + within
    try:
        while not any(line.endswith(b"EXISTS") for line in pushed):
            left = deadline - asyncio.get_running_loop().time()
            pushed += [bytes(line) for line in await client.wait_server_push(timeout=left)]
    finally:
        client.idle_done()
        await asyncio.wait_for(idle, 5)
    return pushed


async def test_idle_gets_exists_within_a_second_of_an_smtp_delivery(
    node: Node, idling: aioimaplib.IMAP4
) -> None:
    idle = asyncio.ensure_future(wait_for_exists(idling, within=5))
    await asyncio.sleep(0.1)  # the client is in IDLE now
    started = time.monotonic()
    await smtp_send(node, SENDER, RECEIVER, mail("hola", sender=SENDER))
    pushed = await idle
    assert time.monotonic() - started < 1.0
    assert b"1 EXISTS" in pushed

    fetched = await idling.uid("fetch", "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert fetched.result == "OK"
    assert bytes(fetched.lines[1]) == b"Subject: hola\r\n\r\n"


async def test_idle_on_the_office_inbox_sees_the_accepted_declaration(node: Node) -> None:
    office = await login(node.port("imap"), OFFICE)
    try:
        idle = asyncio.ensure_future(wait_for_exists(office, within=10))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        raw = submission(flat(declaration("dua")), sender=SENDER, to=OFFICE)
        await smtp_send(node, SENDER, OFFICE, raw)
        pushed = await idle
        elapsed = time.monotonic() - started
        assert b"1 EXISTS" in pushed
        assert elapsed < 1.0, f"the office heard of the acceptance after {elapsed:.2f} s"
        fetched = await office.uid(
            "fetch", "1", "(BODY.PEEK[HEADER.FIELDS (X-TELEDESPACHO-STATUS)])"
        )
        assert bytes(fetched.lines[1]) == b"X-Teledespacho-Status: accepted\r\n\r\n"
    finally:
        await office.logout()


async def test_done_ends_idle_promptly(idling: aioimaplib.IMAP4) -> None:
    idle = await idling.idle_start(timeout=30)
    await asyncio.sleep(0.1)
    started = time.monotonic()
    idling.idle_done()
    response = await asyncio.wait_for(idle, 5)
    assert response.result == "OK"
    assert time.monotonic() - started < 0.5


async def test_shutdown_says_bye_to_idle_clients(imap: Running) -> None:
    client = await login(imap.port, AGENT, PASSWORD)
    lost = asyncio.Event()
    client.protocol.conn_lost_cb = lambda _: lost.set()
    await client.idle_start(timeout=30)
    await asyncio.sleep(0.1)
    await imap.server.aclose(grace=2)
    pushed = await client.wait_server_push(timeout=2)
    assert any(bytes(line).startswith(b"BYE [UNAVAILABLE]") for line in pushed)
    await asyncio.wait_for(lost.wait(), 2)
    assert imap.server.connections == 0
