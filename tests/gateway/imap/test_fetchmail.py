"""Debian's fetchmail over IMAP: retrieval into a local file, with and without --keep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway.imap.conftest import AGENT, OTHER_AGENT, PASSWORD, Running, mail
from tests.gateway.pop3.test_fetchmail import Fetchmail, as_delivered
from tests.tools import needs

pytestmark = [needs("fetchmail"), pytest.mark.slow]

FIRST, SECOND, THIRD = mail("uno", "primero\r\n.\r\n"), mail("dos"), mail("tres")


@pytest.fixture
async def fetchmail(imap: Running, tmp_path: Path) -> AsyncIterator[Fetchmail]:
    for raw in (FIRST, SECOND):
        await imap.store.deliver("z@example.pe", [AGENT, OTHER_AGENT], raw)
    yield Fetchmail(tmp_path, imap.port)


async def test_fetchmail_imap_retrieves_everything_and_deletes(
    fetchmail: Fetchmail, imap: Running
) -> None:
    status, transcript = await fetchmail.run(AGENT, PASSWORD, protocol="IMAP")
    assert status == 0, transcript
    delivered = fetchmail.delivered()
    assert as_delivered(FIRST) in delivered and as_delivered(SECOND) in delivered
    assert "2 messages for" in transcript and "flushed" in transcript
    assert await imap.store.list_messages(AGENT) == []
    assert len(await imap.store.list_messages(OTHER_AGENT)) == 2  # nobody else's mail


async def test_fetchmail_imap_keep_fetches_only_new_mail(
    fetchmail: Fetchmail, imap: Running
) -> None:
    status, transcript = await fetchmail.run(AGENT, PASSWORD, "--keep", protocol="IMAP")
    assert status == 0, transcript
    first_run = fetchmail.delivered()
    assert first_run.count(b"Subject: ") == 2
    assert all(info.flags == {"\\Seen"} for info in await imap.store.list_messages(AGENT))

    status, transcript = await fetchmail.run(AGENT, PASSWORD, "--keep", protocol="IMAP")
    assert status == 1, transcript  # 1: no new mail (both are \Seen on the server)
    assert fetchmail.delivered() == first_run

    await imap.store.deliver("z@example.pe", [AGENT], THIRD)
    status, transcript = await fetchmail.run(AGENT, PASSWORD, "--keep", protocol="IMAP")
    assert status == 0, transcript
    added = fetchmail.delivered()[len(first_run) :]
    assert as_delivered(THIRD) in added and added.count(b"Subject: ") == 1
    assert len(await imap.store.list_messages(AGENT)) == 3


async def test_fetchmail_imap_with_a_wrong_password_gets_nothing(
    fetchmail: Fetchmail, imap: Running
) -> None:
    status, transcript = await fetchmail.run(AGENT, "no es la clave", protocol="IMAP")
    assert status == 3, transcript  # 3: authentication failed
    assert fetchmail.delivered() == b""
    assert len(await imap.store.list_messages(AGENT)) == 2
