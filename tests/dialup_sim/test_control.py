"""The control port: the carrier-drop switch set, read and cleared over a real socket."""

from __future__ import annotations

import asyncio
import logging

import pytest

from dialup_sim.client import CarrierLost, ModemLine
from dialup_sim.control import (
    ControlError,
    ControlServer,
    DropAfter,
    Status,
    format_command,
    format_state,
    parse_command,
    parse_reply,
    send_control,
)
from dialup_sim.phonebook import Address
from dialup_sim.proxy import ModemProxy
from tests.dialup_sim.conftest import Echo, ProxyFactory

SCALE = 50.0


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (b"DROP-AFTER 300\n", DropAfter(300)),
        (b"drop-after off\r\n", DropAfter(None)),
        (b"STATUS\n", Status()),
    ],
)
def test_commands_parse_and_format_back(line: bytes, command: object) -> None:
    assert parse_command(line) == command
    assert parse_command(format_command(parse_command(line))) == command


@pytest.mark.parametrize(
    "line", [b"DROP-AFTER 0\n", b"DROP-AFTER -5\n", b"DROP-AFTER\n", b"DROP-AFTER 1e3\n", b"\n"]
)
def test_bad_commands_are_errors(line: bytes) -> None:
    with pytest.raises(ControlError):
        parse_command(line)


def test_replies() -> None:
    assert parse_reply(format_state(300)) == 300
    assert parse_reply(format_state(None)) is None
    with pytest.raises(ControlError, match="expected"):
        parse_reply(b"ERR expected DROP-AFTER\n")


async def _exchange(address: Address, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(address.host, address.port)
    writer.write(payload)
    writer.write_eof()  # the port answers every line, then closes at our end of input
    await writer.drain()
    received = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return received


async def test_the_switch_over_the_port_reaches_new_calls(
    echo_server: Echo, start_proxy: ProxyFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dialup_sim.proxy")
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=SCALE)
    control = ControlServer(proxy, Address("127.0.0.1", 0))
    address = await control.start()
    try:
        assert await send_control(address, Status()) is None
        assert await send_control(address, DropAfter(40)) == 40
        assert await send_control(address, DropAfter(40)) == 40  # the same again: no new log
        assert proxy.carrier_drop == 40
        # 20 bytes up, their echo down: 40 crossed, the carrier drops before the next ping.
        assert await asyncio.to_thread(_echo_until_dropped, proxy) == 20
        assert await send_control(address, DropAfter(None)) is None
        assert await asyncio.to_thread(_echo_until_dropped, proxy) is None
        replies = await _exchange(address, b"STATUS\nDROP-AFTER many\nDROP-AFTER 7\n")
        assert replies == (
            b"OK DROP-AFTER OFF\nERR bytes must be 1 to 1000000000 or OFF, not 'many'\n"
            b"OK DROP-AFTER 7\n"
        )
        assert await _exchange(address, b"S" * 200 + b"\n") == b"ERR line too long\n"
    finally:
        await control.close()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "chaos: each new call drops carrier after 40 bytes",
        "chaos: carrier drop switched off",
        "chaos: each new call drops carrier after 7 bytes",
    ]


def _echo_until_dropped(proxy: ModemProxy) -> int | None:
    """Echo 20-byte pings through a fresh call; the bytes echoed back before NO CARRIER, or
    None if 300 came back without it."""
    with ModemLine.dial(proxy.address, "0800", timeout=30) as modem:
        sock = modem.data_socket()
        echoed = 0
        try:
            while echoed < 300:
                sock.sendall(b"p" * 20)
                echoed += len(sock.recv(100))
        except CarrierLost:
            return echoed
        sock.watch_carrier = False
        return None


async def test_an_unreachable_port_is_a_control_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(ControlError, match="cannot reach"):
        await send_control(Address("127.0.0.1", port), Status())


async def test_a_dte_already_attached_gets_the_switch_on_its_next_call(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=SCALE)
    reader, writer = await asyncio.open_connection(proxy.address.host, proxy.address.port)
    try:
        writer.write(b"ATE0\r")
        await asyncio.wait_for(reader.readuntil(b"OK\r\n"), 10)
        proxy.set_carrier_drop(30)  # after this DTE attached, before it dials
        writer.write(b"ATDT0800\r")
        await asyncio.wait_for(reader.readuntil(b"CONNECT 9600/REL\r\n"), 30)
        writer.write(b"x" * 100)
        received = await asyncio.wait_for(reader.readuntil(b"NO CARRIER\r\n"), 30)
        assert received == b"\r\nNO CARRIER\r\n"  # 30 of the 100 crossed, no echo came back
        (report,) = proxy.reports
        assert (report.up.delivered, report.down.delivered) == (30, 0)
        assert report.reason == "carrier lost"
    finally:
        writer.close()
