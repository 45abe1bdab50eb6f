"""A node on PostgreSQL rides out its database server's restart or outage.

A restart cuts every connection of the node. A submission the node is committing then is
answered ``451`` (the client sends it again); from the next one on, the node takes mail,
answers declarations and reports them as before, without a restart of its own. While the
server is down, every login is refused with its protocol's temporary code and the node's
log says so with one traceback a protocol, not one a client.
"""

from __future__ import annotations

import asyncio
import imaplib
import poplib
import smtplib
import threading
import urllib.request
from base64 import b64encode
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.error import HTTPError

import pytest

from config.clock import FixedClock
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.conftest import demo_node
from tests.gateway.imap.test_idle import login as imap_idle_login
from tests.gateway.pipeline.helpers import declaration, flat, submission
from tests.logs import Told, told
from tests.node_clients import AGENT, OFFICE, pop3_fetch, smtp_send, submit_and_wait
from tests.postgres import PostgresServer


@pytest.fixture
async def node(
    own_server: PostgresServer, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Node]:
    database_url = await own_server.create_database(migrated=False)
    async with demo_node(tmp_path / "node", clock, database_url=database_url) as running:
        yield running


async def _send_probe(node: Node, probe: bytes) -> None:
    """Mail ``probe`` to the agent itself, again if the first try meets a connection the
    restart or the outage cut (then it is answered ``4xx``)."""
    try:
        await asyncio.to_thread(smtp_send, node, AGENT.address, [AGENT.address], probe)
    except smtplib.SMTPResponseException as refused:
        assert 400 <= refused.smtp_code < 500, refused
        await asyncio.to_thread(smtp_send, node, AGENT.address, [AGENT.address], probe)


def _dua(reference: str) -> bytes:
    return submission(flat(declaration(reference=reference, agent_code=AGENT.agent_code)),
                      sender=AGENT.address)  # fmt: skip


async def test_declarations_are_answered_after_the_database_restarts(
    node: Node, own_server: PostgresServer
) -> None:
    (before,) = await submit_and_wait(node, _dua("ANTES-1"), 1)
    assert before["X-Teledespacho-Status"] == "accepted"

    await asyncio.to_thread(own_server.restart)
    await _send_probe(node, b"Subject: tras el reinicio\r\n\r\nhola\r\n")

    replies = await submit_and_wait(node, _dua("DESPUES-1"), 3)  # the probe, two answers
    after = [reply for reply in replies if reply["X-Teledespacho-Reference"] == "DESPUES-1"]
    assert [reply["X-Teledespacho-Status"] for reply in after] == ["accepted"]
    assert after[0]["X-Teledespacho-Number"] != before["X-Teledespacho-Number"]


ATTEMPTS = 3


def _smtp_login(node: Node) -> str:
    try:
        with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
            client.login(AGENT.address, DEMO_PASSWORD)
    except smtplib.SMTPAuthenticationError as refused:
        return f"{refused.smtp_code} {refused.smtp_error.decode()}"
    return "235"


def _pop3_login(node: Node) -> str:
    client = poplib.POP3("127.0.0.1", node.port("pop3"), timeout=10)
    try:
        client.user(AGENT.address)
        return client.pass_(DEMO_PASSWORD).decode()[:3]
    except poplib.error_proto as refused:
        return str(refused.args[0].decode())
    finally:
        client.close()


def _imap_login(node: Node) -> str:
    client = imaplib.IMAP4("127.0.0.1", node.port("imap"), timeout=10)
    try:
        return str(client.login(AGENT.address, DEMO_PASSWORD)[0])
    except imaplib.IMAP4.error as refused:  # a tagged NO: its text, as bytes
        return f"NO {refused.args[0].decode()}"
    finally:
        client.shutdown()


def _http_listing(node: Node) -> str:
    """The agent's declarations over the API: the status, and a 503's ``Retry-After`` and
    problem type."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.port('http')}/api/declarations",
        headers={
            "Authorization": "Basic "
            + b64encode(f"{AGENT.address}:{DEMO_PASSWORD}".encode()).decode()
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.status)
    except HTTPError as refused:
        return f"{refused.code} {refused.headers['Retry-After']} {refused.headers['Content-Type']}"


def _one_traceback(log: Told) -> bool:
    return len([record for record in log.records if record.exc_info]) == 1


async def test_logins_while_the_database_is_down_are_refused_for_now(
    node: Node, own_server: PostgresServer
) -> None:
    with (
        told("gateway.smtp.handler") as smtp_log,
        told("gateway.pop3.server") as pop3_log,
        told("gateway.imap.mailbox") as imap_log,
        told("gateway.http.problems") as http_log,
    ):
        await asyncio.to_thread(own_server.halt)
        answers = [
            await asyncio.to_thread(login, node)
            for _ in range(ATTEMPTS)
            for login in (_smtp_login, _pop3_login, _imap_login, _http_listing)
        ]
    assert set(answers[0::4]) == {"454 4.7.0 Temporary authentication failure"}
    assert set(answers[1::4]) == {"-ERR [SYS/TEMP] temporary failure, try again later"}
    assert set(answers[2::4]) == {
        "NO [UNAVAILABLE] The mail store is unavailable, try again later."
    }
    assert set(answers[3::4]) == {"503 30 application/problem+json"}
    for log in (smtp_log, pop3_log, imap_log, http_log):
        assert _one_traceback(log), log.records

    await asyncio.to_thread(own_server.resume)
    for login, welcome in (
        (_smtp_login, "235"),
        (_pop3_login, "+OK"),
        (_imap_login, "OK"),
        (_http_listing, "200"),
    ):
        answer = await asyncio.to_thread(login, node)
        if answer != welcome:  # the first may meet a connection the outage cut
            answer = await asyncio.to_thread(login, node)
        assert answer == welcome


async def test_an_idle_session_hears_new_mail_again_after_the_database_comes_back(
    node: Node, own_server: PostgresServer
) -> None:
    """IDLE looks at the store every few seconds; a look that fails during the outage must
    not end the pushing of updates for the rest of the IDLE."""
    client = await imap_idle_login(node.port("imap"), AGENT.address)
    try:
        idle = await client.idle_start(timeout=120)
        with told("gateway.imap.mailbox") as imap_log:
            await asyncio.to_thread(own_server.halt)
            await imap_log.said("store failure in MailboxData.update_selected")
        await asyncio.to_thread(own_server.resume)
        await _send_probe(node, b"Subject: de vuelta\r\n\r\nhola\r\n")
        pushed: list[bytes] = []
        async with asyncio.timeout(20):
            while not any(line.endswith(b"EXISTS") for line in pushed):
                pushed += [bytes(line) for line in await client.wait_server_push(timeout=20)]
        client.idle_done()
        await asyncio.wait_for(idle, 10)
    finally:
        await client.logout()


async def test_every_declaration_acknowledged_across_a_restart_is_answered_once(
    node: Node, own_server: PostgresServer
) -> None:
    """Agents keep sending while the server restarts: each ``250`` was a commit (its
    declaration answered exactly once), each refusal a ``4xx`` the agent may send again,
    and nothing is answered that was not acknowledged."""
    acknowledged: list[str] = []
    refusals: list[int] = []
    sending = threading.Event()
    sending.set()
    loop = asyncio.get_running_loop()
    acknowledging = asyncio.Event()

    async def acknowledged_at_least(count: int) -> None:
        async with asyncio.timeout(30):
            while len(acknowledged) < count:
                await acknowledging.wait()
                acknowledging.clear()

    def agent(number: int) -> None:
        sent = 0
        while sending.is_set():
            reference = f"R{number}-{sent}"
            raw = _dua(reference)
            try:
                with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=30) as client:
                    client.login(AGENT.address, DEMO_PASSWORD)
                    client.sendmail(AGENT.address, [OFFICE], raw)
            except smtplib.SMTPRecipientsRefused as refused:
                refusals.extend(code for code, _ in refused.recipients.values())
            except smtplib.SMTPResponseException as refused:
                refusals.append(refused.smtp_code)
            else:
                acknowledged.append(reference)
                sent += 1
                loop.call_soon_threadsafe(acknowledging.set)

    assert node.store is not None
    answered = asyncio.Event()
    unsubscribe = node.store.subscribe(lambda change: answered.set())
    agents = [threading.Thread(target=agent, args=(number,)) for number in range(3)]
    try:
        for thread in agents:
            thread.start()
        await acknowledged_at_least(6)
        await asyncio.to_thread(own_server.restart)
        await acknowledged_at_least(len(acknowledged) + 6)  # the node takes mail again
    finally:
        sending.clear()
        for thread in agents:
            await asyncio.to_thread(thread.join)
    try:
        async with asyncio.timeout(60):
            while len(await node.store.list_messages(AGENT.address)) < len(acknowledged):
                await answered.wait()
                answered.clear()
    finally:
        unsubscribe()

    replies = await asyncio.to_thread(pop3_fetch, node, AGENT.address)
    references = Counter(reply["X-Teledespacho-Reference"] for reply in replies)
    assert references == Counter(acknowledged)
    assert {reply["X-Teledespacho-Status"] for reply in replies} == {"accepted"}
    assert all(400 <= code < 500 for code in refusals), refusals
