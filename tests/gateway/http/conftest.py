"""The HTTP tests' node: a demo node with the test rig's administration on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.logins import LoginLimits
from config.settings import Settings
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.gateway.http.rig import ADMIN


@pytest.fixture
async def rig(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    """A demo node with the test rig's administration on and the Headquarters account admin."""
    settings = Settings(
        data_dir=tmp_path / "node",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        http_port=0,
        host_all_offices=True,
        http_admins=[ADMIN],
        http_test_rig=True,
        # Short penalties, so the guessing test takes a second (defaults: 1 s to 15 s).
        logins=LoginLimits(penalty_seconds=0.05, max_penalty_seconds=0.4),
    )
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        yield node
    finally:
        await node.stop()
