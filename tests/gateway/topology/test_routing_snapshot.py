"""One routing snapshot for the whole node, replaced whole when an office moves.

The directory (SMTP), the store (pipeline filings, held jobs) and the relay read the same
``Router``; an office move builds a new snapshot and swaps it in, so a reader holding the
old one keeps a consistent picture and the next reader sees the move entirely.
"""

from __future__ import annotations

from config.clock import FixedClock
from config.offices import OfficeRegistry
from config.topology import Topology
from gateway.directory import LocalDirectory
from gateway.routing.moves import OfficeMoves
from gateway.routing.router import Router, RoutingSnapshot
from mailboxes.store import Store
from tests.offices import decentralized_office as office

DOMAIN = "aduanas.gob.pe"


async def test_a_move_replaces_the_snapshot_everyone_reads(store: Store, clock: FixedClock) -> None:
    before = RoutingSnapshot.of(
        node_name="pisco",
        domain=DOMAIN,
        offices=OfficeRegistry([office("118", "hq"), office("127", "hq")]),
        topology=Topology(),
    )
    router = Router(before)
    directory = LocalDirectory(store, router)
    moves = OfficeMoves(store, router=router, clock=clock, registry_file=None)
    assert directory.intake_office(f"aduana-127@{DOMAIN}") is None

    moves.apply(
        OfficeRegistry(
            [office("118", "hq"), office("127", "pisco", moved_from="hq", move_serial=1)]
        )
    )
    after = router.current
    assert after is not before
    assert before.hosted_offices == frozenset()  # the old snapshot is left as it was
    assert after.hosted_offices == {"127"}
    assert directory.intake_office(f"aduana-127@{DOMAIN}") == "127"

    await moves.settle()  # the handover of move 1 has not arrived: 127's jobs wait
    assert router.current.held_offices == {"127"}
    assert router.current.hosted_offices == {"127"}
    assert after.held_offices == frozenset()
