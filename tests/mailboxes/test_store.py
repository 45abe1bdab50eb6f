"""The store on a real SQLite file: accounts, UIDs, single-instance contents, group commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from config.clock import FixedClock
from mailboxes.addresses import InvalidAddress
from mailboxes.folders import FlagChange, Folders
from mailboxes.records import Account, Recipient
from mailboxes.schema import Role
from mailboxes.store import AccountExists, Change, StorageFull, Store
from tests import mailbox_fill
from tests.conftest import FAST_HASHER, more_than_free


def _database_files(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in directory.glob("store.db*"))  # and the WAL


async def test_passwords_are_stored_only_as_argon2_hashes(store: Store, tmp_path: Path) -> None:
    await store.create_account(
        "agente@agencias.pe", "clave-secreta", role=Role.AGENT, agent_code="1"
    )
    if not store.database.is_sqlite:
        pytest.skip("reads the SQLite file itself")
    database = _database_files(tmp_path)
    assert b"clave-secreta" not in database
    assert b"$argon2id$" in database


async def test_credentials_and_a_password_change(store: Store) -> None:
    created = await store.create_account("Agente@Agencias.PE", "pw", role="agent", agent_code="7")
    assert created.address == "agente@agencias.pe"
    found = await store.credentials("AGENTE@agencias.pe")
    assert found is not None and found[0] == created
    assert store.hasher.verify(found[1], "pw") and not store.hasher.verify(found[1], "PW")
    assert await store.credentials("nadie@agencias.pe") is None
    assert await store.credentials("not an address") is None

    assert await store.set_password("agente@agencias.pe", "nueva")
    changed = await store.credentials("agente@agencias.pe")
    assert changed is not None and changed[1] != found[1]
    assert store.hasher.verify(changed[1], "nueva") and not store.hasher.verify(changed[1], "pw")
    assert not await store.set_password("nadie@agencias.pe", "x")


async def test_duplicate_account_and_agent_code_are_refused(store: Store) -> None:
    await store.create_account("a@x.pe", "pw", role="agent", agent_code="7")
    with pytest.raises(AccountExists):
        await store.create_account("A@X.PE", "pw", role="agent", agent_code="8")
    with pytest.raises(AccountExists):
        await store.create_account("b@x.pe", "pw", role="agent", agent_code="7")
    with pytest.raises(InvalidAddress):
        await store.create_account("no-at-sign", "pw", role="agent", agent_code="9")


async def test_uids_grow_per_mailbox_and_survive_expunge(store: Store) -> None:
    for n in range(3):
        await store.deliver("a@x.pe", ["b@x.pe"], b"m%d" % n)
    await store.expunge("b@x.pe", "INBOX", [3])
    await store.deliver("a@x.pe", ["b@x.pe"], b"m3")
    infos = await store.list_messages("b@x.pe")
    assert [info.uid for info in infos] == [1, 2, 4]  # never reused
    assert len({info.uid_validity for info in infos}) == 1
    assert await store.read_message("b@x.pe", "INBOX", 4) == b"m3"
    with pytest.raises(KeyError):
        await store.read_message("b@x.pe", "INBOX", 3)


async def test_one_content_for_many_recipients_and_orphans_removed(store: Store) -> None:
    await store.deliver("a@x.pe", ["b@x.pe", "c@x.pe"], b"shared")
    assert await store.count_contents() == 1
    await store.expunge("b@x.pe", "INBOX", [1])
    assert await store.count_contents() == 1  # c still has it
    await store.expunge("c@x.pe", "INBOX", [1])
    assert await store.count_contents() == 0


async def test_intake_job_keeps_its_content_when_the_office_deletes_its_copy(store: Store) -> None:
    [job_id] = await store.deliver(
        "a@x.pe", [Recipient("aduana-118@x.pe", "Recibidos", intake_office="118")], b"DUA"
    )
    await store.expunge("aduana-118@x.pe", "Recibidos", [1])
    assert await store.job_content(job_id) == b"DUA"
    assert [job.id for job in await store.pending_jobs()] == [job_id]


async def test_concurrent_deliveries_are_group_committed_in_order(store: Store) -> None:
    await asyncio.gather(*(store.deliver("a@x.pe", ["b@x.pe"], b"%03d" % n) for n in range(200)))
    infos = await store.list_messages("b@x.pe")
    assert [info.uid for info in infos] == list(range(1, 201))
    bodies = [await store.read_message("b@x.pe", "INBOX", info.uid) for info in infos]
    assert sorted(bodies) == [b"%03d" % n for n in range(200)]


async def test_a_mailbox_is_read_a_page_or_its_newest_messages_at_a_time(store: Store) -> None:
    """``list_messages`` pages by UID (the API's paging), ``latest_messages`` gives the newest
    and the count (the console's page): both after an expunge has left a gap in the UIDs."""
    await asyncio.gather(*(store.deliver("a@x.pe", ["b@x.pe"], b"%03d" % n) for n in range(12)))
    await store.expunge("b@x.pe", "INBOX", [5, 6])
    page = [info.uid for info in await store.list_messages("b@x.pe", after=4, limit=3)]
    rest = [info.uid for info in await store.list_messages("b@x.pe", after=9)]
    tail = await store.latest_messages("b@x.pe", "INBOX", 3)
    assert page == [7, 8, 9]
    assert rest == [10, 11, 12]
    assert tail.total == 10 and [info.uid for info in tail.messages] == [10, 11, 12]
    assert (await store.latest_messages("b@x.pe", "INBOX", 50)).total == 10
    nowhere = await store.latest_messages("b@x.pe", "Archivo", 3)
    assert nowhere.total == 0 and nowhere.messages == []
    assert await store.list_messages("b@x.pe", "Archivo", after=0, limit=3) == []


async def test_more_messages_than_a_statement_may_name_are_expunged_at_once(store: Store) -> None:
    """PostgreSQL takes at most 32 767 parameters in a statement: the contents left without
    a message were named all in one, and an EXPUNGE of a folder of 33 000 failed whole."""
    await mailbox_fill.fill(store, "a@x.pe", "b@x.pe", 33_000)
    await store.expunge("b@x.pe", "INBOX", range(1, 33_001))
    assert await store.list_messages("b@x.pe", limit=1) == []
    assert await store.count_contents() == 0


async def test_a_delivery_whose_caller_gave_up_is_written_with_its_batch(store: Store) -> None:
    """A client that hangs up while its mail is being committed cancels only its wait: the
    mail is stored, and its batch neighbours, even one that fails alone, are answered."""

    def fails(_connection: object) -> None:
        raise RuntimeError("no")

    first = asyncio.ensure_future(store.deliver("a@x.pe", ["b@x.pe"], b"first"))
    await asyncio.sleep(0)  # its batch is on its way to the database
    abandoned = asyncio.ensure_future(store.deliver("a@x.pe", ["b@x.pe"], b"abandoned"))
    failing = asyncio.ensure_future(store.deliver("a@x.pe", ["b@x.pe"], b"x", also=fails))
    kept = asyncio.ensure_future(store.deliver("a@x.pe", ["b@x.pe"], b"kept"))
    await asyncio.sleep(0)
    abandoned.cancel()
    await first
    with pytest.raises(RuntimeError):
        await failing
    await kept
    assert abandoned.cancelled()
    infos = await store.list_messages("b@x.pe")
    bodies = {await store.read_message("b@x.pe", "INBOX", info.uid) for info in infos}
    assert bodies == {b"first", b"abandoned", b"kept"}


async def test_internal_date_comes_from_the_clock_and_is_aware(
    store: Store, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=3))
    await store.deliver("a@x.pe", ["b@x.pe"], b"x")
    [info] = await store.list_messages("b@x.pe")
    assert info.internal_date == clock.now()


async def test_committed_data_survives_reopening(tmp_path: Path, clock: FixedClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reopen.db'}"
    first = await Store.open(url, clock=clock, hasher=FAST_HASHER)
    await first.create_account("b@x.pe", "pw", role="agent", agent_code="1")
    await first.deliver("a@x.pe", ["b@x.pe"], b"persisted")
    await first.close()
    second = await Store.open(url, clock=clock, hasher=FAST_HASHER)  # migrations idempotent
    try:
        assert await second.read_message("b@x.pe", "INBOX", 1) == b"persisted"
        found = await second.credentials("b@x.pe")
        assert found is not None and second.hasher.verify(found[1], "pw")
    finally:
        await second.close()


async def test_apop_secret_only_for_accounts_that_opted_in(store: Store) -> None:
    await store.create_account("a@x.pe", "pw", role="agent", agent_code="1", apop_secret="tanstaaf")
    await store.create_account("b@x.pe", "pw", role="agent", agent_code="2")
    assert await store.apop_secret("a@x.pe") == "tanstaaf"
    assert await store.apop_secret("b@x.pe") is None
    assert await store.apop_secret("nobody@x.pe") is None


async def test_listeners_hear_of_deliveries_and_expunges(store: Store) -> None:
    heard: list[Change] = []
    unsubscribe = store.subscribe(heard.append)
    await store.deliver("a@x.pe", ["b@x.pe"], b"one")
    await store.expunge("b@x.pe", "INBOX", [1])
    await store.expunge("b@x.pe", "INBOX", [1])  # already gone: nothing changed, nothing said
    unsubscribe()
    await store.deliver("a@x.pe", ["b@x.pe"], b"two")
    assert [change.mailboxes for change in heard] == [frozenset({("b@x.pe", "INBOX")})] * 2


async def test_a_mailbox_recreated_by_delivery_gets_a_new_uidvalidity(store: Store) -> None:
    # The clock does not move: the floor, not the time, must make the new value greater.
    await store.deliver("a@x.pe", [Recipient("b@x.pe", "Canal rojo")], b"one")
    [first] = await store.list_messages("b@x.pe", "Canal rojo")
    await Folders(store).delete("b@x.pe", "Canal rojo")
    await store.deliver("a@x.pe", [Recipient("b@x.pe", "Canal rojo")], b"two")
    [second] = await store.list_messages("b@x.pe", "Canal rojo")
    assert second.uid_validity > first.uid_validity
    assert second.uid == 1


async def test_a_kept_maildrop_listing_follows_deliveries_expunges_and_other_stores(
    store: Store, database_url: str, clock: FixedClock
) -> None:
    """POP3's listing is kept and caught up by modseq: it must equal a fresh listing after
    deliveries, removals, flag changes and a folder re-created, including changes made
    through another store on the same database (another process)."""
    other = await Store.open(database_url, clock=clock, hasher=FAST_HASHER, migrate=False)
    try:

        async def fresh() -> tuple[int, list[int], list[int]]:
            infos = await other.list_messages("b@x.pe")
            validity = infos[0].uid_validity if infos else 0
            return validity, [i.uid for i in infos], [i.size for i in infos]

        async def listed() -> tuple[int, list[int], list[int]]:
            got = await store.maildrop("B@x.pe")
            return got.uid_validity, list(got.uids), list(got.sizes)

        assert (await store.maildrop("b@x.pe")).uids.tolist() == []
        for n in range(5):
            await store.deliver("a@x.pe", ["b@x.pe"], b"m" * (n + 1))
        assert await listed() == await fresh()
        await other.deliver("a@x.pe", ["b@x.pe"], b"from elsewhere")
        await other.expunge("b@x.pe", "INBOX", [2, 4])
        info = await Folders(other).get("b@x.pe", "INBOX")
        assert info is not None
        await Folders(other).update_flags(info.id, [1, 6], frozenset({"\\Seen"}), FlagChange.ADD)
        assert await listed() == await fresh() != (0, [], [])
        await Folders(other).rename("b@x.pe", [("INBOX", "Viejo")])
        await other.deliver("a@x.pe", ["b@x.pe"], b"new inbox")
        assert await listed() == await fresh()
        assert (await listed())[1] == [1]
    finally:
        await other.close()


async def test_deliveries_leave_the_reserve_free_for_the_gateways_own_mail(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Incoming mail stops short of ``reserve`` bytes free on SQLite's disk (Postfix's
    ``queue_minfree``), so what was taken can still be answered; the gateway's own notices
    are written in it. Without it, one sender could fill the disk, and the answers to every
    declaration already taken waited for an operator to make room."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    reserve = more_than_free(tmp_path)  # every incoming mail is refused
    store = await Store.open(url, clock=clock, hasher=FAST_HASHER, reserve=reserve)
    try:
        with pytest.raises(StorageFull, match=r"MiB free on its disk, [\d,]+ MiB kept"):
            await store.deliver("a@agencias.pe", ["b@agencias.pe"], b"Subject: x\r\n\r\nx\r\n")
        assert await store.list_messages("b@agencias.pe") == []
        await store.deliver("", ["b@agencias.pe"], b"Subject: aviso\r\n\r\nx\r\n", own=True)
        assert len(await store.list_messages("b@agencias.pe")) == 1
    finally:
        await store.close()
    store = await Store.open(url, clock=clock, hasher=FAST_HASHER, reserve=2**20)  # 1 MiB
    try:
        await store.deliver("a@agencias.pe", ["b@agencias.pe"], b"Subject: y\r\n\r\ny\r\n")
        assert len(await store.list_messages("b@agencias.pe")) == 2
    finally:
        await store.close()


async def test_accounts_are_listed_by_role_and_office_in_the_query(store: Store) -> None:
    """An office's console page and IMAP login want its office's and departments' accounts:
    chosen by the query, not by reading every agent's account (20 000 agents once made each
    such page 0.1 s of the node's interpreter lock)."""
    for code in ("118", "235"):
        await store.create_account(
            f"aduana-{code}@aduanas.gob.pe", "x", role=Role.OFFICE, office_code=code
        )
        await store.create_account(
            f"despacho.{code}@aduanas.gob.pe", "x", role=Role.DEPARTMENT, office_code=code
        )
    for n in range(3):
        await store.create_account(f"a{n}@agencias.pe", "x", role=Role.AGENT, agent_code=f"9{n}")

    def addresses(accounts: list[Account]) -> list[str]:
        return [account.address for account in accounts]

    assert len(await store.list_accounts()) == 7
    assert addresses(await store.list_accounts(roles=(Role.OFFICE, Role.DEPARTMENT))) == [
        "aduana-118@aduanas.gob.pe",
        "aduana-235@aduanas.gob.pe",
        "despacho.118@aduanas.gob.pe",
        "despacho.235@aduanas.gob.pe",
    ]
    departments = await store.list_accounts(roles=(Role.DEPARTMENT,), office_code="118")
    assert addresses(departments) == ["despacho.118@aduanas.gob.pe"]
    assert addresses(await store.list_accounts(roles=(Role.AGENT,), office_code="118")) == []


async def test_the_accounts_domains_are_chosen_in_the_query(store: Store) -> None:
    """SMTP asks whether a recipient's domain is one the node keeps mailboxes for: with
    20 000 agents, learning it by reading every account took 82-128 ms of the database
    thread, holding the interpreter lock, once a cache period."""
    assert await store.account_domains() == frozenset()
    await store.create_account(
        "aduana-118@aduanas.gob.pe", "x", role=Role.OFFICE, office_code="118"
    )
    for n, domain in enumerate(("agencias.pe", "Aduanet.COM.pe", "agencias.pe")):
        await store.create_account(f"a{n}@{domain}", "x", role=Role.AGENT, agent_code=f"9{n}")
    assert await store.account_domains() == {"aduanas.gob.pe", "agencias.pe", "aduanet.com.pe"}
