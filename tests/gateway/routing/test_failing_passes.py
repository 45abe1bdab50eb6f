"""Background passes that fail pass after pass say so once a minute, not once a pass.

With the database server down, the relay worker (every ``poll_seconds``) and the office
moves (every second on a node that does not host every office) used to log a traceback at
each pass. The pipeline worker already held its own to one a minute; now all three do, the
other failures going to ``DEBUG`` lines.
"""

from __future__ import annotations

import asyncio
import logging

from config.clock import FixedClock
from config.offices import OfficeRegistry
from config.topology import RelayTiming, Topology
from gateway.routing.moves import OfficeMoves
from gateway.routing.relay import RelayWorker
from gateway.routing.router import Router, RoutingSnapshot
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.logs import Told, told
from tests.offices import decentralized_office as office
from tests.postgres import PostgresServer

DOMAIN = "aduanas.gob.pe"
PASSES = 5


def _router() -> Router:
    offices = OfficeRegistry([office("118", "pisco"), office("127", "hq")])
    return Router(
        RoutingSnapshot.of(node_name="pisco", domain=DOMAIN, offices=offices, topology=Topology())
    )


def _tracebacks(log: Told) -> list[logging.LogRecord]:
    return [record for record in log.at(logging.ERROR) if record.exc_info]


async def test_passes_against_a_stopped_database_log_one_traceback_each(
    own_server: PostgresServer, clock: FixedClock
) -> None:
    store = await Store.open(await own_server.create_database(), clock=clock, hasher=FAST_HASHER)
    router = _router()
    relay = RelayWorker(
        store,
        router=router,
        clock=clock,
        reporting_host="pisco." + DOMAIN,
        timing=RelayTiming(poll_seconds=0.001),
    )
    moves = OfficeMoves(store, router=router, clock=clock, registry_file=None, poll_seconds=0.001)
    with told("gateway.routing.relay") as relayed, told("gateway.routing.moves") as moved:
        try:
            await moves.start()  # settles once while the server is up
            await asyncio.to_thread(own_server.halt)
            await relay.start()
            await relayed.said("relay pass failed", times=PASSES)
            await moved.said("office registry refresh failed", times=PASSES)
        finally:
            await relay.stop()
            await moves.stop()
            await store.close()
    for log in (relayed, moved):
        (traceback,) = _tracebacks(log)
        assert traceback.getMessage().endswith("(0 more since the last such line)")
        assert len(log.records) >= PASSES
