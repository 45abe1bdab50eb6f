"""What wakes a live feed and what its next pass looks at (``gateway.http.feed``)."""

from __future__ import annotations

from gateway.http.feed import MAX_PENDING, FeedState
from mailboxes.ledger import Scope
from mailboxes.records import Change

AGENT = "agente1@agencias.pe"
AGENT_SCOPE = Scope(agent_address=AGENT, agent_code="4821")


def test_an_agents_feed_wakes_for_new_jobs_and_its_own_mailbox_only() -> None:
    feed = FeedState(AGENT_SCOPE)
    assert not feed.hear(Change(frozenset({("agente2@agencias.pe", "INBOX")})))
    assert not feed.hear(Change(frozenset({("aduana-118@aduanas.gob.pe", "Verde")})))
    assert feed.take() == (set(), False)
    assert feed.hear(Change(frozenset({("aduana-118@aduanas.gob.pe", "Recibidos")}), (7, 8)))
    assert feed.hear(Change(frozenset({(AGENT, "INBOX")})))  # a reply filed: an answer
    assert feed.take() == ({7, 8}, True)
    assert feed.take() == (set(), False)  # a pass takes what was heard, once


def test_an_offices_and_headquarters_feed_wake_for_any_mail() -> None:
    for scope in (Scope(office_code="118"), Scope(everything=True)):
        feed = FeedState(scope)
        assert feed.hear(Change(frozenset({("agente2@agencias.pe", "INBOX")})))
        assert feed.take() == (set(), True)
        assert not feed.hear(Change(frozenset(), relayed=True))  # nothing filed here


def test_job_ids_past_the_bound_are_dropped_not_kept() -> None:
    feed = FeedState(AGENT_SCOPE)
    feed.hear(Change(frozenset(), tuple(range(MAX_PENDING - 2))))
    assert feed.hear(Change(frozenset(), (10**6, 10**6 + 1, 10**6 + 2)))  # still wakes
    jobs, _ = feed.take()
    assert len(jobs) == MAX_PENDING and 10**6 + 2 not in jobs
