"""The proxy on real loopback sockets: ``--direct`` and ``--hayes``, pools, failures."""

from __future__ import annotations

import asyncio
import smtplib
import time
from collections.abc import Callable

import pytest

from dialup_sim.line import MnpLevel
from dialup_sim.noise import NoiseSettings
from dialup_sim.phonebook import Address, Phonebook
from dialup_sim.proxy import ModemProxy
from tests.dialup_sim.conftest import Echo, ProxyFactory, Sink
from tests.dialup_sim.samples import mail_text
from tests.ports import free_port

pytestmark = pytest.mark.slow

SCALE = 50.0


def mail_of_size(size: int) -> bytes:
    """An RFC 822 message of exactly ``size`` bytes with CRLF lines (DATA payload size)."""
    head = b"From: agente1@agencias.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nSubject: DUA\r\n\r\n"
    body = mail_text(size - len(head)).replace(b"\r\n", b"\r\n")
    message = head + body
    if not message.endswith(b"\r\n"):
        message = message[:-2] + b"\r\n"
    assert len(message) == size
    return message


def submit(address: Address, message: bytes) -> float:
    started = time.monotonic()
    with smtplib.SMTP(address.host, address.port, timeout=30) as client:
        client.sendmail("agente1@agencias.pe", ["aduana-118@aduanas.gob.pe"], message)
    return time.monotonic() - started


async def wait_for(predicate: Callable[[], object], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_direct_48000_byte_submission_takes_50_simulated_seconds(
    smtp_sink: Sink, start_proxy: ProxyFactory
) -> None:
    scale = 25.0
    proxy = await start_proxy(smtp_sink.address, time_scale=scale)
    message = mail_of_size(48_000)
    wall = await asyncio.to_thread(submit, proxy.address, message)
    assert smtp_sink.handler.messages == [message]
    await wait_for(lambda: proxy.reports)
    (report,) = proxy.reports
    # 48 000 octets at 960 a second plus the SMTP dialogue around them (about 0.2 s on
    # the line); the server's and client's own processing time is multiplied by the scale.
    assert report.up.delivered > 48_000
    # Generous above: under load, processing time counts 25 times over.
    assert 50.0 + 0.2 <= report.online_seconds <= 60.0
    assert wall == pytest.approx(report.online_seconds / scale, rel=0.05)


async def test_direct_mnp5_text_is_faster_than_plain(
    smtp_sink: Sink, start_proxy: ProxyFactory
) -> None:
    plain = await start_proxy(smtp_sink.address, time_scale=SCALE)
    mnp5 = await start_proxy(smtp_sink.address, time_scale=SCALE, mnp=MnpLevel.MNP5)
    message = mail_of_size(20_000)
    await asyncio.to_thread(submit, plain.address, message)
    await asyncio.to_thread(submit, mnp5.address, message)
    await wait_for(lambda: plain.reports and mnp5.reports)
    assert smtp_sink.handler.messages == [message, message]
    assert mnp5.reports[0].online_seconds < 0.75 * plain.reports[0].online_seconds


async def test_direct_pool_full_gets_busy_and_a_vanished_client_frees_its_line(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, lines=1, time_scale=SCALE)
    address = proxy.address
    first_reader, first_writer = await asyncio.open_connection(address.host, address.port)
    first_writer.write(b"hello")
    assert await asyncio.wait_for(first_reader.readexactly(5), 5) == b"hello"

    second_reader, second_writer = await asyncio.open_connection(address.host, address.port)
    assert await asyncio.wait_for(second_reader.read(), 5) == b"\r\nBUSY\r\n"
    second_writer.close()

    first_writer.transport.abort()  # the client vanishes mid-call
    await wait_for(lambda: proxy.pool.in_use == 0)
    third_reader, third_writer = await asyncio.open_connection(address.host, address.port)
    third_writer.write(b"again")
    assert await asyncio.wait_for(third_reader.readexactly(5), 5) == b"again"
    third_writer.close()
    reasons = [r.reason for r in proxy.reports]
    assert "caller hung up" in reasons


async def test_direct_carrier_loss_mid_data_stores_nothing_and_the_proxy_carries_on(
    smtp_sink: Sink, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(
        smtp_sink.address, time_scale=SCALE, noise=NoiseSettings(drop_after=10.0)
    )
    with pytest.raises(smtplib.SMTPServerDisconnected):
        await asyncio.to_thread(submit, proxy.address, mail_of_size(48_000))
    await asyncio.sleep(0.2)
    assert smtp_sink.handler.messages == []
    assert proxy.reports[0].reason == "carrier lost"
    small = mail_of_size(2_000)  # about 2 s on the line: inside the next call's 10 s
    await asyncio.to_thread(submit, proxy.address, small)
    assert smtp_sink.handler.messages == [small]


async def test_direct_unreachable_server_closes_the_client(start_proxy: ProxyFactory) -> None:
    proxy = await start_proxy(Address("127.0.0.1", free_port()), time_scale=SCALE)
    reader, writer = await asyncio.open_connection(proxy.address.host, proxy.address.port)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await wait_for(lambda: proxy.reports)
    assert proxy.reports[0].reason == "no answer"
    assert proxy.pool.in_use == 0


# --hayes


class Terminal:
    """A DTE on a TCP connection to the proxy."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, proxy: ModemProxy) -> Terminal:
        reader, writer = await asyncio.open_connection(proxy.address.host, proxy.address.port)
        terminal = cls(reader, writer)
        assert await terminal.command("ATE0", until=b"OK\r\n") == b"ATE0\r\r\nOK\r\n"
        return terminal

    async def command(self, line: str, until: bytes = b"\r\n", within: float = 10) -> bytes:
        self.writer.write(line.encode() + b"\r")
        return await self.read_result(until, within)

    async def read_result(self, until: bytes = b"\r\n", within: float = 10) -> bytes:
        data = b""
        while True:
            data += await asyncio.wait_for(self.reader.readuntil(until), within)
            if data.strip():
                return data

    def close(self) -> None:
        self.writer.close()


async def test_hayes_dial_connects_and_carries_data(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=SCALE)
    terminal = await Terminal.open(proxy)
    assert await terminal.command("ATDT0800", until=b"REL\r\n") == b"\r\nCONNECT 9600/REL\r\n"
    terminal.writer.write(b"ping through the line")
    assert await asyncio.wait_for(terminal.reader.readexactly(21), 5) == b"ping through the line"
    terminal.close()
    await wait_for(lambda: proxy.reports and proxy.pool.in_use == 0)
    assert proxy.reports[0].reason == "DTE hung up"


async def test_hayes_busy_when_the_pool_is_full(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, lines=1, time_scale=SCALE)
    first = await Terminal.open(proxy)
    assert (await first.command("ATDT0800", until=b"REL\r\n")).startswith(b"\r\nCONNECT")
    second = await Terminal.open(proxy)
    assert await second.command("ATDT0800") == b"\r\nBUSY\r\n"
    await asyncio.sleep(0.05)  # guard time before: 2.5 s simulated
    first.writer.write(b"+++")
    # The pluses still reach the far end (the echo server sends them back), then OK.
    assert await first.read_result(until=b"OK\r\n") == b"+++\r\nOK\r\n"
    assert await first.command("ATH") == b"\r\nOK\r\n"
    await wait_for(lambda: proxy.pool.in_use == 0)
    assert (await second.command("ATDT0800", until=b"REL\r\n")).endswith(b"CONNECT 9600/REL\r\n")
    first.close()
    second.close()


async def test_hayes_numbers_not_in_service_and_not_answering(
    start_proxy: ProxyFactory,
) -> None:
    dead = Address("127.0.0.1", free_port())
    book = Phonebook({"4411234": dead})
    proxy = await start_proxy(dead, hayes=True, time_scale=SCALE, phonebook=book)
    terminal = await Terminal.open(proxy)
    await terminal.command("ATS7=10")
    assert await terminal.command("ATDT5550000") == b"\r\nNO CARRIER\r\n"
    assert await terminal.command("ATDT441-1234") == b"\r\nNO ANSWER\r\n"
    await terminal.command("ATX0")
    assert await terminal.command("ATDT441-1234") == b"\r\nNO CARRIER\r\n"
    assert proxy.pool.in_use == 0
    terminal.close()


async def test_hayes_carrier_loss_is_no_carrier_and_the_modem_stays(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(
        echo_server.address, hayes=True, time_scale=SCALE, noise=NoiseSettings(drop_after=5.0)
    )
    terminal = await Terminal.open(proxy)
    await terminal.command("ATDT0800", until=b"REL\r\n")
    assert await terminal.read_result(within=5) == b"\r\nNO CARRIER\r\n"
    assert await terminal.command("AT") == b"\r\nOK\r\n"  # back in command mode
    last = await terminal.command("ATI6", until=b"OK\r\n")
    assert b"ENDED CARRIER LOST" in last
    await wait_for(lambda: proxy.pool.in_use == 0)
    terminal.close()


async def test_hayes_server_hang_up_is_no_carrier_after_its_last_bytes(
    smtp_sink: Sink, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(smtp_sink.address, hayes=True, time_scale=SCALE)
    terminal = await Terminal.open(proxy)
    await terminal.command("ATDT0800", until=b"REL\r\n")
    assert (await terminal.read_result()).startswith(b"220 sink.test")
    terminal.writer.write(b"QUIT\r\n")
    assert await terminal.read_result() == b"221 Bye\r\n"
    assert await terminal.read_result() == b"\r\nNO CARRIER\r\n"
    report = (await terminal.command("ATI6", until=b"OK\r\n")).decode()
    assert "ENDED REMOTE HUNG UP" in report and "SENT 6" in report
    terminal.close()


async def test_each_number_is_its_own_hunt_group(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    book = Phonebook({"0801": echo_server.address})
    proxy = await start_proxy(
        echo_server.address, hayes=True, lines=1, time_scale=SCALE, phonebook=book
    )
    first = await Terminal.open(proxy)
    assert (await first.command("ATDT0800", until=b"REL\r\n")).endswith(b"9600/REL\r\n")
    other = await Terminal.open(proxy)  # 0800's only line is held: 0801 still answers
    assert (await other.command("ATDT0801", until=b"REL\r\n")).endswith(b"9600/REL\r\n")
    third = await Terminal.open(proxy)
    assert await third.command("ATDT0-800") == b"\r\nBUSY\r\n"  # same number, other spelling
    assert proxy.pool_for("0800").in_use == proxy.pool_for("0801").in_use == 1
    for terminal in (first, other, third):
        terminal.close()
    await wait_for(lambda: proxy.pool_for("0800").in_use == proxy.pool_for("0801").in_use == 0)


async def open_node_modem(proxy: ModemProxy) -> Terminal:
    """A program on the node side's modem (the answering end of a call)."""
    where = proxy.answer_address()
    reader, writer = await asyncio.open_connection(where.host, where.port)
    terminal = Terminal(reader, writer)
    assert await terminal.command("ATE0", until=b"OK\r\n") == b"ATE0\r\r\nOK\r\n"
    return terminal


async def test_a_node_side_modem_rings_answers_and_carries_the_call(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(
        echo_server.address,
        hayes=True,
        time_scale=SCALE,
        answer={"0900": Address("127.0.0.1", 0)},
    )
    node = await open_node_modem(proxy)
    agent = await Terminal.open(proxy)
    agent.writer.write(b"ATDT0900\r")
    assert await node.read_result() == b"\r\nRING\r\n"
    assert await node.read_result() == b"\r\nRING\r\n"  # six simulated seconds later
    assert await node.command("ATA", until=b"REL\r\n") == b"\r\nCONNECT 9600/REL\r\n"
    assert await agent.read_result(until=b"REL\r\n") == b"\r\nCONNECT 9600/REL\r\n"
    node.writer.write(b"220 nodo listo\r\n")
    assert await agent.read_result() == b"220 nodo listo\r\n"
    agent.writer.write(b"QUIT\r\n")
    assert await node.read_result() == b"QUIT\r\n"
    await asyncio.sleep(0.05)  # guard time before +++: 2.5 s simulated
    agent.writer.write(b"+++")
    assert await agent.read_result(until=b"OK\r\n") == b"\r\nOK\r\n"
    assert await agent.command("ATH") == b"\r\nOK\r\n"
    assert await node.read_result(until=b"CARRIER\r\n") == b"+++\r\nNO CARRIER\r\n"
    assert await node.command("ATI6", until=b"OK\r\n") != b""
    # Auto-answer after S0 rings, on the same node modem, and BUSY while it is in a call.
    assert await node.command("ATS0=1") == b"\r\nOK\r\n"
    assert (await agent.command("ATDT0900", until=b"REL\r\n")).endswith(b"9600/REL\r\n")
    assert await node.read_result(until=b"REL\r\n") == b"\r\nRING\r\n\r\nCONNECT 9600/REL\r\n"
    second = await Terminal.open(proxy)
    assert await second.command("ATDT0900") == b"\r\nBUSY\r\n"
    for terminal in (agent, node, second):
        terminal.close()
    await wait_for(lambda: proxy.active_sessions == 0)
    assert echo_server.connections == 0  # the node modem answered, not the --target
