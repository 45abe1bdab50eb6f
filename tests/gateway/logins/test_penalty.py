"""The penalty's decisions, with the time given: growth, turns, refusal, forgiveness."""

from __future__ import annotations

import pytest

from config.logins import LoginLimits
from gateway.logins.penalty import LoginPenalty, client_key

LIMITS = LoginLimits(penalty_seconds=1.0, max_penalty_seconds=15.0, forget_after_seconds=900)
A, B = "192.0.2.1", "192.0.2.2"
USER = "agente1@agencias.pe"


def test_a_clean_client_waits_nothing() -> None:
    assert LoginPenalty(LIMITS).admit(A, USER, 0.0).wait == 0.0


def test_each_failure_doubles_the_wait_of_the_next_attempt_from_that_address() -> None:
    penalty = LoginPenalty(LIMITS)
    now, waits = 0.0, []
    for _ in range(5):
        admission = penalty.admit(A, f"other{now}@x.pe", now)  # a new account each time
        now += admission.wait
        waits.append(admission.wait)
        penalty.failed(A, f"other{now}@x.pe", now)
    assert waits == [0.0, 1.0, 2.0, 4.0, 8.0]


def test_failures_on_an_account_slow_down_other_addresses_too() -> None:
    penalty = LoginPenalty(LIMITS)
    penalty.failed(A, USER, 0.0)
    penalty.failed(A, USER, 0.0)
    assert penalty.admit(B, USER, 0.0).wait == 2.0
    assert penalty.admit(B, "someone@else.pe", 0.0).wait == 0.0


def test_concurrent_attempts_take_turns_and_far_turns_are_refused() -> None:
    penalty = LoginPenalty(LIMITS)
    penalty.failed(A, USER, 0.0)
    admissions = [penalty.admit(A, USER, 0.0) for _ in range(30)]
    waits = [a.wait for a in admissions if not a.refused]
    assert waits == [float(n) for n in range(1, 16)]  # one per second, up to the longest delay
    assert sum(a.refused for a in admissions) == 15


def test_a_good_login_forgives_the_address_and_exempts_it_from_the_accounts_penalty() -> None:
    penalty = LoginPenalty(LIMITS)
    for _ in range(3):
        penalty.failed(B, USER, 0.0)  # someone guesses elsewhere
    penalty.failed(A, USER, 0.0)
    penalty.succeeded(A, USER, 1.0)
    assert penalty.admit(A, USER, 1.0).wait == 0.0
    assert penalty.admit(B, USER, 1.0).wait > 0.0  # the guesser is still slowed down
    assert penalty.admit("192.0.2.9", USER, 1.0).wait > 0.0  # and so is any new address


def test_failures_are_forgotten_after_a_quiet_while() -> None:
    penalty = LoginPenalty(LIMITS)
    penalty.failed(A, USER, 0.0)
    assert penalty.admit(A, USER, 0.5).wait > 0
    assert penalty.admit(A, USER, 901.0).wait == 0.0
    assert penalty.failures(A, 901.0) == 0


def test_memory_is_bounded() -> None:
    penalty = LoginPenalty(LIMITS.model_copy(update={"tracked": 10}))
    for n in range(1000):
        penalty.failed(f"10.0.{n // 256}.{n % 256}", f"user{n}@x.pe", 0.0)
    assert sum(penalty.failures(f"10.0.{n // 256}.{n % 256}", 0.0) for n in range(1000)) == 10


def test_a_zero_penalty_never_delays() -> None:
    penalty = LoginPenalty(LIMITS.model_copy(update={"penalty_seconds": 0.0}))
    for _ in range(50):
        penalty.failed(A, USER, 0.0)
    assert penalty.admit(A, USER, 0.0).wait == 0.0


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8::ffff:1", "2001:db8::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, "unknown"),
    ],
)
def test_client_keys(host: str | None, key: str) -> None:
    assert client_key(host) == key
