"""The cache of good logins: only the exact password finds it; a changed hash, age and size
evict."""

from __future__ import annotations

from gateway.logins.cache import LoginCache

USER = "agente1@agencias.pe"


def test_only_the_password_that_succeeded_hits() -> None:
    cache = LoginCache(size=10, max_age=60)
    cache.remember(cache.key(USER, "demo"), "$hash1", 0.0)
    assert cache.hit(cache.key(USER, "demo"), "$hash1", 1.0)
    assert not cache.hit(cache.key(USER, "Demo"), "$hash1", 1.0)
    assert not cache.hit(cache.key("agente2@agencias.pe", "demo"), "$hash1", 1.0)


def test_a_changed_password_hash_evicts_the_entry() -> None:
    cache = LoginCache(size=10, max_age=60)
    key = cache.key(USER, "demo")
    cache.remember(key, "$hash1", 0.0)
    assert not cache.hit(key, "$hash2", 1.0)
    assert len(cache) == 0
    assert not cache.hit(key, "$hash1", 1.0)  # gone for good, not just skipped


def test_entries_expire_and_the_size_is_bounded() -> None:
    cache = LoginCache(size=3, max_age=60)
    cache.remember(cache.key(USER, "old"), "$h", 0.0)
    assert not cache.hit(cache.key(USER, "old"), "$h", 61.0)
    for n in range(10):
        cache.remember(cache.key(USER, f"p{n}"), "$h", 0.0)
    assert len(cache) == 3
    assert cache.hit(cache.key(USER, "p9"), "$h", 1.0)
    assert not cache.hit(cache.key(USER, "p0"), "$h", 1.0)


def test_keys_depend_on_a_per_process_secret() -> None:
    assert LoginCache(size=1, max_age=1).key(USER, "demo") != LoginCache(size=1, max_age=1).key(
        USER, "demo"
    )


def test_a_size_of_zero_remembers_nothing() -> None:
    cache = LoginCache(size=0, max_age=60)
    cache.remember(cache.key(USER, "demo"), "$h", 0.0)
    assert not cache.hit(cache.key(USER, "demo"), "$h", 0.0)
