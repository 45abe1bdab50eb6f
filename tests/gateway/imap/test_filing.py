"""Filing accepted declarations into office folders, and watching those folders."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from config.backoff import Backoff
from gateway.clients.office_watch import OfficeWatcher
from gateway.imap import ImapServer
from gateway.imap.filing import FilingError, OfficeFiling
from mailboxes.jobs import JobQueue
from mailboxes.store import Store
from tests.gateway.clients.test_office_watch import Recorder, office_copy, watching
from tests.gateway.imap.conftest import OFFICE, PASSWORD, Running, accounts, in_thread


def test_channel_rules_win_over_regime_rules() -> None:
    filing = OfficeFiling.from_table(
        {"channel": {"ROJO": "Canal rojo"}, "regime": {"40": "Exportacion"}}
    )
    assert filing.folder_for(regime="40", channel="rojo") == "Canal rojo"
    assert filing.folder_for(regime="40", channel="verde") == "Exportacion"
    assert filing.folder_for(regime="10", channel="naranja") == "INBOX"
    assert OfficeFiling().folder_for(regime="10", channel="rojo") == "INBOX"
    assert OfficeFiling.from_table({"default": "inbox"}).default == "INBOX"


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"canal": {}}, "unknown key 'canal'"),
        ({"channel": {"azul": "Azul"}}, "no channel named 'azul'"),
        ({"regime": {"4": "X"}}, "not a 2-digit regime"),
        ({"regime": {"40": "a//b"}}, "cannot name a folder"),
        ({"channel": "rojo"}, "must be a table"),
        ({"default": 3}, "must be a folder name"),
    ],
)
def test_bad_tables_are_refused_with_the_entry_named(
    table: dict[str, object], complaint: str
) -> None:
    with pytest.raises(FilingError, match=complaint):
        OfficeFiling.from_table(table)


async def file_acceptance(store: Store, folder: str, number: str) -> None:
    """What the pipeline does for an acceptance: file the office copy, in its transaction."""
    await JobQueue(store).answer(
        datetime(2026, 11, 2, tzinfo=UTC),
        lambda answering: answering.deliver(OFFICE, folder, office_copy(number, "rojo")),
    )


async def test_a_filing_folder_appears_in_list_when_first_used(imap: Running) -> None:
    await file_acceptance(imap.store, "Canal rojo", "118-2026-10-000007")

    def listing() -> list[bytes | None]:
        return imap.login(OFFICE).list()[1]

    assert b'(\\HasNoChildren) "/" "Canal rojo"' in await in_thread(listing)


async def test_the_watcher_waits_for_a_filing_folder_and_reports_from_it(store: Store) -> None:
    await accounts(store)
    server = ImapServer(store, greeting_name="imap.test")
    port = (await server.start(host="127.0.0.1", port=0)).sockets[0].getsockname()[1]
    seen = Recorder()
    watcher = OfficeWatcher(
        host="127.0.0.1",
        port=port,
        user=OFFICE,
        password=PASSWORD,
        folder="Canal rojo",
        report=seen.report,
        status=seen.status,
        backoff=Backoff(initial=0.05, maximum=0.1),
    )
    try:
        async with watching(watcher):
            await seen.until(lambda: any("Canal rojo" in s for s in seen.statuses))
            assert watcher.sessions == 0  # the folder does not exist yet
            await file_acceptance(store, "Canal rojo", "118-2026-10-000008")
            await seen.until(lambda: watcher.sessions == 1)
            await file_acceptance(store, "Canal rojo", "118-2026-10-000009")
            await seen.until(lambda: len(seen.acceptances) == 1)
            await asyncio.sleep(0.05)
    finally:
        await server.aclose()
    # The first one was already there when the watcher could select the folder.
    assert [a.number for a in seen.acceptances] == ["118-2026-10-000009"]
