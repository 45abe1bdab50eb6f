"""The state table itself: complete, consistent, and never UPDATE without QUIT."""

from __future__ import annotations

import pytest

from gateway.pop3 import Pop3Session, Pop3UsageError
from gateway.pop3.commands import KEYWORDS
from gateway.pop3.state import HANDLERS, TRANSITIONS, State, Trigger, next_state


def test_every_handler_named_in_the_table_exists() -> None:
    for state, handlers in HANDLERS.items():
        for keyword, name in handlers.items():
            assert keyword in KEYWORDS, (state, keyword)
            assert callable(getattr(Pop3Session, name)), name


def test_every_keyword_is_accepted_in_some_state() -> None:
    accepted = {keyword for handlers in HANDLERS.values() for keyword in handlers}
    assert accepted == set(KEYWORDS)


def test_only_quit_leads_to_update() -> None:
    into_update = [
        (state, trigger)
        for state, moves in TRANSITIONS.items()
        for trigger, target in moves.items()
        if target is State.UPDATE
    ]
    assert into_update == [(State.TRANSACTION, Trigger.QUIT)]


def test_peer_gone_closes_without_update_from_every_reading_state() -> None:
    for state in (State.AUTHORIZATION, State.TRANSACTION):
        assert next_state(state, Trigger.PEER_GONE) is State.CLOSED


def test_missing_transition_is_a_usage_error_naming_state_and_trigger() -> None:
    with pytest.raises(Pop3UsageError, match=r"QUIT.*CLOSED"):
        next_state(State.CLOSED, Trigger.QUIT)
