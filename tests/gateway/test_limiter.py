"""The rate limiter, on an injected clock."""

from __future__ import annotations

import time

from gateway.limiter import RateLimiter


def test_a_key_gets_its_limit_per_window_then_again_after_it() -> None:
    limiter = RateLimiter(limit=2, window=60.0)
    assert [limiter.allow("a", t) for t in (0.0, 1.0, 2.0, 59.0)] == [True, True, False, False]
    assert limiter.allow("b", 3.0)
    assert limiter.allow("a", 60.0)


def test_would_allow_counts_nothing() -> None:
    limiter = RateLimiter(limit=1, window=60.0)
    assert limiter.would_allow("a", 0.0) and limiter.would_allow("a", 0.0)
    assert limiter.allow("a", 0.0)
    assert not limiter.would_allow("a", 1.0)


def test_memory_is_bounded_by_max_keys() -> None:
    limiter = RateLimiter(limit=1, window=60.0, max_keys=100)
    for n in range(10_000):
        assert limiter.allow(f"k{n}", float(n) / 1000)
    assert len(limiter._windows) <= 100


def test_the_expired_then_the_oldest_windows_make_room() -> None:
    limiter = RateLimiter(limit=1, window=60.0, max_keys=3)
    assert limiter.allow("a", 0.0) and limiter.allow("b", 10.0) and limiter.allow("c", 20.0)
    assert limiter.allow("a", 61.0)  # a's window starts again: now the newest
    assert limiter.allow("d", 62.0)  # b's is the oldest: dropped
    assert list(limiter._windows) == ["c", "a", "d"]
    assert limiter.allow("e", 85.0)  # c's has expired (and a's and d's have not)
    assert list(limiter._windows) == ["a", "d", "e"]
    assert not limiter.allow("a", 90.0) and not limiter.allow("d", 90.0)


def test_a_new_key_costs_no_scan_of_a_full_table() -> None:
    """Each new key when the table was full looked at every remembered one, twice: with
    200 000 remembered, 2 000 new keys took 85 s. Bounded generously here."""
    limiter = RateLimiter(limit=1, window=3600.0, max_keys=200_000)
    for n in range(200_000):
        limiter.allow(f"k{n}", 0.0)
    start = time.perf_counter()
    for n in range(2_000):
        assert limiter.allow(f"new{n}", 1.0)
    assert time.perf_counter() - start < 2.0
    assert len(limiter._windows) == 200_000 and "k0" not in limiter._windows


def test_amounts_add_up_to_the_limit_and_one_over_it_is_refused_uncounted() -> None:
    limiter = RateLimiter(limit=1000, window=60.0)
    assert limiter.allow("a", 0.0, 600)
    assert not limiter.would_allow("a", 1.0, 401) and not limiter.allow("a", 1.0, 401)
    assert limiter.would_allow("a", 1.0, 400) and limiter.allow("a", 1.0, 400)
    assert not limiter.would_allow("a", 2.0)  # nothing left
    assert not limiter.would_allow("b", 2.0, 1001)  # more than a whole window's
    assert limiter.would_allow("a", 60.0, 1000) and limiter.allow("a", 60.0, 1000)


def test_a_window_resets_when_its_length_has_passed_since_its_first_event() -> None:
    limiter = RateLimiter(limit=2, window=60.0)
    assert limiter.resets_in("a", 5.0) == 0.0  # no window yet
    limiter.allow("a", 10.0)
    limiter.allow("a", 30.0)
    assert limiter.resets_in("a", 40.0) == 30.0
    assert limiter.resets_in("a", 75.0) == 0.0


def test_what_was_given_back_can_be_counted_again_within_its_window_only() -> None:
    limiter = RateLimiter(limit=1000, window=60)
    assert limiter.allow("a", 0, 600)
    limiter.give_back("a", 1, 600)  # counted, then not done
    assert limiter.allow("a", 2, 1000)
    limiter.give_back("a", 3, 5000)  # never below nothing
    assert limiter.allow("a", 4, 1000)
    assert not limiter.would_allow("a", 5, 1)
    limiter.give_back("a", 60, 1000)  # its window has ended: nothing to give back
    limiter.give_back("nadie", 61, 10)  # nor for a key never counted
    assert limiter.allow("a", 61, 1000) and not limiter.would_allow("a", 62, 1)
    assert not limiter.would_allow("nadie", 62, 1001)
