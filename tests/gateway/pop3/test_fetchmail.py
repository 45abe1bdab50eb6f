"""Debian's fetchmail, a real third-party POP3 client, retrieving into a local file."""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.pop3.server import Pop3Server
from mailboxes.store import Store
from tests.tools import needs

pytestmark = [needs("fetchmail"), pytest.mark.slow]

AGENT = "agente@example.pe"
PASSWORD = "clave con espacios"
APOP_USER = "apop@example.pe"
APOP_SECRET = "tanstaaf"

# Body lines "." and "..dos" travel dot-stuffed and must come out exactly like this.
FIRST = b"From: z@example.pe\r\nTo: agente@example.pe\r\nSubject: uno\r\n\r\nhola\r\n.\r\n..dos\r\n"
SECOND = b"From: z@example.pe\r\nTo: agente@example.pe\r\nSubject: dos\r\n\r\nadios\r\n"
THIRD = b"From: z@example.pe\r\nTo: agente@example.pe\r\nSubject: tres\r\n\r\notra vez\r\n"


@dataclass
class Fetchmail:
    home: Path
    port: int

    @property
    def mbox(self) -> Path:
        return self.home / "retrieved.mbox"

    def delivered(self) -> bytes:
        return self.mbox.read_bytes() if self.mbox.exists() else b""

    async def run(
        self, user: str, password: str, *args: str, protocol: str = "POP3"
    ) -> tuple[int, str]:
        rc_file = self.home / "fetchmailrc"
        rc_file.write_text(
            "set no syslog\n"
            f'poll 127.0.0.1 auth password user "{user}" there with password "{password}"\n'
        )
        rc_file.chmod(0o600)
        process = await asyncio.create_subprocess_exec(
            "fetchmail", "--fetchmailrc", str(rc_file), "--verbose",
            "--protocol", protocol, "--port", str(self.port),
            "--sslproto", "",  # plain POP3: no opportunistic STLS attempt
            "--mda", f"cat >> {shlex.quote(str(self.mbox))}",
            "--idfile", str(self.home / "fetchids"),
            "--pidfile", str(self.home / "fetchmail.pid"),
            *args,
            env={**os.environ, "HOME": str(self.home)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        return process.returncode or 0, output.decode(errors="replace")


@pytest.fixture
async def fetchmail(store: Store, tmp_path: Path) -> AsyncIterator[Fetchmail]:
    await store.create_account(AGENT, PASSWORD, role="agent", agent_code="4321")
    await store.create_account(
        APOP_USER, "sin uso", role="agent", agent_code="9999", apop_secret=APOP_SECRET
    )
    for raw in (FIRST, SECOND):
        await store.deliver("z@example.pe", [AGENT, APOP_USER], raw)
    server = Pop3Server(store, greeting_name="pop.test", apop=True)
    listener = await server.start(host="127.0.0.1", port=0)
    try:
        yield Fetchmail(tmp_path, listener.sockets[0].getsockname()[1])
    finally:
        await server.aclose()


def as_delivered(raw: bytes) -> bytes:
    """What fetchmail's MDA receives of a message: LF line ends, after its Received: line."""
    return raw.replace(b"\r\n", b"\n")


async def test_fetchmail_retrieves_everything_and_deletes(
    fetchmail: Fetchmail, store: Store
) -> None:
    status, transcript = await fetchmail.run(AGENT, PASSWORD)
    assert status == 0, transcript
    mbox = fetchmail.delivered()
    assert mbox.count(b"Received: from 127.0.0.1") == 2
    assert as_delivered(FIRST) in mbox
    assert as_delivered(SECOND) in mbox
    assert "flushed" in transcript and "not flushed" not in transcript
    assert await store.list_messages(AGENT) == []
    assert len(await store.list_messages(APOP_USER)) == 2  # someone else's mailbox untouched


async def test_fetchmail_keep_and_uidl_fetch_only_new_mail(
    fetchmail: Fetchmail, store: Store
) -> None:
    status, transcript = await fetchmail.run(AGENT, PASSWORD, "--keep", "--uidl")
    assert status == 0, transcript
    first_run = fetchmail.delivered()
    assert first_run.count(b"Received: from 127.0.0.1") == 2

    status, transcript = await fetchmail.run(AGENT, PASSWORD, "--keep", "--uidl")
    assert status == 1, transcript  # 1: no new mail (the UIDs were remembered)
    assert fetchmail.delivered() == first_run

    await store.deliver("z@example.pe", [AGENT], THIRD)
    status, transcript = await fetchmail.run(AGENT, PASSWORD, "--keep", "--uidl")
    assert status == 0, transcript
    added = fetchmail.delivered()[len(first_run) :]
    assert added.count(b"Received: from 127.0.0.1") == 1
    assert as_delivered(THIRD) in added
    assert len(await store.list_messages(AGENT)) == 3


async def test_fetchmail_with_apop(fetchmail: Fetchmail, store: Store) -> None:
    status, transcript = await fetchmail.run(APOP_USER, APOP_SECRET, protocol="APOP")
    assert status == 0, transcript
    assert "POP3> APOP apop@example.pe " in transcript
    assert fetchmail.delivered().count(b"Received: from 127.0.0.1") == 2
    assert await store.list_messages(APOP_USER) == []


async def test_fetchmail_with_a_wrong_password_gets_nothing(
    fetchmail: Fetchmail, store: Store
) -> None:
    status, transcript = await fetchmail.run(AGENT, "no es la clave")
    assert status == 3, transcript  # 3: authentication failed
    assert "-ERR [AUTH]" in transcript
    assert fetchmail.delivered() == b""
    assert len(await store.list_messages(AGENT)) == 2
