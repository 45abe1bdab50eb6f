"""Bounded MIME structure (``gateway.imap.content``): what pymap would model, within limits."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from pymap.message import BaseLoadedMessage
from pymap.mime import MessageContent
from pymap.parsing.specials import FetchRequirement

from gateway.imap.content import (
    MAX_DEPTH,
    MAX_PARTS,
    ParsedOffLoop,
    in_lane_read,
    parse_bounded,
)
from gateway.imap.mailbox import Message
from gateway.imap.shape import LoadedMessage


def body_structure(content: MessageContent) -> bytes:
    """What ``FETCH BODYSTRUCTURE`` answers for this content (pymap's own code)."""
    return bytes(BaseLoadedMessage._get_body_structure(content).extended)


ORDINARY = (
    b"From: agente1@agencias.pe\r\n"
    b"Subject: DUA\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="x"\r\n'
    b"\r\n"
    b"--x\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"\r\n"
    b"Adjunto la declaraci\xf3n.\r\n"
    b"--x\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"Subject: reenviado\r\n"
    b"\r\n"
    b"texto\r\n"
    b"--x\r\n"
    b'Content-Type: application/octet-stream; name="dua.txt"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"SEVBRDE5OTc=\r\n"
    b"--x--\r\n"
)


def many_parts(count: int) -> bytes:
    head = b"Subject: muchas\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    return head + b"--b\r\n\r\nx\r\n" * count + b"--b--\r\n"


def nested(depth: int) -> bytes:
    levels = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
        for level in range(depth)
    )
    return levels + b"\r\nhondo\r\n"


def test_ordinary_mail_has_the_structure_pymap_gives() -> None:
    assert body_structure(parse_bounded(ORDINARY)) == body_structure(MessageContent.parse(ORDINARY))


def test_bare_lf_mail_gets_crlf_before_parsing() -> None:
    bare = ORDINARY.replace(b"\r\n", b"\n")
    assert bytes(parse_bounded(bare)) == ORDINARY


def test_parts_beyond_the_limit_are_not_modelled_but_their_bytes_are_kept() -> None:
    raw = many_parts(100_000)
    started = time.monotonic()
    content = parse_bounded(raw)
    assert time.monotonic() - started < 30  # pymap alone: 40-65 s and about 1 GB
    parts = list(content.walk())
    assert len(parts) == MAX_PARTS
    assert bytes(content) == raw
    last = content.body.nested[-1]
    assert bytes(last).count(b"--b\r\n") == 100_000 - (MAX_PARTS - 1)  # the rest, unsplit


def test_nesting_beyond_the_limit_becomes_an_opaque_leaf() -> None:
    content = parse_bounded(nested(500))
    depth, part = 0, content
    while part.body.nested:
        part, depth = part.body.nested[0], depth + 1
    assert depth == MAX_DEPTH - 1
    assert part.body.content_type.content_type == "application/octet-stream"
    assert body_structure(content).count(b'"mixed"') == MAX_DEPTH - 1


async def test_a_costly_mail_is_parsed_in_the_lane_with_the_same_result() -> None:
    raw = many_parts(20_000)
    message = Message(1, datetime.now(UTC), ())
    loaded = ParsedOffLoop(message, FetchRequirement.CONTENT, raw)

    def structure(parsed: LoadedMessage) -> tuple[str, bytes]:
        return threading.current_thread().name, body_structure(parsed.content)

    thread, structure_in_lane = await in_lane_read(loaded, structure)

    assert thread.startswith("message-lane")
    assert structure_in_lane == body_structure(parse_bounded(raw))
