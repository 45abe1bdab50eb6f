"""The relay queue in the store, on both backends: a claim leases what is due, a failed
attempt is counted, a settled message goes with its bytes; on SQLite each is one hand-off
to the database thread."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from mailboxes.records import Recipient
from mailboxes.relay import MAX_ERROR_LENGTH, RelayQueue
from mailboxes.store import Store
from tests.mailboxes.test_database import hand_offs

__all__ = ["hand_offs"]

LEASE = timedelta(minutes=2)


def _to_callao(n: int) -> Recipient:
    return Recipient(f"agente{n}@callao.aduanas.gob.pe", relay_to="callao")


async def test_a_claim_leases_what_is_due_oldest_first(store: Store) -> None:
    now = store.clock.now()
    await store.deliver("a@x.pe", [_to_callao(1)], b"uno")
    await store.deliver("a@x.pe", [_to_callao(2), _to_callao(3)], b"dos")
    queue = RelayQueue(store)
    taken = await queue.take_due(now, lease=LEASE, limit=2)
    assert [(item.recipient, item.raw) for item in taken] == [
        ("agente1@callao.aduanas.gob.pe", b"uno"),
        ("agente2@callao.aduanas.gob.pe", b"dos"),
    ]
    assert [item.next_attempt_at for item in taken] == [now + LEASE] * 2  # their lease
    (third,) = await queue.take_due(now, lease=LEASE)
    assert third.recipient == "agente3@callao.aduanas.gob.pe"
    assert await queue.take_due(now, lease=LEASE) == []  # all leased
    pending = await queue.pending()
    assert {item.next_attempt_at for item in pending} == {now + LEASE}
    assert {item.raw for item in pending} == {b""}
    again = await queue.take_due(now + LEASE, lease=LEASE)
    assert len(again) == 3  # a sender that died leaves them to be tried again


async def test_concurrent_claims_never_take_the_same_message(store: Store) -> None:
    now = store.clock.now()
    await store.deliver("a@x.pe", [_to_callao(n) for n in range(30)], b"muchos")
    queue = RelayQueue(store)
    claims = await asyncio.gather(*(queue.take_due(now, lease=LEASE, limit=4) for _ in range(10)))
    ids = [item.id for claim in claims for item in claim]
    assert len(ids) == len(set(ids)) == 30


async def test_a_retry_counts_the_attempt_and_keeps_a_bounded_error(store: Store) -> None:
    now = store.clock.now()
    await store.deliver("a@x.pe", [_to_callao(1)], b"uno")
    queue = RelayQueue(store)
    (item,) = await queue.take_due(now, lease=LEASE)
    await queue.retry_at(item.id, now + timedelta(minutes=5), "451 " + "x" * 5000)
    (retried,) = await queue.pending()
    assert retried.attempts == 1
    assert retried.next_attempt_at == now + timedelta(minutes=5)
    assert retried.last_error is not None and len(retried.last_error) == MAX_ERROR_LENGTH
    assert await queue.take_due(now + timedelta(minutes=4), lease=LEASE) == []
    (due,) = await queue.take_due(now + timedelta(minutes=5), lease=LEASE)
    assert (due.attempts, due.raw) == (1, b"uno")


async def test_removing_the_last_relay_of_a_message_drops_its_bytes(store: Store) -> None:
    now = store.clock.now()
    await store.deliver("a@x.pe", [_to_callao(1), _to_callao(2)], b"dos")
    queue = RelayQueue(store)
    first, second = await queue.take_due(now, lease=LEASE)
    await queue.remove(first.id)
    assert await store.count_contents() == 1  # the other recipient still needs it
    await queue.remove(second.id)
    await queue.remove(second.id)  # settling twice is harmless
    assert await queue.pending() == []
    assert await store.count_contents() == 0


async def test_a_claim_and_a_settlement_are_one_hand_off_each(
    store: Store, hand_offs: list[int]
) -> None:
    if not store.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")
    now = store.clock.now()
    await store.deliver("a@x.pe", [_to_callao(n) for n in range(4)], b"cuatro")
    queue = RelayQueue(store)
    (warm,) = await queue.take_due(now, lease=LEASE, limit=1)  # statements compiled
    await queue.retry_at(warm.id, now, "451 later")
    await queue.remove(warm.id)
    hand_offs[0] = 0
    taken = await queue.take_due(now, lease=LEASE)
    assert len(taken) == 3
    assert hand_offs[0] == 1  # was 11: begin, select, fetch, update, commit, close...
    hand_offs[0] = 0
    await queue.retry_at(taken[0].id, now, "451 later")
    assert hand_offs[0] == 1
    hand_offs[0] = 0
    await queue.remove(taken[1].id)
    assert hand_offs[0] == 1
