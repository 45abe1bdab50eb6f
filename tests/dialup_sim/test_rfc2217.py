"""RFC 2217 on the TCP side, driven by pyserial's rfc2217:// client: DCD, RI and DTR."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
import serial

from dialup_sim.phonebook import Address
from dialup_sim.proxy import ModemProxy
from tests.dialup_sim.conftest import Echo, ProxyFactory, Sink

pytestmark = pytest.mark.slow

SCALE = 50.0


def wait_until(predicate: Callable[[], object], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


def read_until(port: serial.SerialBase, marker: bytes, within: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + within
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{marker!r} not in {seen!r}")
        seen += port.read(port.in_waiting or 1)
    return seen


def open_port(proxy: ModemProxy | Address) -> serial.SerialBase:
    where = proxy.address if isinstance(proxy, ModemProxy) else proxy
    return serial.serial_for_url(f"rfc2217://{where.host}:{where.port}", timeout=0.05)


async def test_dcd_rises_on_connect_and_falls_on_no_carrier(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=SCALE, rfc2217=True)

    def session() -> tuple[bool, bytes, bool, bytes, bool]:
        port = open_port(proxy)
        try:
            port.write(b"ATE0\r")
            read_until(port, b"OK\r\n")
            before = port.cd
            port.write(b"ATDT0800\r")
            connect = read_until(port, b"REL\r\n")
            wait_until(lambda: port.cd)
            during = port.cd
            port.write(b"\xff\x00binary")  # IAC is data here, doubled on the wire
            echoed = read_until(port, b"binary")
            time.sleep(0.05)  # guard time before +++ (2.5 s simulated)
            port.write(b"+++")
            read_until(port, b"OK\r\n")
            port.write(b"ATH\r")
            read_until(port, b"OK\r\n")
            wait_until(lambda: not port.cd)
            return before, connect, during, echoed, port.cd
        finally:
            port.close()

    before, connect, during, echoed, after = await asyncio.to_thread(session)
    assert (before, during, after) == (False, True, False)
    assert connect == b"\r\nCONNECT 9600/REL\r\n"
    assert echoed == b"\xff\x00binary"


async def test_dcd_falls_when_the_server_hangs_up(
    smtp_sink: Sink, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(smtp_sink.address, hayes=True, time_scale=SCALE, rfc2217=True)

    def session() -> tuple[bool, bytes, bool]:
        port = open_port(proxy)
        try:
            port.write(b"ATE0\rATDT0800\r")
            seen = read_until(port, b"220 ")
            up = port.cd
            assert up, seen
            port.write(b"QUIT\r\n")
            lost = read_until(port, b"NO CARRIER\r\n")
            wait_until(lambda: not port.cd)
            return up, lost, port.cd
        finally:
            port.close()

    up, lost, after = await asyncio.to_thread(session)
    assert up and not after
    assert lost.endswith(b"221 Bye\r\n\r\nNO CARRIER\r\n")


async def test_dropping_dtr_hangs_up_under_d2_and_not_under_d0(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=SCALE, rfc2217=True)

    def call(setup: bytes) -> tuple[bytes, bool]:
        port = open_port(proxy)
        try:
            port.write(b"ATE0" + setup + b"\rATDT0800\r")
            read_until(port, b"REL\r\n")
            wait_until(lambda: port.cd)
            port.dtr = False
            if setup == b"&D0":
                port.write(b"still here")
                return read_until(port, b"still here"), port.cd
            result = read_until(port, b"NO CARRIER\r\n")
            wait_until(lambda: not port.cd)
            return result, port.cd
        finally:
            port.close()

    hung_up, carrier = await asyncio.to_thread(call, b"")
    assert hung_up.endswith(b"\r\nNO CARRIER\r\n") and not carrier
    assert proxy.reports[-1].reason == "DTR dropped"
    kept, carrier = await asyncio.to_thread(call, b"&D0")
    assert kept == b"still here" and carrier


async def test_ri_rings_on_a_node_side_modem(echo_server: Echo, start_proxy: ProxyFactory) -> None:
    proxy = await start_proxy(
        echo_server.address,
        hayes=True,
        time_scale=10.0,
        rfc2217=True,
        answer={"0900": Address("127.0.0.1", 0)},
    )

    def node_sees_ring() -> tuple[bool, bool]:
        node = open_port(proxy.answer_address())
        agent = open_port(proxy)
        try:
            node.write(b"ATE0\r")
            read_until(node, b"OK\r\n")
            agent.write(b"ATDT0900\r")
            read_until(node, b"RING\r\n")
            wait_until(lambda: node.ri)
            on = node.ri
            wait_until(lambda: not node.ri)  # 2 s simulated: 0.2 s here
            return on, node.ri
        finally:
            agent.close()
            node.close()

    assert await asyncio.to_thread(node_sees_ring) == (True, False)


async def test_dsr_is_always_on_under_s0_and_follows_the_carrier_under_s1(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=SCALE, rfc2217=True)

    def session() -> tuple[bool, bool, bool]:
        port = open_port(proxy)
        try:
            always = port.dsr
            port.write(b"ATE0&S1\r")
            read_until(port, b"OK\r\n")
            port.write(b"AT&C0\r")  # DCD (and so DSR) on, reported at once
            read_until(port, b"OK\r\n")
            wait_until(lambda: port.dsr)
            port.write(b"AT&C1\r")
            read_until(port, b"OK\r\n")
            wait_until(lambda: not port.dsr)
            port.write(b"ATDT0800\r")
            read_until(port, b"REL\r\n")
            wait_until(lambda: port.dsr)
            return always, port.cd, port.dsr
        finally:
            port.close()

    assert await asyncio.to_thread(session) == (True, True, True)
