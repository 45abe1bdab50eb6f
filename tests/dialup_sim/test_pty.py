"""A serial program on the pseudo-terminal: same modem, a tty device instead of TCP."""

from __future__ import annotations

import asyncio
import os
import select
import termios
import time
import tty

import pytest

from tests.dialup_sim.conftest import Echo, ProxyFactory

pytestmark = pytest.mark.slow


def read_until(fd: int, marker: bytes, within: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + within
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{marker!r} not seen in {seen!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 1024)
    return seen


def open_device(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


async def test_dial_on_the_pty_and_keep_the_call_across_reopening(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=50.0)
    path = proxy.open_pty()
    assert path.startswith("/dev/")

    def first_session() -> tuple[bytes, bytes, bytes]:
        fd = open_device(path)
        try:
            os.write(fd, b"ATE0\r")
            ok = read_until(fd, b"OK\r\n")
            os.write(fd, b"ATDT0800\r")
            connect = read_until(fd, b"REL\r\n")
            os.write(fd, b"ping")
            return ok, connect, read_until(fd, b"ping")
        finally:
            os.close(fd)

    def second_session() -> bytes:
        fd = open_device(path)  # the program comes back: the modem is still online
        try:
            os.write(fd, b"pong")
            return read_until(fd, b"pong")
        finally:
            os.close(fd)

    ok, connect, echoed = await asyncio.to_thread(first_session)
    assert ok == b"ATE0\r\r\nOK\r\n"
    assert connect == b"\r\nCONNECT 9600/REL\r\n"
    assert echoed == b"ping"
    assert await asyncio.to_thread(second_session) == b"pong"
    assert proxy.pool.in_use == 1


async def test_setting_the_speed_to_zero_drops_dtr_and_hangs_up(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=50.0)
    path = proxy.open_pty()

    def session() -> tuple[bytes, bytes]:
        fd = open_device(path)
        try:
            os.write(fd, b"ATE0\rATDT0800\r")
            read_until(fd, b"REL\r\n")
            attrs = termios.tcgetattr(fd)
            speed = attrs[5]
            attrs[4] = attrs[5] = termios.B0  # "stty 0": hang up
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            hung_up = read_until(fd, b"NO CARRIER\r\n")
            attrs[4] = attrs[5] = speed  # DTR back up: the modem takes commands again
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            os.write(fd, b"AT\r")
            return hung_up, read_until(fd, b"OK\r\n")
        finally:
            os.close(fd)

    hung_up, ok = await asyncio.to_thread(session)
    assert hung_up == b"\r\nNO CARRIER\r\n"
    assert ok == b"\r\nOK\r\n"
    assert proxy.reports[-1].reason == "DTR dropped"
    assert proxy.pool.in_use == 0
