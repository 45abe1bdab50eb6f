"""An office move's numbering handover in the store, on both backends: sent once, only
when the office's jobs here are answered; received once, counters only moving forward."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, update

from mailboxes.handover import CounterValue, handovers, receive_handover, send_handover
from mailboxes.records import Change, Recipient
from mailboxes.relay import RelayQueue
from mailboxes.schema import IntakeJobRow, JobState
from mailboxes.store import Store

OFFICE = "118"
INTAKE = Recipient("aduana-118@aduanas.gob.pe", intake_office=OFFICE)
HANDOVER_ADDRESS = "traspaso-118@aduanas.gob.pe"


async def _receive(store: Store, serial: int, counters: list[CounterValue]) -> list[int]:
    return await receive_handover(
        store,
        office=OFFICE,
        serial=serial,
        from_node="callao",
        to_node="lima",
        counters=counters,
        now=store.clock.now(),
    )


async def _send(store: Store, serial: int, rendered: list[list[CounterValue]]) -> bool:
    def render(counters: list[CounterValue]) -> bytes:
        rendered.append(counters)
        return f"Subject: traspaso {serial}\r\n\r\n{counters}\r\n".encode()

    return await send_handover(
        store,
        office=OFFICE,
        serial=serial,
        from_node="lima",
        to_node="tacna",
        recipient=HANDOVER_ADDRESS,
        now=store.clock.now(),
        render=render,
    )


async def test_a_received_handover_moves_counters_forward_once(store: Store) -> None:
    (held,) = await store.deliver("a@x.pe", [INTAKE], b"Subject: dua\r\n\r\n")
    first = [CounterValue(1997, "10", 41), CounterValue(1997, "40", 7)]
    assert await _receive(store, 1, first) == [held]
    assert await handovers(store, "received") == {(OFFICE, 1)}
    # A repeat of the same move is ignored, even with other figures.
    assert await _receive(store, 1, [CounterValue(1997, "10", 99)]) == [held]
    # A later move's counters: one goes forward, one that would go back is kept.
    await _receive(store, 2, [CounterValue(1997, "10", 50), CounterValue(1997, "40", 3)])
    rendered: list[list[CounterValue]] = []
    await _finish_jobs(store)
    assert await _send(store, 3, rendered)
    assert sorted(rendered[0], key=lambda c: c.regime) == [
        CounterValue(1997, "10", 50),
        CounterValue(1997, "40", 7),
    ]


async def test_a_handover_waits_for_the_office_jobs_and_is_sent_once(store: Store) -> None:
    heard: list[Change] = []
    store.subscribe(heard.append)
    await _receive(store, 1, [CounterValue(1997, "10", 12)])
    await store.deliver("a@x.pe", [INTAKE], b"Subject: dua\r\n\r\n")
    heard.clear()
    rendered: list[list[CounterValue]] = []
    assert not await _send(store, 2, rendered)  # a declaration received here is pending
    assert rendered == [] and heard == []
    await _finish_jobs(store)
    assert await _send(store, 2, rendered)
    assert rendered == [[CounterValue(1997, "10", 12)]]
    assert heard == [Change(frozenset(), relayed=True)]  # the relay worker wakes
    assert not await _send(store, 2, rendered)  # already sent
    assert len(rendered) == 1
    assert await handovers(store, "sent") == {(OFFICE, 2)}
    now = store.clock.now()
    (queued,) = await RelayQueue(store).take_due(now, lease=timedelta(minutes=1))
    assert (queued.sender, queued.recipient, queued.node) == ("", HANDOVER_ADDRESS, "tacna")
    assert queued.raw.startswith(b"Subject: traspaso 2\r\n")


async def _finish_jobs(store: Store) -> None:
    def finish(connection: Connection) -> None:
        connection.execute(update(IntakeJobRow).values(state=JobState.DONE.value))

    await store.database.run(finish, write=True)
