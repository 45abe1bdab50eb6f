"""A dial-in login on the answering pseudo-terminal: util-linux's agetty, the way a 1990s
Unix host waited for callers, is hung up when the caller goes, as on a serial line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess

import pytest

from tests.dialup_sim.conftest import Echo, ProxyFactory, needs_pty_hangup
from tests.tools import needs

pytestmark = [
    pytest.mark.slow,
    needs("agetty"),
    pytest.mark.skipif(os.geteuid() != 0, reason="agetty needs root"),
    needs_pty_hangup,
]

AGETTY = shutil.which("agetty") or "/usr/sbin/agetty"
INIT = b"ATE0Q1&D2&C1S0=1\r"  # agetty's manual, for a Hayes modem on a dial-in line


async def read_until(reader: asyncio.StreamReader, marker: bytes) -> bytes:
    return await asyncio.wait_for(reader.readuntil(marker), 10)


async def press_enter_until_prompted(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bytes:
    """What a caller does at a quiet line: Enter, and again, until the prompt comes."""
    for _ in range(10):
        writer.write(b"\r")
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(reader.readuntil(b"login: "), 2)
    raise AssertionError("no login prompt")


async def test_agetty_answers_a_caller_and_is_hung_up_when_the_caller_goes(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=20.0)
    path = proxy.open_pty(answer_number="0901")

    def configure() -> None:
        # agetty's manual, for a Hayes modem: echo and result codes off, DCD follows the
        # carrier, a DTR drop hangs up, answer after one ring.
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, INIT)
            echoed = b""
            while echoed != INIT:  # the echo of the line (E1 until it ends), then silence
                echoed += os.read(fd, len(INIT) - len(echoed))
        finally:
            os.close(fd)

    await asyncio.to_thread(configure)
    # -L=never clears CLOCAL, "the carrier-detect signal is expected on the line" (agetty's
    # manual); --wait-cr waits for the caller's Enter before the prompt.
    getty = await asyncio.create_subprocess_exec(
        AGETTY, "-L=never", "--wait-cr", "--noclear", "--noissue", "--nohostname",
        "9600", path.removeprefix("/dev/"),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        reader, writer = await asyncio.open_connection(proxy.address.host, proxy.address.port)
        writer.write(b"ATE0\rATDT0901\r")
        assert (await read_until(reader, b"REL\r\n")).endswith(b"\r\nCONNECT 9600/REL\r\n")
        assert (await press_enter_until_prompted(reader, writer)).endswith(b"login: ")
        assert getty.returncode is None
        writer.close()  # the caller hangs up: the answering modem loses the carrier
        status = await asyncio.wait_for(getty.wait(), 15)
    finally:
        if getty.returncode is None:
            getty.kill()
            await getty.wait()
    assert status == -signal.SIGHUP  # the line was hung up under it, as on a serial line
    assert proxy.reports[-1].reason == "remote hung up"
