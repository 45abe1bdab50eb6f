"""Fixtures shared by the whole suite: a real store on SQLite, and a real node on free ports."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.clock import FixedClock
from config.settings import Settings
from gateway.node import Node
from mailboxes.passwords import PasswordHasher
from mailboxes.store import Store
from tests.postgres import own_server

__all__ = ["FAST_HASHER", "demo_node", "own_server"]

# Every node a test starts (in process or as a subprocess) serves HTTP on a free port unless
# the test names one: the default 8025 would make parallel nodes collide.
os.environ.setdefault("TELEDISPATCH_HTTP_PORT", "0")
# Likewise the implicit-TLS ports (4465, 1995, 1993 by default).
for _service in ("SMTPS", "POP3S", "IMAPS"):
    os.environ.setdefault(f"TELEDISPATCH_{_service}_PORT", "0")

# Argon2 at its cheapest: tests authenticate hundreds of times; production costs are settings.
FAST_HASHER = PasswordHasher(time_cost=1, memory_kib=8, parallelism=1)


def more_than_free(path: Path) -> int:
    """Bytes more than the disk of ``path`` has free (by a GiB): a reserve of the store's
    that no incoming mail can leave."""
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize + 2**30


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
async def store(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Store]:
    opened = await Store.open(
        f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", clock=clock, hasher=FAST_HASHER
    )
    try:
        yield opened
    finally:
        await opened.close()


@asynccontextmanager
async def demo_node(
    data_dir: Path, clock: FixedClock, *, database_url: str | None = None, **overrides: Any
) -> AsyncIterator[Node]:
    """A whole node hosting every office, on free loopback ports, with the demo accounts;
    its store under ``data_dir`` (SQLite) or at ``database_url``; ``overrides`` are further
    settings (or replace these)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "smtp_port": 0,
        "pop3_port": 0,
        "imap_port": 0,
        "smtps_port": 0,
        "pop3s_port": 0,
        "imaps_port": 0,
        "host_all_offices": True,
    }
    settings = Settings(**(values | overrides))
    running = Node(settings, clock=clock, hasher=FAST_HASHER)
    await running.start(demo=True)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def node(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    """A whole node hosting every office, on free loopback ports, with the demo accounts.

    Demo accounts: each office's ``aduana-<code>@aduanas.gob.pe`` and the agents in
    ``gateway.demo.DEMO_AGENTS``, all with password ``gateway.demo.DEMO_PASSWORD``.
    Ports: ``node.port("smtp")``, ``node.port("pop3")``; the store: ``node.store``.
    """
    async with demo_node(tmp_path / "node", clock) as running:
        yield running
