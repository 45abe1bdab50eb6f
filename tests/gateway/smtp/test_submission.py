"""SMTP submission with Python's smtplib and aiosmtplib against the real server and store.

smtplib is blocking, so it runs in a thread while the server runs in the test's loop.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib

import aiosmtplib
import pytest

from gateway.directory import INTAKE_FOLDER
from tests.gateway.smtp.conftest import (
    AGENT,
    OFFICE,
    OTHER_AGENT,
    PASSWORD,
    SIZE_LIMIT,
    SmtpServer,
)
from tests.node_clients import untraced

MESSAGE = (
    b"From: agente1@agencias.pe\r\n"
    b"To: agente2@agencias.pe\r\n"
    b"Subject: prueba\r\n"
    b"\r\n"
    b"Linea uno\r\n"
    b".linea que empieza con punto\r\n"
    b"\xd1and\xfa en 8 bits\r\n"
)


def _send(server: SmtpServer, sender: str, rcpts: list[str], data: bytes, *, login: bool = True):
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.ehlo("pc486.agencia.pe")
        if login:
            client.login(sender, PASSWORD)
        return client.sendmail(sender, rcpts, data)


async def test_ehlo_advertises_the_extensions(smtp_server: SmtpServer) -> None:
    def ehlo() -> tuple[dict[str, str], list[str]]:
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
            client.ehlo("pc486")
            return client.esmtp_features, client.esmtp_features.get("auth", "").split()

    features, mechanisms = await asyncio.to_thread(ehlo)
    assert features["size"] == str(SIZE_LIMIT)
    assert "8bitmime" in features
    assert "pipelining" in features
    assert sorted(mechanisms) == ["LOGIN", "PLAIN"]


async def test_authenticated_message_is_stored_byte_identical_under_a_trace_field(
    smtp_server: SmtpServer,
) -> None:
    refused = await asyncio.to_thread(_send, smtp_server, AGENT, [OTHER_AGENT], MESSAGE)
    assert refused == {}
    [info] = await smtp_server.store.list_messages(OTHER_AGENT)
    stored = await smtp_server.store.read_message(OTHER_AGENT, "INBOX", info.uid)
    trace = stored[: -len(MESSAGE)]
    assert untraced(stored) == MESSAGE
    assert trace.startswith(b"Received: from pc486.agencia.pe ([127.0.0.1])\r\n")
    assert trace.count(b"\r\n") == trace.count(b"\n") and trace.endswith(b"\r\n")
    assert info.size == len(stored)


async def test_auth_login_with_aiosmtplib(smtp_server: SmtpServer) -> None:
    client = aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port)
    async with client:
        await client.ehlo()
        response = await client.auth_login(AGENT, PASSWORD)
        assert response.code == 235
        errors, _ = await client.sendmail(AGENT, [OTHER_AGENT, AGENT], MESSAGE)
    assert errors == {}
    assert len(await smtp_server.store.list_messages(OTHER_AGENT)) == 1
    assert len(await smtp_server.store.list_messages(AGENT)) == 1
    assert await smtp_server.store.count_contents() == 1  # stored once for both


async def test_unauthenticated_submission_is_refused(smtp_server: SmtpServer) -> None:
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        await asyncio.to_thread(_send, smtp_server, AGENT, [OTHER_AGENT], MESSAGE, login=False)
    assert refused.value.smtp_code == 530
    assert await smtp_server.store.list_messages(OTHER_AGENT) == []


async def test_wrong_password_is_535(smtp_server: SmtpServer) -> None:
    def login() -> None:
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
            client.login(AGENT, "not-the-password")

    with pytest.raises(smtplib.SMTPAuthenticationError) as failed:
        await asyncio.to_thread(login)
    assert failed.value.smtp_code == 535


async def test_unknown_user_cannot_log_in(smtp_server: SmtpServer) -> None:
    client = aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port)
    async with client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failed:
            await client.login("nadie@agencias.pe", PASSWORD)
    assert failed.value.code == 535


async def test_cannot_send_as_another_address(smtp_server: SmtpServer) -> None:
    client = aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port)
    async with client:
        await client.login(AGENT, PASSWORD)
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await client.sendmail(OTHER_AGENT, [AGENT], MESSAGE)
    assert refused.value.code == 553


async def test_each_mail_of_a_session_checks_its_own_sender(smtp_server: SmtpServer) -> None:
    """The sender is checked against the login at every MAIL, whatever came before."""
    client = aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port)
    replies = []
    async with client:
        await client.login(AGENT, PASSWORD)
        for sender in (AGENT, AGENT.upper(), OTHER_AGENT, AGENT, "", AGENT):  # "": <>
            replies.append(await client.execute_command(b"MAIL", f"FROM:<{sender}>".encode()))
            await client.rset()
    assert [(reply.code, reply.message) for reply in replies] == [
        (250, "2.0.0 OK"),
        (250, "2.0.0 OK"),
        (553, "5.7.1 Sender address is not the authenticated user's"),
        (250, "2.0.0 OK"),
        (250, "2.0.0 OK"),
        (250, "2.0.0 OK"),
    ]


async def test_no_open_relay(smtp_server: SmtpServer) -> None:
    client = aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port)
    async with client:
        await client.login(AGENT, PASSWORD)
        await client.mail(AGENT)
        outside = await client.execute_command(b"RCPT", b"TO:<someone@example.com>")
        unknown_here = await client.execute_command(b"RCPT", b"TO:<nadie@aduanas.gob.pe>")
        other_node = await client.execute_command(b"RCPT", b"TO:<aduana-172@aduanas.gob.pe>")
        malformed = await client.execute_command(b"RCPT", b"TO:<a b@c>")
    assert (outside.code, outside.message.split()[0]) == (550, "5.7.1")
    assert (unknown_here.code, unknown_here.message.split()[0]) == (550, "5.1.1")
    assert other_node.code == 550  # Tacna is decentralized: not hosted by this node
    assert malformed.code in (501, 553)


async def test_mail_to_office_intake_files_it_and_queues_a_job(smtp_server: SmtpServer) -> None:
    await asyncio.to_thread(_send, smtp_server, AGENT, [OFFICE], MESSAGE)
    [job] = await smtp_server.store.pending_jobs()
    assert (job.office_code, job.sender, job.recipient) == ("118", AGENT, OFFICE)
    assert untraced(await smtp_server.store.job_content(job.id)) == MESSAGE
    [filed] = await smtp_server.store.list_messages(OFFICE, INTAKE_FOLDER)
    assert (
        untraced(await smtp_server.store.read_message(OFFICE, INTAKE_FOLDER, filed.uid)) == MESSAGE
    )
    assert await smtp_server.store.list_messages(OFFICE) == []  # INBOX is for accepted ones


async def test_intake_of_hosted_office_without_account_is_accepted(
    smtp_server: SmtpServer,
) -> None:
    await asyncio.to_thread(_send, smtp_server, AGENT, ["ADUANA-127@aduanas.gob.pe"], MESSAGE)
    [job] = await smtp_server.store.pending_jobs()
    assert job.office_code == "127"


async def test_declared_size_over_the_limit_is_552(smtp_server: SmtpServer) -> None:
    client = aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port)
    async with client:
        await client.login(AGENT, PASSWORD)
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await client.mail(AGENT, options=[f"SIZE={SIZE_LIMIT + 1}"])
    assert refused.value.code == 552


async def test_data_over_the_limit_is_552_and_stores_nothing(smtp_server: SmtpServer) -> None:
    big = (b"x" * 78 + b"\r\n") * (SIZE_LIMIT // 80 + 10)

    def send_without_declaring_size() -> tuple[int, bytes]:
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
            client.login(AGENT, PASSWORD)
            client.mail(AGENT)  # no SIZE= parameter: the limit is found during DATA
            client.rcpt(OTHER_AGENT)
            return client.data(big)

    code, _ = await asyncio.to_thread(send_without_declaring_size)
    assert code == 552
    assert await smtp_server.store.count_contents() == 0


async def test_each_submission_is_logged_once_with_user_recipients_and_size(
    smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.smtp.handler"):
        await asyncio.to_thread(_send, smtp_server, AGENT, [OTHER_AGENT, OFFICE], MESSAGE)
    (fields,) = [
        getattr(r, "teledespacho_fields")  # noqa: B009
        for r in caplog.records
        if r.getMessage() == "submission"
    ]
    assert fields["user"] == AGENT and fields["client"] == "127.0.0.1"
    [stored] = await smtp_server.store.list_messages(OTHER_AGENT)
    assert fields["rcpt"] == [OTHER_AGENT, OFFICE] and fields["size"] == stored.size
    assert len(fields["jobs"]) == 1  # the office intake queued one
