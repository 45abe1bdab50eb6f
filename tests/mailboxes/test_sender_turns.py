"""Senders' turns, without a store: the order in which the queue takes senders' jobs."""

from __future__ import annotations

import pytest

from mailboxes.sender_turns import MIN_COST, SenderTurns, cost

KB = 1024


@pytest.mark.parametrize(("size", "counts"), [(0, MIN_COST), (100, MIN_COST), (60 * KB, 60 * KB)])
def test_a_mail_counts_its_size_and_at_least_the_minimum(size: int, counts: int):
    assert cost(size) == counts


def test_a_senders_jobs_are_spaced_by_their_cost_and_a_newcomer_starts_at_the_head():
    turns = SenderTurns()
    flood = [turns.take("agente1@agencias.pe", 60 * KB) for _ in range(100)]
    assert flood == [n * 60 * KB for n in range(1, 101)]
    newcomer = turns.take("agente2@agencias.pe", 2 * KB)
    assert newcomer == MIN_COST  # before the flooder's mails, not after its hundredth
    assert sorted([*flood, newcomer])[0] == newcomer


def test_the_sender_is_one_whatever_the_case_of_its_address():
    turns = SenderTurns()
    turns.take("Agente1@Agencias.PE", 8 * KB)
    assert turns.take("agente1@agencias.pe", 8 * KB) == 16 * KB


def test_a_claim_moves_the_head_and_a_sender_behind_it_starts_from_there():
    turns = SenderTurns()
    early = turns.take("agente2@agencias.pe", 8 * KB)
    flood = [turns.take("agente1@agencias.pe", 60 * KB) for _ in range(10)]
    turns.claimed([early, *flood[:5]])
    assert turns.head == flood[4]
    assert turns.waiting_senders() == 1  # agente2 is behind the head: forgotten
    assert turns.take("agente2@agencias.pe", 8 * KB) == flood[4] + 8 * KB
    assert turns.take("agente1@agencias.pe", 60 * KB) == flood[-1] + 60 * KB


def test_claiming_older_turns_never_moves_the_head_back():
    turns = SenderTurns(head=500 * KB)
    turns.claimed([0, 10 * KB])  # jobs queued before the turns, or retried
    turns.claimed([])
    assert turns.head == 500 * KB


def test_turns_resumed_from_the_pending_jobs_go_on_where_they_were():
    resumed = SenderTurns.resume(
        [("agente1@agencias.pe", 60 * KB, 600 * KB), ("AGENTE1@agencias.pe", 0, 0)]
    )
    assert resumed.head == 0  # the lowest pending turn: jobs queued before turns existed
    assert resumed.take("agente1@agencias.pe", 60 * KB) == 660 * KB
    assert resumed.take("agente2@agencias.pe", 2 * KB) == MIN_COST
    assert SenderTurns.resume([]).head == 0
