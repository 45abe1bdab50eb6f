"""The rate limiter, on an injected clock."""

from __future__ import annotations

from gateway.registration.limiter import RateLimiter


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
