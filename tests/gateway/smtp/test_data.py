"""The DATA stream read in pieces: the same mail, refusals and end as read line by line.

aiosmtpd read DATA a line at a time: a 10 MB mail of three million short lines took 6 to 15
seconds of the event loop, which every other client shares.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.smtp.data import DOT_LINE_END, DataDecoder, DataRefusal
from gateway.smtp.protocol import SubmissionProtocol

LIMIT = 40  # the longest line, CRLF counted


def line_by_line(stream: bytes, max_size: int | None) -> tuple[bytes | DataRefusal, bytes]:
    """RFC 5321 §4.5.2 read the plain way, as aiosmtpd does: the outcome, and what follows."""
    lines, position, refusal, size = [], 0, None, 0
    while True:
        end = stream.index(b"\r\n", position) + 2
        line, position = stream[position:end], end
        if line == DOT_LINE_END:
            break
        size += len(line)
        if refusal is None and len(line) > LIMIT:  # as it is read, before it is counted
            refusal = DataRefusal.LINE_TOO_LONG
        if refusal is None and max_size is not None and size > max_size:
            refusal = DataRefusal.TOO_MUCH
        lines.append(line[1:] if line.startswith(b".") else line)
    return (refusal or b"".join(lines)), stream[position:]


def pieces(stream: bytes, size: int) -> Iterator[bytes]:
    """The stream cut every ``size`` octets and after each ``.<CRLF>`` (never beyond one)."""
    position = 0
    while position < len(stream):
        dot = stream.find(DOT_LINE_END, max(0, position - 2))  # one begun in the last piece
        end = min(position + size, dot + len(DOT_LINE_END) if dot >= 0 else len(stream))
        yield stream[position:end]
        position = end


STREAMS = [
    b".\r\n",  # an empty mail
    b".\r\nQUIT\r\n",
    b"Subject: a\r\n\r\nbody\r\n.\r\n",
    b"Subject: a\r\n\r\nFin.\r\nsigue.\r\n..\r\n...x\r\n.\r\nRSET\r\n",
    b"..\r\n.\r\n",  # a line of one dot, sent stuffed
    b"a.\r\n.\r\n",
    b"a\r\r\n.\r\n",
    b"a\rb\n.\r\nc\r\n.\r\n",  # a bare CR and LF are no line ends
    b"x" * 38 + b"\r\n.\r\n",  # 40 with its CRLF: taken
    b"x" * 39 + b"\r\n.\r\n",  # 41: too long
    b"a\r\n" + b"y" * 100 + b"\r\n.\r\nb\r\n.\r\n",  # a long line, then the end at once
    b"y" * 100 + b".\r\n.\r\n",  # a long line ending in a full stop
    b"y" * 100 + b"\r\n..\r\n.\r\n",
]


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("max_size", [None, 12])
def test_every_cut_of_the_stream_reads_as_line_by_line(stream: bytes, max_size: int | None):
    expected, rest = line_by_line(stream, max_size)
    for size in range(1, len(stream) + 1):
        decoder = DataDecoder(max_size, LIMIT)
        fed = 0
        for piece in pieces(stream, size):
            fed += len(piece)
            if decoder.feed(piece):
                break
        assert decoder.done and stream[fed:] == rest, size
        assert (decoder.refusal or decoder.content) == expected, size


def test_past_a_limit_nothing_more_is_held() -> None:
    decoder = DataDecoder(max_size=1000, max_line=LIMIT)
    for _ in range(1000):
        decoder.feed(b"z" * 1000)  # one endless line
        decoder.feed(b"0123456789\r\n" * 100)
    assert decoder.refusal is DataRefusal.LINE_TOO_LONG
    assert len(decoder._partial) <= LIMIT and decoder._parts == []
    assert decoder.feed(b"\r\n.\r\n")


# -- over a socket, against aiosmtpd's own DATA -------------------------------------------------


class Keep:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.mails.append(envelope.content)
        return "250 2.0.0 Ok"


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, tuple[int, Keep]]]:
    """aiosmtpd's SMTP and ours, each with a handler that keeps what it is given."""
    loop = asyncio.get_running_loop()
    running, ports = [], {}
    for name, protocol in (("aiosmtpd", SMTP), ("ours", SubmissionProtocol)):
        keep = Keep()

        def factory(protocol: type[SMTP] = protocol, keep: Keep = keep) -> SMTP:
            return protocol(keep, decode_data=False, data_size_limit=300)

        server = await loop.create_server(factory, "127.0.0.1", 0)
        running.append(server)
        ports[name] = (server.sockets[0].getsockname()[1], keep)
    try:
        yield ports
    finally:
        for server in running:
            server.close()
            await server.wait_closed()


async def converse(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"EHLO a\r\nMAIL FROM:<a@b.pe>\r\nRCPT TO:<c@d.pe>\r\nDATA\r\n")
        writer.write(data + b"QUIT\r\n")
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


@pytest.mark.parametrize("stream", [*STREAMS[2:5], b"x" * 400 + b"\r\n.\r\n"])
async def test_the_same_replies_and_mail_as_aiosmtpds_own(
    servers: dict[str, tuple[int, Keep]], stream: bytes
) -> None:
    answers = {name: await converse(port, stream) for name, (port, _) in servers.items()}
    theirs, ours = (answers[n].splitlines()[-3:] for n in ("aiosmtpd", "ours"))
    assert [line[:3] for line in ours] == [line[:3] for line in theirs]  # 250/552 and 221
    assert servers["ours"][1].mails == servers["aiosmtpd"][1].mails


async def test_three_million_lines_take_a_moment_not_seconds() -> None:
    keep = Keep()
    server = await asyncio.get_running_loop().create_server(
        lambda: SubmissionProtocol(keep, decode_data=False, data_size_limit=32 * 1024 * 1024),
        "127.0.0.1",
        0,
    )
    mail = b"Subject: muchas partes\r\n\r\n" + b"--b\r\n\r\nx\r\n" * 1_000_000  # 10 MB
    try:
        started = time.perf_counter()
        answer = await converse(server.sockets[0].getsockname()[1], mail + b".\r\n")
        took = time.perf_counter() - started
    finally:
        server.close()
        await server.wait_closed()
    assert b"\r\n250 " in answer and keep.mails == [mail]
    assert took < 3, took  # 6 to 15 s line by line; 0.2 s in pieces, idle
