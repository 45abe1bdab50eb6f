"""A login flood (many guessers, each on its own address) on a node with production Argon2id
costs: a legitimate login and a declaration's reply stay within a few times their unloaded
latency. The flood runs in its own process, as an attacker's would."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.logins import LoginLimits
from config.settings import Settings
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from mailboxes.passwords import PasswordHasher
from tests.gateway.logins.conftest import smtp_auth
from tests.gateway.pipeline.helpers import declaration, flat, submission
from tests.node_clients import AGENT, submit_and_wait

ROOT = Path(__file__).resolve().parents[3]
GUESSERS = 100


@pytest.fixture
async def costly(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    """Real Argon2id costs, and no cache: every legitimate login pays a full check."""
    settings = Settings(
        data_dir=tmp_path / "node",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        host_all_offices=True,
        logins=LoginLimits(cache_size=0),
    )
    node = Node(settings, clock=clock, hasher=PasswordHasher())
    await node.start(demo=True)
    try:
        yield node
    finally:
        await node.stop()


async def login_latency(node: Node, rounds: int = 5) -> float:
    took = []
    for _ in range(rounds):
        reply, seconds = await smtp_auth(node, AGENT.address, DEMO_PASSWORD)
        assert reply.startswith("235"), reply
        took.append(seconds)
    return statistics.median(took)


async def reply_latency(node: Node, n: int) -> float:
    raw = submission(
        flat(declaration(reference=f"FLOOD-{n}", agent_code=AGENT.agent_code)),
        sender=AGENT.address,
        message_id=f"<flood-{n}@agencias.pe>",
    )
    started = time.monotonic()
    await submit_and_wait(node, raw, n)
    return time.monotonic() - started


async def test_a_login_flood_does_not_starve_logins_or_the_pipeline(costly: Node) -> None:
    await login_latency(costly, 1)  # warm up
    quiet_login = await login_latency(costly)
    quiet_reply = await reply_latency(costly, 1)

    flood = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.gateway.logins.flood",
        str(costly.port("smtp")),
        "--connections",
        str(GUESSERS),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert flood.stdout is not None
        async with asyncio.timeout(60):
            assert await flood.stdout.readline() == b"flooding\n"
        assert costly.logins is not None
        checked = costly.logins.verifications
        loaded_login = await login_latency(costly)
        loaded_reply = await reply_latency(costly, 2)
        guesses_checked = costly.logins.verifications - checked
    finally:
        flood.terminate()
        await flood.wait()

    print(f"login {quiet_login:.3f}s -> {loaded_login:.3f}s")
    print(f"reply {quiet_reply:.3f}s -> {loaded_reply:.3f}s")
    assert guesses_checked > 0  # the flood was under way
    # Generous: two shared cores. Without the penalty and the checks' own threads a login
    # took seconds and a reply tens of seconds under such a flood.
    assert loaded_login < max(5 * quiet_login, 0.5)
    assert loaded_reply < max(3 * quiet_reply, 3.0)
