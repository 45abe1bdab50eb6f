"""Routing and accounts that change while an agent's session is open take effect at its next
RCPT: a session remembers its last decision only for the routing snapshot it was made from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiosmtplib
import pytest

from config.offices import Office, OfficeRegistry
from config.topology import Peer, Topology
from gateway.directory import LocalDirectory
from gateway.routing.router import Router, RoutingSnapshot
from gateway.smtp import SubmissionHandler, start_smtp_server
from mailboxes.store import Store
from tests.gateway.smtp.conftest import AGENT, DOMAIN, PASSWORD, SIZE_LIMIT
from tests.offices import decentralized_office as office

INTAKE = f"aduana-127@{DOMAIN}"
MESSAGE = f"From: {AGENT}\r\nTo: {INTAKE}\r\nSubject: DUA\r\n\r\nuna declaracion\r\n"


def routes(*offices: Office) -> RoutingSnapshot:
    """Node ``hq`` of the test domain, with ``pisco`` as its peer."""
    return RoutingSnapshot.of(
        node_name="hq",
        domain=DOMAIN,
        offices=OfficeRegistry(list(offices)),
        topology=Topology(peers={"pisco": Peer(smtp_port=2525, secret="compartido")}),
    )


@dataclass
class Node:
    port: int
    router: Router
    store: Store


@pytest.fixture
async def node(store: Store) -> AsyncIterator[Node]:
    await store.create_account(AGENT, PASSWORD, role="agent", agent_code="4821")
    router = Router(routes(office("118", "hq"), office("127", "hq")))
    server = await start_smtp_server(
        SubmissionHandler(store, LocalDirectory(store, router)),
        host="127.0.0.1",
        port=0,
        hostname="test.aduanas.gob.pe",
        max_message_size=SIZE_LIMIT,
    )
    try:
        yield Node(server.sockets[0].getsockname()[1], router, store)
    finally:
        server.close()
        await server.wait_closed()


async def session(node: Node) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=node.port, start_tls=False)
    await client.connect()
    await client.login(AGENT, PASSWORD)
    return client


async def submit(client: aiosmtplib.SMTP, recipient: str) -> tuple[int, str]:
    """One mail on the open session: the RCPT reply if refused, else the DATA reply."""
    await client.mail(AGENT)
    try:
        await client.rcpt(recipient)
    except aiosmtplib.SMTPRecipientRefused as refused:
        await client.rset()
        return refused.code, refused.message
    reply = await client.data(MESSAGE)
    return reply.code, reply.message


async def test_an_office_moved_to_a_peer_mid_session_is_relayed_from_the_next_mail(
    node: Node,
) -> None:
    client = await session(node)
    code, text = await submit(client, INTAKE)
    assert (code, text) == (250, "2.0.0 OK queued for declaration processing as 1")

    node.router.replace(routes(office("118", "hq"), office("127", "pisco")))
    assert await submit(client, INTAKE) == (250, "2.0.0 OK")  # for pisco: no job here
    await client.quit()


async def test_an_office_moved_here_mid_session_is_taken_in_from_the_next_mail(
    node: Node,
) -> None:
    node.router.replace(routes(office("118", "hq"), office("127", "pisco")))
    client = await session(node)
    assert await submit(client, INTAKE) == (250, "2.0.0 OK")

    node.router.replace(routes(office("118", "hq"), office("127", "hq")))
    code, text = await submit(client, INTAKE)
    assert (code, text) == (250, "2.0.0 OK queued for declaration processing as 1")
    await client.quit()


async def test_an_office_no_longer_served_mid_session_is_refused_at_once(node: Node) -> None:
    client = await session(node)
    assert (await submit(client, INTAKE))[0] == 250

    node.router.replace(routes(office("118", "hq")))
    assert await submit(client, INTAKE) == (550, "5.1.1 No such mailbox here")
    node.router.replace(routes(office("118", "hq"), office("127", "hq")))
    assert (await submit(client, INTAKE))[0] == 250
    await client.quit()


async def test_an_account_added_mid_session_is_reachable_at_once(node: Node) -> None:
    colleague = "agente9@agencias.pe"
    client = await session(node)
    assert (await submit(client, INTAKE))[0] == 250
    assert await submit(client, colleague) == (550, "5.1.1 No such mailbox here")

    await node.store.create_account(colleague, PASSWORD, role="agent", agent_code="9001")
    assert await submit(client, colleague) == (250, "2.0.0 OK")
    assert (await submit(client, INTAKE))[0] == 250
    await client.quit()
