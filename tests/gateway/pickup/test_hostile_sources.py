"""Outside mailboxes that answer without end or too much: each step of a POP3 poll is
bounded in time (as aioimaplib bounds each IMAP command), and what an IMAP server sends is
bounded before it is kept.

The servers are small fakes on loopback, each scripted to misbehave in one way after a
normal greeting and login."""

from __future__ import annotations

import asyncio
import time

import pytest

from config.topology import PickupSource
from gateway.clients.pickup_readers import MAX_LINE, PickupError, open_reader
from tests.gateway.pickup.fakes import fake_server, imap_logged_in, next_tag


def source(protocol: str, port: int) -> PickupSource:
    bound = {"folder": "Teledespacho", "agent": "agente1@agencias.pe"}
    return PickupSource.model_validate(
        {
            "name": f"fake-{protocol}",
            "protocol": protocol,
            "host": "127.0.0.1",
            "port": port,
            "user": "buzon@isp.pe",
            "password": "clave",
            "deliver_to": "aduana-127@aduanas.gob.pe",
        }
        | (bound if protocol == "imap" else {})
    )


async def listing_of(port: int, protocol: str = "imap", io_seconds: float = 1.0) -> object:
    async with open_reader(source(protocol, port), io_seconds, max_message=1024 * 1024) as reader:
        return await reader.listing()


async def test_a_line_without_end_is_refused_before_it_is_kept() -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await imap_logged_in(reader, writer)
        await next_tag(reader)
        writer.write(b"* OK ")
        for _ in range(64):  # 4 MiB, no line end
            writer.write(b"x" * 65536)
            await writer.drain()
        await asyncio.sleep(30)

    async with fake_server(endless) as port:
        with pytest.raises(PickupError, match=f"longer than {MAX_LINE} bytes"):
            await asyncio.wait_for(listing_of(port, io_seconds=20), 20)


async def test_a_literal_larger_than_a_message_may_be_is_refused_when_announced() -> None:
    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await imap_logged_in(reader, writer)
        tag = await next_tag(reader)
        writer.write(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n%s OK selected\r\n" % tag)
        tag = await next_tag(reader)
        writer.write(b"* SEARCH 1\r\n%s OK searched\r\n" % tag)
        await next_tag(reader)  # UID FETCH 1
        writer.write(b"* 1 FETCH (UID 1 BODY[] {999999999999}\r\n")
        while True:  # streamed slowly: all of it was kept until the command's time ran out
            writer.write(b"x" * 1024)
            await writer.drain()
            await asyncio.sleep(0.05)

    async with (
        fake_server(huge) as port,
        open_reader(source("imap", port), 20, max_message=1024 * 1024) as reader,
    ):
        listing = await reader.listing()
        assert listing.keys == ["1"]
        started = time.monotonic()
        with pytest.raises(PickupError, match="literal of 999999999999 bytes"):
            await asyncio.wait_for(reader.fetch("1"), 20)
        assert time.monotonic() - started < 5


async def test_a_packet_of_many_short_lines_is_refused_not_raised_in_the_loop() -> None:
    # aioimaplib read a packet's lines by recursing once a line: RecursionError.
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await imap_logged_in(reader, writer)
        await next_tag(reader)
        writer.write(b"* OK\r\n" * 20_000)
        await writer.drain()
        await asyncio.sleep(30)

    async with fake_server(flood) as port:
        with pytest.raises(PickupError, match="too many response lines at once"):
            await asyncio.wait_for(listing_of(port, io_seconds=20), 20)


async def test_a_pop3_server_answering_a_line_at_a_time_for_ever_times_out() -> None:
    ended = asyncio.Event()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK fake POP3\r\n")
        for _ in range(2):  # USER, PASS
            await reader.readline()
            writer.write(b"+OK\r\n")
        await reader.readline()  # UIDL
        writer.write(b"+OK\r\n")
        try:
            for number in range(1, 1000):
                writer.write(b"%d uid-%d\r\n" % (number, number))
                await writer.drain()
                await asyncio.sleep(0.1)
        finally:
            ended.set()

    async with fake_server(trickle) as port:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(listing_of(port, "pop3"), 20)
        assert time.monotonic() - started < 5
        # The thread that was reading is not left behind: its socket was shut down.
        await asyncio.wait_for(ended.wait(), 5)


async def test_a_pop3_listing_gives_each_message_its_size_before_it_is_fetched() -> None:
    # The worker leaves at the source a message larger than the node takes, before fetching.
    async def maildrop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK fake POP3\r\n")
        answers = {
            b"UIDL": b"+OK\r\n1 uid-uno\r\n2 uid-dos\r\n.\r\n",
            b"LIST": b"+OK\r\n1 120\r\n2 30000000\r\n.\r\n",
        }
        while line := await reader.readline():
            writer.write(answers.get(line.strip(), b"+OK\r\n"))

    async with (
        fake_server(maildrop) as port,
        open_reader(source("pop3", port), 5, max_message=1024 * 1024) as reader,
    ):
        listing = await reader.listing()
        assert listing.keys == ["uid-uno", "uid-dos"]
        assert [await reader.size(key) for key in listing.keys] == [120, 30_000_000]
