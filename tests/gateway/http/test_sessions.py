"""The console's sessions: they end when idle too long, and there is a bound on how many."""

from __future__ import annotations

from gateway.http.auth import Caller, Sessions
from mailboxes.records import Account
from mailboxes.schema import Role


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _caller() -> Caller:
    account = Account("aduana-118@aduanas.gob.pe", Role.OFFICE, None, "118")
    return Caller(account, admin=False)


def test_a_session_used_stays_and_an_idle_one_ends() -> None:
    clock = Ticking()
    sessions = Sessions(idle_seconds=600, limit=10, clock=clock)
    kept, _ = sessions.open(_caller())
    left, _ = sessions.open(_caller())
    clock.now += 500
    assert sessions.get(kept) is not None  # used: its idle time starts again
    clock.now += 500
    assert sessions.get(kept) is not None
    assert sessions.get(left) is None  # 1000 s without a request
    assert sessions.get(left) is None


def test_past_the_bound_the_least_recently_used_session_ends() -> None:
    clock = Ticking()
    sessions = Sessions(idle_seconds=600, limit=3, clock=clock)
    first, second, third = (sessions.open(_caller())[0] for _ in range(3))
    assert sessions.get(first) is not None  # first used last: second is now the oldest
    fourth, _ = sessions.open(_caller())
    assert [sessions.get(s) is not None for s in (first, second, third, fourth)] == [
        True,
        False,
        True,
        True,
    ]
    assert len(sessions) == 3
