"""Messages are stored with CRLF line ends whatever the client sent (Postfix's normalize)."""

from __future__ import annotations

import asyncio
import poplib
import socket
from base64 import b64encode
from datetime import UTC, datetime

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from mailboxes.folders import Folders
from mailboxes.line_ends import canonical_line_ends
from mailboxes.store import Store
from tests.node_clients import AGENT

BARE = b"Subject: lineas\n\nuno\r\ndos\nfin\n"
CANONICAL = b"Subject: lineas\r\n\r\nuno\r\ndos\r\nfin\r\n"


def test_bare_lf_becomes_crlf_and_bare_cr_stays() -> None:
    assert canonical_line_ends(BARE) == CANONICAL
    assert canonical_line_ends(b"a\rb\r\n") == b"a\rb\r\n"
    assert canonical_line_ends(CANONICAL) is CANONICAL


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
