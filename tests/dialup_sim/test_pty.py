"""A serial program on the pseudo-terminal: same modem, a tty device instead of TCP."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import select
import signal
import subprocess
import termios
import time
import tty

import pytest

from dialup_sim import pty_port
from dialup_sim.pty_port import open_pty
from tests.dialup_sim.conftest import Echo, ProxyFactory, needs_pty_hangup

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


def read_to_end(fd: int, within: float = 10.0) -> bytes:
    """Everything until end-of-file: what a program reads from a line that was hung up."""
    seen = b""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no end of file after {seen!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data = os.read(fd, 1024)
            if not data:
                return seen
            seen += data


def wait_for_open(pid: int, path: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if os.readlink(f"/proc/{pid}/fd/0") == path:
                return
        except OSError:
            pass
        select.select([], [], [], 0.01)
    raise TimeoutError(f"process {pid} never opened {path}")


def clocal(fd: int, on: bool) -> None:
    attrs = termios.tcgetattr(fd)
    attrs[2] = attrs[2] | termios.CLOCAL if on else attrs[2] & ~termios.CLOCAL
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


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
            attrs = termios.tcgetattr(fd)
            attrs[2] &= ~termios.HUPCL  # "stty -hupcl": closing the device keeps DTR up
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
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


async def test_closing_the_device_drops_dtr_under_hupcl_as_a_serial_port_does(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=50.0)
    path = proxy.open_pty()

    def session() -> int:
        fd = open_device(path)
        try:
            cflag = termios.tcgetattr(fd)[2]  # as the modem left the line: HUPCL, as ttyS
            os.write(fd, b"ATE0\rATDT0800\r")
            read_until(fd, b"REL\r\n")
            return cflag
        finally:
            os.close(fd)  # the last close drops DTR: &D2 hangs up

    cflag = await asyncio.to_thread(session)
    assert cflag & termios.HUPCL
    deadline = time.monotonic() + 10
    while proxy.pool.in_use:
        assert time.monotonic() < deadline, "closing the device did not hang up"
        await asyncio.sleep(0.01)
    assert proxy.reports[-1].reason == "DTR dropped"


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


@needs_pty_hangup
async def test_carrier_loss_hangs_up_a_line_whose_clocal_is_off(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    """As the kernel does on a serial line under modem control: the session whose
    controlling terminal it is gets SIGHUP, reads end, writes fail, settings stay."""
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=50.0)
    proxy.set_carrier_drop(4)
    path = proxy.open_pty()

    def session() -> tuple[int, bytes, int, int]:
        fd = open_device(path)
        cat: subprocess.Popen[bytes] | None = None
        try:
            clocal(fd, False)  # modem control, as getty, cu and pppd's "modem" ask for
            os.write(fd, b"ATE0\rATDT0800\r")
            read_until(fd, b"REL\r\n")
            # cat, in a session of its own with the line as controlling terminal (a login)
            cat = subprocess.Popen(
                ["setsid", "sh", "-c", 'exec cat <"$0" >/dev/null', path],
                stderr=subprocess.DEVNULL,
            )
            wait_for_open(cat.pid, path)
            os.write(fd, b"ping")  # the fourth byte drops the carrier
            read_to_end(fd)
            try:
                os.write(fd, b"AT\r")
                write_error = 0
            except OSError as exc:
                write_error = exc.errno
            status = cat.wait(timeout=10)
        finally:
            os.close(fd)
            if cat is not None and cat.poll() is None:
                cat.kill()
                cat.wait()
        again = open_device(path)  # the program opens the line again
        try:
            cflag = termios.tcgetattr(again)[2]
            os.write(again, b"AT\r")
            return status, read_until(again, b"OK\r\n"), write_error, cflag
        finally:
            os.close(again)

    status, ok, write_error, cflag = await asyncio.to_thread(session)
    assert status == -signal.SIGHUP
    assert write_error == errno.EIO
    assert ok.endswith(b"\r\nOK\r\n")
    assert not cflag & termios.CLOCAL  # like a serial line, the settings survive
    assert proxy.reports[-1].reason == "carrier lost"
    assert proxy.pool.in_use == 0


async def test_under_clocal_carrier_loss_is_only_no_carrier(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=50.0)
    proxy.set_carrier_drop(4)
    path = proxy.open_pty()

    def session() -> tuple[int, bytes]:
        fd = open_device(path)
        try:
            cflag = termios.tcgetattr(fd)[2]  # the line as the modem left it: CLOCAL on
            os.write(fd, b"ATE0\rATDT0800\r")
            read_until(fd, b"REL\r\n")
            os.write(fd, b"ping")
            read_until(fd, b"NO CARRIER\r\n")
            os.write(fd, b"AT\r")
            return cflag, read_until(fd, b"OK\r\n")
        finally:
            os.close(fd)

    cflag, ok = await asyncio.to_thread(session)
    assert cflag & termios.CLOCAL
    assert ok == b"\r\nOK\r\n"


async def test_without_cap_sys_admin_the_line_stays_as_under_clocal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    transport = open_pty(asyncio.get_running_loop(), asyncio.Protocol())
    fd = open_device(transport.slave_path)
    try:
        clocal(fd, False)

        def refused(*args: object) -> None:
            raise PermissionError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(pty_port.fcntl, "ioctl", refused)  # what the kernel answers
        with caplog.at_level(logging.WARNING, logger="dialup_sim.pty_port"):
            assert not transport.carrier_lost()
            assert not transport.carrier_lost()
        assert [r.getMessage() for r in caplog.records] == [
            f"cannot hang up {transport.slave_path} when the carrier drops "
            "(Operation not permitted): programs there see NO CARRIER only"
        ]
        assert os.write(fd, b"AT\r") == 3  # the program's line still works
    finally:
        os.close(fd)
        transport.close()
