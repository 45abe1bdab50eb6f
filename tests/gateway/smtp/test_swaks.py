"""Debian's swaks, a real third-party SMTP client, submitting with AUTH."""

from __future__ import annotations

import asyncio

import pytest

from tests.gateway.smtp.conftest import AGENT, OTHER_AGENT, PASSWORD, SmtpServer
from tests.tools import needs

pytestmark = needs("swaks")


async def _swaks(server: SmtpServer, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "swaks",
        "--server", server.host,
        "--port", str(server.port),
        "--helo", "pc486.agencia.pe",
        "--from", AGENT,
        "--to", OTHER_AGENT,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_swaks_submits_with_auth(smtp_server: SmtpServer, mechanism: str) -> None:
    status, transcript = await _swaks(
        smtp_server,
        "--auth", mechanism,
        "--auth-user", AGENT,
        "--auth-password", PASSWORD,
        "--header", f"Subject: DUA via swaks {mechanism}",
    )  # fmt: skip
    assert status == 0, transcript
    [info] = await smtp_server.store.list_messages(OTHER_AGENT)
    raw = await smtp_server.store.read_message(OTHER_AGENT, "INBOX", info.uid)
    assert f"Subject: DUA via swaks {mechanism}".encode() in raw


async def test_swaks_without_auth_is_refused(smtp_server: SmtpServer) -> None:
    status, transcript = await _swaks(smtp_server)
    assert status != 0
    assert "530 5.7.0" in transcript
    assert await smtp_server.store.list_messages(OTHER_AGENT) == []
