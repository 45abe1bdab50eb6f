"""IMAP-side store operations on a real SQLite file: folders, flags, APPEND, COPY, MOVE."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailboxes.folders import FlagChange, FolderExists, FolderNotFound, Folders
from mailboxes.keywords import MAX_KEYWORDS, KeywordLimit
from mailboxes.store import Store

OWNER = "aduana-118@aduanas.gob.pe"
WHEN = datetime(1997, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def folders(store: Store) -> Folders:
    return Folders(store)


async def test_create_ensure_and_list(folders: Folders) -> None:
    inbox = await folders.ensure(OWNER, "INBOX")
    assert (inbox.name, inbox.uid_next) == ("INBOX", 1)
    assert await folders.ensure(OWNER, "INBOX") == inbox  # idempotent
    await folders.create(OWNER, "Canal rojo")
    with pytest.raises(FolderExists):
        await folders.create(OWNER, "Canal rojo")
    assert await folders.names([OWNER, "nadie@x.pe"]) == [(OWNER, "Canal rojo"), (OWNER, "INBOX")]
    assert await folders.get("otro@x.pe", "INBOX") is None


async def test_a_folder_created_again_gets_a_new_uid_validity(folders: Folders) -> None:
    # The test clock does not move: the validity must change anyway, or clients would
    # trust UIDs cached from the deleted folder.
    first = await folders.create(OWNER, "Archivo")
    await folders.delete(OWNER, "Archivo")
    again = await folders.create(OWNER, "Archivo")
    assert again.uid_validity > first.uid_validity
    with pytest.raises(FolderNotFound):
        await folders.delete(OWNER, "No existe")


async def test_append_shares_uids_with_pop3_listing(folders: Folders, store: Store) -> None:
    await store.deliver("a@x.pe", [OWNER], b"Subject: por SMTP\r\n\r\nx\r\n")
    inbox = await folders.ensure(OWNER, "INBOX")
    uid = await folders.append(
        inbox.id, b"Subject: por IMAP\r\n\r\ny\r\n", flags={"\\Seen"}, internal_date=WHEN
    )
    assert uid == 2
    listed = await store.list_messages(OWNER)
    assert [(m.uid, m.flags) for m in listed] == [(1, frozenset()), (2, frozenset({"\\Seen"}))]
    assert listed[1].internal_date == WHEN
    assert await folders.content(inbox.id, 2) == b"Subject: por IMAP\r\n\r\ny\r\n"
    state = await folders.state(inbox.id)
    assert state is not None
    assert (state.messages, state.unseen, state.uid_next) == (2, 1, 3)


async def test_copy_shares_the_content_and_move_removes_the_source(
    folders: Folders, store: Store
) -> None:
    await store.deliver("a@x.pe", [OWNER], b"uno")
    await store.deliver("a@x.pe", [OWNER], b"dos")
    inbox = await folders.ensure(OWNER, "INBOX")
    archive = await folders.create(OWNER, "Archivo")
    await folders.update_flags(inbox.id, [2], frozenset({"\\Flagged"}), FlagChange.ADD)

    assert await folders.copy(inbox.id, [2, 1, 99], archive.id) == [(1, 1), (2, 2)]
    assert await store.count_contents() == 2  # no bytes were copied
    copied = await folders.messages(archive.id)
    assert [(m.uid, m.flags) for m in copied] == [(1, frozenset()), (2, frozenset({"\\Flagged"}))]

    assert await folders.move(inbox.id, [1], archive.id) == [(1, 3)]
    assert [m.uid for m in await folders.messages(inbox.id)] == [2]
    assert await folders.content(archive.id, 3) == b"uno"
    await store.expunge(OWNER, "Archivo", [1, 3])
    assert await store.count_contents() == 1  # "uno" is referenced nowhere now
    await folders.delete(OWNER, "Archivo")
    assert await store.count_contents() == 1  # "dos" is still in INBOX
    assert await folders.content(inbox.id, 2) == b"dos"


async def test_flag_changes(folders: Folders, store: Store) -> None:
    await store.deliver("a@x.pe", [OWNER], b"uno")
    inbox = await folders.ensure(OWNER, "INBOX")
    seen = frozenset({"\\Seen"})
    assert await folders.update_flags(inbox.id, [1, 5], seen, FlagChange.ADD) == {1: seen}
    both = frozenset({"\\Seen", "\\Deleted"})
    assert await folders.update_flags(inbox.id, [1], frozenset({"\\Deleted"}), FlagChange.ADD) == {
        1: both
    }
    assert await folders.update_flags(inbox.id, [1], seen, FlagChange.REMOVE) == {
        1: frozenset({"\\Deleted"})
    }
    assert await folders.update_flags(inbox.id, [1], frozenset(), FlagChange.REPLACE) == {
        1: frozenset()
    }
    assert (await store.list_messages(OWNER))[0].flags == frozenset()


async def test_renaming_inbox_moves_its_mail_and_leaves_a_fresh_inbox(
    folders: Folders, store: Store
) -> None:
    await store.deliver("a@x.pe", [OWNER], b"uno")
    old = await folders.ensure(OWNER, "INBOX")
    await folders.rename(OWNER, [("INBOX", "1997")])
    moved = await folders.get(OWNER, "1997")
    fresh = await folders.get(OWNER, "INBOX")
    assert moved is not None and fresh is not None
    assert (moved.id, moved.uid_validity) == (old.id, old.uid_validity)
    assert fresh.uid_validity != old.uid_validity  # POP3 UIDLs are never given out twice
    assert await store.list_messages(OWNER) == []
    assert [m.uid for m in await store.list_messages(OWNER, "1997")] == [1]


async def test_rename_is_all_or_nothing(folders: Folders) -> None:
    await folders.create(OWNER, "A")
    await folders.create(OWNER, "A/B")
    await folders.create(OWNER, "C/B")
    with pytest.raises(FolderExists):
        await folders.rename(OWNER, [("A", "C"), ("A/B", "C/B")])
    assert [name for _, name in await folders.names([OWNER])] == ["A", "A/B", "C/B"]
    with pytest.raises(FolderNotFound):
        await folders.rename(OWNER, [("Z", "Y")])


async def test_subscriptions(folders: Folders) -> None:
    await folders.set_subscribed(OWNER, "Canal rojo", True)
    await folders.set_subscribed(OWNER, "Canal rojo", True)
    await folders.set_subscribed(OWNER, "Otra", True)
    await folders.set_subscribed(OWNER, "Otra", False)
    assert await folders.subscriptions(OWNER) == {"Canal rojo"}
    assert await folders.subscriptions("otro@x.pe") == set()


async def test_counts_and_modseq_follow_every_change(folders: Folders, store: Store) -> None:
    """Deliveries, APPEND, flags, COPY, MOVE and expunges keep the stored counters exact,
    each one a new modseq, so STATUS and SELECT never count rows."""

    async def counters(folder_id: int) -> tuple[int, int, int]:
        state = await folders.state(folder_id)
        assert state is not None
        return state.messages, state.unseen, state.highest_modseq

    await store.deliver("a@x.pe", [OWNER], b"uno")
    await store.deliver("a@x.pe", [OWNER], b"dos")
    inbox = await folders.ensure(OWNER, "INBOX")
    assert await counters(inbox.id) == (2, 2, 2)
    await folders.append(inbox.id, b"tres", flags={"\\Seen"}, internal_date=WHEN)
    assert await counters(inbox.id) == (3, 2, 3)
    await folders.update_flags(inbox.id, [1, 2], frozenset({"\\Seen"}), FlagChange.ADD)
    assert await counters(inbox.id) == (3, 0, 4)
    await folders.update_flags(inbox.id, [1], frozenset({"\\Seen"}), FlagChange.REMOVE)
    assert await counters(inbox.id) == (3, 1, 5)
    archive = await folders.create(OWNER, "Archivo")
    await folders.copy(inbox.id, [1, 2], archive.id)
    assert await counters(archive.id) == (2, 1, 1)
    await folders.move(inbox.id, [1], archive.id)
    assert await counters(inbox.id) == (2, 0, 6)
    assert await counters(archive.id) == (3, 2, 2)
    await store.expunge(OWNER, "Archivo", [1, 3])
    assert await counters(archive.id) == (1, 0, 3)


async def test_changes_since_a_modseq_are_only_what_changed(folders: Folders, store: Store) -> None:
    for number in range(5):
        await store.deliver("a@x.pe", [OWNER], b"mensaje %d" % number)
    inbox = await folders.ensure(OWNER, "INBOX")
    state = await folders.state(inbox.id)
    assert state is not None
    seen = state.highest_modseq

    unchanged = await folders.changes_since(inbox.id, seen)
    assert unchanged is not None
    assert (unchanged.messages, unchanged.expunged) == ([], [])

    await folders.update_flags(inbox.id, [2], frozenset({"\\Flagged"}), FlagChange.ADD)
    await store.expunge(OWNER, "INBOX", [4])
    await store.deliver("a@x.pe", [OWNER], b"nuevo")
    changes = await folders.changes_since(inbox.id, seen)
    assert changes is not None
    assert [(m.uid, m.flags) for m in changes.messages] == [
        (2, frozenset({"\\Flagged"})),
        (6, frozenset()),
    ]
    assert changes.expunged == [4]
    assert changes.state.messages == 5
    assert await folders.changes_since(inbox.id, changes.state.highest_modseq) == type(changes)(
        changes.state, [], []
    )
    await folders.delete(OWNER, "INBOX")
    assert await folders.changes_since(inbox.id, seen) is None


async def test_find_one_reads_what_find_reads(folders: Folders, store: Store) -> None:
    # find_one skips SQLAlchemy's execution: same values, types converted alike.
    await store.deliver("a@x.pe", [OWNER], b"Subject: uno\r\n\r\nx\r\n")
    inbox = await folders.ensure(OWNER, "INBOX")
    other = await folders.create(OWNER, "Archivo")
    uid = await folders.append(
        inbox.id, b"Subject: dos\n\ny\n", flags={"\\Seen", "$Etiqueta"}, internal_date=WHEN
    )
    for each in (1, uid):
        one = await folders.find_one(inbox.id, each)
        assert one is not None
        assert one == (await folders.find(inbox.id, [each], with_raw=True))[each]
        assert one.raw == await folders.content(inbox.id, each)
    again = await folders.find_one(inbox.id, uid)
    assert again is not None and again.internal_date == WHEN and again.internal_date.tzinfo
    assert again.flags == frozenset({"\\Seen", "$Etiqueta"})
    assert await folders.find_one(inbox.id, 99) is None
    assert await folders.find_one(other.id, 1) is None


async def test_keywords_over_the_limits_change_nothing(folders: Folders, store: Store) -> None:
    for n in range(3):
        await store.deliver("a@x.pe", [OWNER], b"Subject: %d\r\n\r\nx\r\n" % n)
    inbox = await folders.ensure(OWNER, "INBOX")
    tags = frozenset({"$Forwarded", "$label1"})
    await folders.update_flags(inbox.id, [1], tags, FlagChange.ADD)
    many = frozenset(f"k{n}" for n in range(MAX_KEYWORDS - 1))
    # message 1 would carry 65 keywords, 2 and 3 only 63: the whole STORE is refused
    with pytest.raises(KeywordLimit, match="at most 64 keywords"):
        await folders.update_flags(inbox.id, [2, 3, 1], many, FlagChange.ADD)
    with pytest.raises(KeywordLimit, match="at most 50 characters"):
        await folders.update_flags(inbox.id, [2], frozenset({"k" * 60}), FlagChange.REPLACE)
    flags = {m.uid: m.flags for m in await store.list_messages(OWNER)}
    assert flags == {1: tags, 2: frozenset(), 3: frozenset()}
    with pytest.raises(KeywordLimit):
        await folders.append(inbox.id, b"x\r\n", flags=many | tags, internal_date=WHEN)
    assert len(await store.list_messages(OWNER)) == 3
