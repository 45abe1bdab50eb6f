"""Debian's swaks, with its defaults and no AUTH, hands a request to the registration
address; the same client is refused for any other recipient."""

from __future__ import annotations

import asyncio

from gateway.node import Node
from mailboxes.registrations import MailboxRequests
from tests.gateway.registration.helpers import AGENT2, FOR_NEW_MAILBOX, REGISTRATION
from tests.tools import needs

pytestmark = needs("swaks")


async def _swaks(node: Node, to: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "swaks",
        "--server", "127.0.0.1",
        "--port", str(node.port("smtp")),
        "--helo", "pc486.agencias.pe",
        "--from", AGENT2,
        "--to", to,
        "--header", "Subject: Solicitud de buzon",
        "--body", FOR_NEW_MAILBOX,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def test_swaks_without_auth_files_a_request(node: Node) -> None:
    assert node.store is not None
    status, transcript = await _swaks(node, REGISTRATION)
    assert status == 0, transcript
    assert "250 2.0.0 Mailbox request 1 filed" in transcript
    [request] = await MailboxRequests(node.store).listing()
    assert request.requester == AGENT2


async def test_swaks_without_auth_reaches_no_one_else(node: Node) -> None:
    assert node.store is not None
    status, transcript = await _swaks(node, "aduana-118@aduanas.gob.pe")
    assert status != 0
    assert "530 5.7.0" in transcript
    status, transcript = await _swaks(node, "someone@example.com")
    assert status != 0
    assert "550 5.7.1 Relaying denied" in transcript
    assert await node.store.list_messages("aduana-118@aduanas.gob.pe", "Recibidos") == []
