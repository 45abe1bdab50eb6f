"""The HTTP tests' node: a demo node with the test rig's administration on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.logins import LoginLimits
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.gateway.http.rig import rig_settings


@pytest.fixture
async def rig(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    """A demo node with the test rig's administration on and the Headquarters account admin."""
    settings = rig_settings(
        tmp_path,
        # Short penalties, so the guessing test takes a second (defaults: 1 s to 15 s).
        logins=LoginLimits(penalty_seconds=0.05, max_penalty_seconds=0.4),
    )
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        yield node
    finally:
        await node.stop()
