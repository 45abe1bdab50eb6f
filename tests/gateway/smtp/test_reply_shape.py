"""Replies shaped as Postfix gives them: RFC 2034 enhanced codes on every reply, 501 for a
broken path, long DATA lines taken, the null sender from an authenticated client."""

from __future__ import annotations

import asyncio
import smtplib

from tests.gateway.smtp.conftest import AGENT, OTHER_AGENT, PASSWORD, SmtpServer


def session(server: SmtpServer) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, timeout=10)
    client.ehlo("pc486.agencia.pe")
    return client


def replies_of(server: SmtpServer) -> dict[str, tuple[int, bytes]]:
    client = session(server)
    try:
        advertised = "enhancedstatuscodes" in client.esmtp_features
        seen = {"ENHANCED": (0, b"y" if advertised else b"n")}
        seen["MAIL before AUTH"] = client.docmd("MAIL", f"FROM:<{AGENT}>")
        seen["NOOP"] = client.docmd("NOOP")
        seen["BOGUS"] = client.docmd("BOGUS")
        client.login(AGENT, PASSWORD)
        seen["DATA before RCPT"] = client.docmd("DATA")
        seen["MAIL unbalanced"] = client.docmd("MAIL", "FROM:<agente1@agencias.pe")
        seen["MAIL"] = client.docmd("MAIL", f"FROM:<{AGENT}>")
        seen["MAIL twice"] = client.docmd("MAIL", f"FROM:<{AGENT}>")
        seen["RCPT unbalanced"] = client.docmd("RCPT", f"TO:{OTHER_AGENT}>")
        seen["RSET"] = client.docmd("RSET")
        seen["QUIT"] = client.docmd("QUIT")
        return seen
    finally:
        client.close()


async def test_every_reply_carries_an_enhanced_status_code(smtp_server: SmtpServer) -> None:
    seen = await asyncio.to_thread(replies_of, smtp_server)
    assert seen["ENHANCED"][1] == b"y"  # EHLO advertises ENHANCEDSTATUSCODES
    expected = {
        "MAIL before AUTH": (530, b"5.7.0"),
        "NOOP": (250, b"2.0.0"),
        "BOGUS": (500, b"5.5.2"),
        "DATA before RCPT": (503, b"5.5.1"),
        "MAIL unbalanced": (501, b"5.1.7"),  # Postfix: "Bad sender address syntax"
        "MAIL": (250, b"2.0.0"),
        "MAIL twice": (503, b"5.5.1"),
        "RCPT unbalanced": (501, b"5.1.3"),  # Postfix: "Bad recipient address syntax"
        "RSET": (250, b"2.0.0"),
        "QUIT": (221, b"2.0.0"),
    }
    for name, (code, enhanced) in expected.items():
        got_code, text = seen[name]
        assert (got_code, text.split(b" ", 1)[0]) == (code, enhanced), (name, seen[name])


async def test_a_data_line_over_1000_octets_is_taken_whole(smtp_server: SmtpServer) -> None:
    """Postfix takes long lines; aiosmtpd answered 500 after the body and lost the mail."""
    long_line = b"x" * 5000
    raw = b"Subject: linea larga\r\n\r\n" + long_line + b"\r\nfin\r\n"

    def send() -> None:
        with session(smtp_server) as client:
            client.login(AGENT, PASSWORD)
            client.sendmail(AGENT, [OTHER_AGENT], raw)

    await asyncio.to_thread(send)
    [info] = await smtp_server.store.list_messages(OTHER_AGENT)
    stored = await smtp_server.store.read_message(OTHER_AGENT, "INBOX", info.uid)
    assert long_line + b"\r\nfin\r\n" in stored


async def test_the_null_sender_from_an_authenticated_client(smtp_server: SmtpServer) -> None:
    """Auto-replies and read receipts go out with MAIL FROM:<> (RFC 5321 §4.5.5)."""

    def send() -> tuple[int, bytes]:
        with session(smtp_server) as client:
            client.login(AGENT, PASSWORD)
            reply = client.docmd("MAIL", "FROM:<>")
            client.rcpt(OTHER_AGENT)
            client.data(b"Subject: Respuesta automatica\r\n\r\nFuera de la oficina.\r\n")
            return reply

    assert (await asyncio.to_thread(send))[0] == 250
    assert len(await smtp_server.store.list_messages(OTHER_AGENT)) == 1


async def test_postmaster_is_accepted_and_reaches_its_mailbox(smtp_server: SmtpServer) -> None:
    """RFC 5321 §4.5.1: ``<Postmaster>`` (no domain, any case) must be accepted."""

    def send() -> list[tuple[int, bytes]]:
        with session(smtp_server) as client:
            client.login(AGENT, PASSWORD)
            client.docmd("MAIL", f"FROM:<{AGENT}>")
            answers = [client.docmd("RCPT", "TO:<Postmaster>")]
            answers.append(client.docmd("RCPT", "TO:<postmaster@aduanas.gob.pe>"))
            client.data(b"Subject: al postmaster\r\n\r\nHola.\r\n")
            return answers

    answers = await asyncio.to_thread(send)
    assert [code for code, _ in answers] == [250, 250], answers
    [info] = await smtp_server.store.list_messages("postmaster@aduanas.gob.pe")
    raw = await smtp_server.store.read_message("postmaster@aduanas.gob.pe", "INBOX", info.uid)
    assert b"Subject: al postmaster" in raw


async def test_unknown_user_in_a_hosted_domain_is_550_5_1_1(smtp_server: SmtpServer) -> None:
    """As Postfix for its virtual domains: unknown user, not a relaying attempt."""

    def rcpt() -> list[tuple[int, bytes]]:
        with session(smtp_server) as client:
            client.login(AGENT, PASSWORD)
            client.docmd("MAIL", f"FROM:<{AGENT}>")
            return [
                client.docmd("RCPT", "TO:<nadie@agencias.pe>"),  # the agencies' domain
                client.docmd("RCPT", "TO:<nadie@aduanas.gob.pe>"),
                client.docmd("RCPT", "TO:<alguien@otro-dominio.pe>"),
            ]

    answers = await asyncio.to_thread(rcpt)
    shapes = [(code, text.split(b" ", 1)[0]) for code, text in answers]
    assert shapes == [(550, b"5.1.1"), (550, b"5.1.1"), (550, b"5.7.1")], answers
