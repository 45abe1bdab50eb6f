"""``teledispatch watch`` as a real process against a whole node."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time

import pytest

from gateway.cli import main
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests.gateway.imap.test_idle import smtp_send
from tests.gateway.pipeline.helpers import declaration, flat, submission

pytestmark = pytest.mark.slow

OFFICE = "aduana-118@aduanas.gob.pe"
AGENT = DEMO_AGENTS[0]


async def read_until(stream: asyncio.StreamReader, needle: bytes, within: float) -> bytes:
    async with asyncio.timeout(within):
        while True:
            line = await stream.readline()
            if not line or needle in line:
                return line


async def test_watch_prints_each_new_acceptance_within_a_second(node: Node) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "watch",
        "--user", OFFICE, "--password", DEMO_PASSWORD,
        "--server", f"127.0.0.1:{node.port('imap')}",
        "--folder", "INBOX", "--folder", "Canal rojo",  # the second one does not exist yet
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    try:
        connected = await read_until(process.stderr, b"esperando en INBOX", within=30)
        assert b"INBOX" in connected, connected + await process.stderr.read()
        started = time.monotonic()
        raw = submission(flat(declaration("dua", reference="R-CLI")), sender=AGENT.address)
        await smtp_send(node, AGENT.address, OFFICE, raw)
        line = (await asyncio.wait_for(process.stdout.readline(), 5)).decode()
        elapsed = time.monotonic() - started
    finally:
        process.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(process.wait(), 10)
    assert elapsed < 1.0, f"printed after {elapsed:.2f} s"
    assert re.fullmatch(
        rf"\[INBOX\] 118-\d{{4}}-10-\d{{6}}  despachador {AGENT.agent_code}  "
        r"canal (verde|naranja|rojo)  ref\. R-CLI\n",
        line,
    ), line
    assert status == 0


async def test_watch_refused_login_exits_1(node: Node, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["watch", "--user", OFFICE, "--password", "mala"]
    argv += ["--server", f"127.0.0.1:{node.port('imap')}"]
    assert await asyncio.to_thread(main, argv) == 1
    assert "login refused" in capsys.readouterr().err


def test_watch_bad_server_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--user", OFFICE, "--password", "x", "--server", "sin-puerto"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
