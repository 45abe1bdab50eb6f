"""An SMTP server on the real store, on a free loopback port, with a few accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from config.offices import OfficeRegistry
from config.topology import Topology
from gateway.directory import LocalDirectory
from gateway.routing.router import Router, RoutingSnapshot
from gateway.smtp import SubmissionHandler, start_smtp_server
from mailboxes.store import Store

DOMAIN = "aduanas.gob.pe"
AGENT = "agente1@agencias.pe"
OTHER_AGENT = "agente2@agencias.pe"
OFFICE = "aduana-118@aduanas.gob.pe"
PASSWORD = "clave-1997"
SIZE_LIMIT = 64 * 1024


@dataclass
class SmtpServer:
    host: str
    port: int
    store: Store


def directory(store: Store) -> LocalDirectory:
    """The node's directory for the test domain, hosting offices 118 and 127."""
    return LocalDirectory(
        store,
        Router(
            RoutingSnapshot(
                node_name="hq",
                domain=DOMAIN,
                offices=OfficeRegistry([]),
                topology=Topology(),
                hosted_offices=frozenset({"118", "127"}),
            )
        ),
    )


async def serve(store: Store, max_message_size: int) -> AsyncIterator[SmtpServer]:
    """The server with the test's accounts, taking mails of up to ``max_message_size``."""
    await store.create_account(AGENT, PASSWORD, role="agent", agent_code="4821")
    await store.create_account(OTHER_AGENT, PASSWORD, role="agent", agent_code="5307")
    await store.create_account(OFFICE, PASSWORD, role="office", office_code="118")
    server = await start_smtp_server(
        SubmissionHandler(store, directory(store)),
        host="127.0.0.1",
        port=0,
        hostname="test.aduanas.gob.pe",
        max_message_size=max_message_size,
    )
    try:
        yield SmtpServer("127.0.0.1", server.sockets[0].getsockname()[1], store)
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def smtp_server(store: Store) -> AsyncIterator[SmtpServer]:
    async for running in serve(store, SIZE_LIMIT):
        yield running
