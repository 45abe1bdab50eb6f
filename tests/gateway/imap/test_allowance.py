"""An APPEND counts against its mailbox owner's day (``submission_mib_per_day``), as SMTP
and the API do: past it, ``NO [OVERQUOTA]`` and nothing written, and the other accounts'
APPENDs go on. Without it, one account could still fill the disk down to the store's
reserve over IMAP, after which every account's mail was refused."""

from __future__ import annotations

import imaplib
from functools import partial
from typing import Any

import pytest

from gateway.allowance import SubmissionAllowance
from mailboxes.store import Store
from tests.gateway.imap.conftest import AGENT, OTHER_AGENT, accounts, in_thread, mail, serve
from tests.gateway.smtp.test_disk_full import cap_store

MIB = 1024 * 1024
BODY = ("y" * 76 + "\r\n") * 5000  # 390 KB


async def test_an_append_past_the_owners_day_is_no_overquota(store: Store) -> None:
    await accounts(store)
    async for running in serve(store, allowance=SubmissionAllowance(MIB)):
        agent = await in_thread(running.login)
        other = await in_thread(partial(running.login, OTHER_AGENT))

        def append(client: imaplib.IMAP4, subject: str) -> tuple[str, list[Any]]:
            return client.append("INBOX", None, None, mail(subject, BODY))

        taken = [await in_thread(partial(append, agent, f"m{n}")) for n in range(2)]
        refused = await in_thread(partial(append, agent, "tercero"))
        others = await in_thread(partial(append, other, "otro"))
        stored = len(await store.list_messages(AGENT))

    assert [typ for typ, _ in taken] == ["OK", "OK"]
    typ, data = refused
    assert typ == "NO" and data[0].startswith(b"[OVERQUOTA] "), data
    assert others[0] == "OK"
    assert stored == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a full SQLite file
async def test_an_append_the_store_could_not_keep_does_not_count(store: Store) -> None:
    """Two APPENDs refused while the store was full counted 780 KB of the MiB: once there
    was room, the next one was refused ``OVERQUOTA`` with nothing kept."""
    await accounts(store)
    async for running in serve(store, allowance=SubmissionAllowance(MIB)):
        agent = await in_thread(running.login)

        def append(client: imaplib.IMAP4, subject: str) -> tuple[str, list[Any]]:
            return client.append("INBOX", None, None, mail(subject, BODY))

        await cap_store(store, 10)
        full = [await in_thread(partial(append, agent, f"lleno{n}")) for n in range(2)]
        await cap_store(store, 1_000_000)  # room again
        taken = [await in_thread(partial(append, agent, f"m{n}")) for n in range(2)]
        stored = len(await store.list_messages(AGENT))

    assert [typ for typ, _ in full] == ["NO", "NO"], full
    assert [typ for typ, _ in taken] == ["OK", "OK"], taken
    assert stored == 2
