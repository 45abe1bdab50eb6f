"""Messages are stored with CRLF line ends whatever the client sent (Postfix's normalize)."""

from __future__ import annotations

import asyncio
import poplib
import socket
from base64 import b64encode
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from mailboxes.folders import Folders
from mailboxes.line_ends import PIECE, canonical_line_ends, has_bare_lf
from mailboxes.store import Store
from tests.held_lock import longest_call_share
from tests.node_clients import AGENT

BARE = b"Subject: lineas\n\nuno\r\ndos\nfin\n"
CANONICAL = b"Subject: lineas\r\n\r\nuno\r\ndos\r\nfin\r\n"


def test_bare_lf_becomes_crlf_and_bare_cr_stays() -> None:
    assert canonical_line_ends(BARE) == CANONICAL
    assert canonical_line_ends(b"a\rb\r\n") == b"a\rb\r\n"
    assert canonical_line_ends(CANONICAL) is CANONICAL


@given(raw=st.lists(st.sampled_from([b"\r", b"\n", b"a"]), max_size=40).map(b"".join))
def test_a_bare_lf_is_found_whatever_the_pieces(raw: bytes) -> None:
    # Pieces of 1 to 5 bytes put every CR and LF at some piece's edge.
    crlfs, lfs = raw.count(b"\r\n"), raw.count(b"\n")
    for piece in range(1, 6):
        assert has_bare_lf(raw, piece) == (lfs != crlfs), (raw, piece)


@pytest.mark.parametrize(
    ("raw", "bare"),
    [
        (b"a\r\nb\r\n", False),
        (b"a\rb\r\n", False),
        (b"\n", True),
        (b"a\r\r\n\n", True),
        (b"", False),
    ],
)
def test_bare_lf_table(raw: bytes, bare: bool) -> None:
    assert has_bare_lf(raw) is bare and has_bare_lf(raw, 1) is bare


def test_a_large_message_is_checked_a_piece_at_a_time() -> None:
    # 16 MB with CRLFs only: counting its CRLFs was one call of most of the check's time.
    raw = (b"x" * 76 + b"\r\n") * (16 * PIECE // 78)
    assert canonical_line_ends(raw) is raw
    assert longest_call_share(lambda: canonical_line_ends(raw)) < 0.25


async def test_delivery_and_append_store_crlf(store: Store) -> None:
    await store.create_account("a@example.pe", "x", role="agent", agent_code="1111")
    await store.deliver("z@example.pe", ["a@example.pe"], BARE)
    [info] = await store.list_messages("a@example.pe")
    assert await store.read_message("a@example.pe", "INBOX", info.uid) == CANONICAL
    assert info.size == len(CANONICAL)
    folders = Folders(store)
    inbox = await folders.ensure("a@example.pe", "INBOX")
    uid = await folders.append(inbox.id, BARE, flags=(), internal_date=datetime.now(UTC))
    assert await store.read_message("a@example.pe", "INBOX", uid) == CANONICAL


def data_with_bare_lf(node: Node) -> None:
    """SMTP DATA whose lines hold bare LFs (smtplib would fix them; a raw socket does not)."""
    plain = b64encode(f"\0{AGENT.address}\0{DEMO_PASSWORD}".encode()).decode()
    with socket.create_connection(("127.0.0.1", node.port("smtp")), timeout=10) as sock:
        stream = sock.makefile("rwb")
        stream.readline()
        for line in (
            "EHLO pc486",
            f"AUTH PLAIN {plain}",
            f"MAIL FROM:<{AGENT.address}>",
            f"RCPT TO:<{AGENT.address}>",
            "DATA",
        ):
            stream.write(line.encode() + b"\r\n")
            stream.flush()
            while stream.readline()[3:4] == b"-":
                pass
        stream.write(b"Subject: lineas\n\nuno\ndos\r\n.\r\n")
        stream.flush()
        assert stream.readline().startswith(b"250 ")


def pop3_sizes(node: Node) -> tuple[int, int, int]:
    client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
    try:
        client.user(AGENT.address)
        client.pass_(DEMO_PASSWORD)
        _, octets = client.stat()
        listed = int(client.list(1).split()[2])
        _, lines, _ = client.retr(1)
        sent = sum(len(line) + 2 for line in lines)  # poplib strips each CRLF
        return octets, listed, sent
    finally:
        client.quit()


async def test_pop3_sizes_count_what_retr_sends(node: Node) -> None:
    await asyncio.to_thread(data_with_bare_lf, node)
    octets, listed, sent = await asyncio.to_thread(pop3_sizes, node)
    assert octets == listed == sent
