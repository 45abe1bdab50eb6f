"""A full store over IMAP: ``NO [OVERQUOTA]`` for what cannot be written, as Dovecot answers a
full disk ("Not enough disk space"), not ``[INUSE]`` (a mailbox someone else holds); once
there is room again, the same APPEND is taken and the operator is told so, once. Below the
store's reserve, an APPEND is refused the same way.

The store's file is capped as ``tests.gateway.smtp.test_disk_full`` caps it.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import pytest

from config.clock import FixedClock
from mailboxes.store import Store
from tests.conftest import FAST_HASHER, more_than_free
from tests.gateway.imap.conftest import Running, accounts, in_thread, mail, serve
from tests.gateway.smtp.test_disk_full import cap_store


async def test_an_append_to_a_full_store_is_no_overquota(
    imap: Running, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    if not store.database.is_sqlite:
        pytest.skip("fills SQLite's file")
    client = await in_thread(imap.login)
    big = mail("grande", "y" * 76 + "\r\n") * 3000
    await cap_store(store, 2)
    typ, data = await in_thread(lambda: client.append("INBOX", None, None, big))
    assert typ == "NO"
    assert data[0].startswith(b"[OVERQUOTA] "), data
    caplog.set_level(logging.INFO)
    caplog.clear()
    await cap_store(store, 1_000_000)
    for _ in range(2):
        typ, data = await in_thread(lambda: client.append("INBOX", None, None, big))
        assert typ == "OK", data
    told = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert told == [
        "the store has room again: IMAP writes are taken, after 1 refused for want of room"
    ]


async def test_an_append_below_the_stores_reserve_is_no_overquota(
    tmp_path: Path, clock: FixedClock
) -> None:
    """An APPEND is a client's mail like any delivery: it stops short of the reserve kept
    free on SQLite's disk for the answers (``min_free_space_mib``)."""
    reserve = more_than_free(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    store = await Store.open(url, clock=clock, hasher=FAST_HASHER, reserve=reserve)
    try:
        await accounts(store)
        async for running in serve(store):
            client = await in_thread(running.login)
            typ, data = await in_thread(partial(client.append, "INBOX", None, None, mail("x")))
            assert typ == "NO"
            assert data[0].startswith(b"[OVERQUOTA] "), data
            await in_thread(client.logout)
    finally:
        await store.close()
