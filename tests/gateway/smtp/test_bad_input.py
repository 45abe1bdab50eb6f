"""Bad input on a raw socket: every wrong command gets its reply code, nothing half-stored."""

from __future__ import annotations

import asyncio
import base64

from tests.gateway.smtp.conftest import AGENT, OTHER_AGENT, PASSWORD, SmtpServer
from tests.logs import told

PLAIN = base64.b64encode(f"\0{AGENT}\0{PASSWORD}".encode()).decode()


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, server: SmtpServer) -> RawClient:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        client = cls(reader, writer)
        assert (await client.reply())[0] == 220
        return client

    async def reply(self) -> tuple[int, list[str]]:
        lines = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 5)).decode()
            lines.append(line[4:].rstrip())
            if line[3:4] != "-":
                return int(line[:3]), lines

    async def command(self, line: str | bytes) -> int:
        self.writer.write((line.encode() if isinstance(line, str) else line) + b"\r\n")
        await self.writer.drain()
        return (await self.reply())[0]

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def test_wrong_commands_get_their_codes(smtp_server: SmtpServer) -> None:
    client = await RawClient.connect(smtp_server)
    assert await client.command("MAIL FROM:<a@b.pe>") == 503  # before EHLO
    assert await client.command("EHLO pc486") == 250
    assert await client.command("FROBNICATE") == 500
    assert await client.command("MAIL FROM:<a@b.pe>") == 530  # before AUTH
    assert await client.command("AUTH CRAM-MD5") == 504
    assert await client.command("AUTH PLAIN !!!notbase64") == 501
    assert await client.command(f"AUTH PLAIN {PLAIN}") == 235
    assert await client.command(f"AUTH PLAIN {PLAIN}") == 503  # already authenticated
    assert await client.command("RCPT TO:<x@y.pe>") == 503  # before MAIL
    assert await client.command("MAIL TO:<a@b.pe>") == 501
    assert await client.command("DATA") == 503
    assert await client.command(b"NOOP " + b"x" * 2000) == 500  # over-long command line
    assert await client.command("QUIT") == 221
    await client.close()


async def test_pipelined_commands_are_answered_in_order(smtp_server: SmtpServer) -> None:
    client = await RawClient.connect(smtp_server)
    assert await client.command("EHLO pc486") == 250
    assert await client.command(f"AUTH PLAIN {PLAIN}") == 235
    pipelined = [
        f"MAIL FROM:<{AGENT}>",
        f"RCPT TO:<{OTHER_AGENT}>",
        "RCPT TO:<no@where.com>",
        "DATA",
    ]
    client.writer.write("".join(f"{line}\r\n" for line in pipelined).encode())
    await client.writer.drain()
    assert [(await client.reply())[0] for _ in range(4)] == [250, 250, 550, 354]
    assert await client.command(b"Subject: pipelined\r\n\r\nhola\r\n.") == 250
    await client.close()
    assert len(await smtp_server.store.list_messages(OTHER_AGENT)) == 1


async def test_client_dropping_mid_data_leaves_nothing(smtp_server: SmtpServer) -> None:
    client = await RawClient.connect(smtp_server)
    await client.command("EHLO pc486")
    await client.command(f"AUTH PLAIN {PLAIN}")
    await client.command(f"MAIL FROM:<{AGENT}>")
    await client.command("RCPT TO:<aduana-118@aduanas.gob.pe>")
    assert await client.command("DATA") == 354
    client.writer.write(b"Subject: cortado\r\n\r\nla linea se cayo a la mit")
    await client.writer.drain()
    client.writer.transport.abort()  # carrier lost

    # The server keeps serving others, and the dropped message left no trace.
    other = await RawClient.connect(smtp_server)
    assert await other.command("EHLO pc486") == 250
    assert await other.command("QUIT") == 221
    await other.close()
    assert await smtp_server.store.count_contents() == 0
    assert await smtp_server.store.pending_jobs() == []


async def test_forged_sender_is_refused(smtp_server: SmtpServer) -> None:
    """The null sender is accepted (test_reply_shape); another user's address is not."""
    client = await RawClient.connect(smtp_server)
    await client.command("EHLO pc486")
    await client.command(f"AUTH PLAIN {PLAIN}")
    assert await client.command(f"MAIL FROM:<{OTHER_AGENT}>") == 553
    assert await client.command(f"MAIL FROM:<{AGENT.upper()}>") == 250  # same address
    await client.close()


async def test_an_auth_response_longer_than_a_line_is_refused_and_the_session_goes_on(
    smtp_server: SmtpServer,
) -> None:
    """aiosmtpd's AUTH read the client's response with ``readline``, which raised past the
    reader's limit: ``451 Local error``, a traceback in the log, and the rest of the line
    read as commands."""
    client = await RawClient.connect(smtp_server)
    try:
        assert await client.command("EHLO pc486") == 250
        with told("mail.log") as aiosmtpd_said, told("gateway.smtp") as we_said:
            assert await client.command("AUTH LOGIN") == 334
            client.writer.write(b"QUFB" * 50_000 + b"\r\n")  # 200 KB, one line
            assert await client.reply() == (
                500,
                ["5.5.6 Authentication Exchange line is too long"],
            )
            assert await client.command(f"AUTH PLAIN {PLAIN}") == 235  # as if nothing was
        logged = aiosmtpd_said.records + we_said.records
        assert not [r for r in logged if r.exc_info], [r.getMessage() for r in logged]
        assert await client.command("QUIT") == 221
    finally:
        await client.close()
