"""A later SELECT starts from the view the last one built and catches up by modseq.

The first SELECT of a mailbox reads it from the store; the next ones (other sessions, or
the same one again) copy that view and ask the store only what changed since. What
changed in between, by any path (another session's STORE and EXPUNGE, a POP3 DELE, a
delivery), must show, and the whole mailbox must not be read again.
"""

from __future__ import annotations

import poplib

import pytest

from mailboxes.folders import Folders
from tests.gateway.imap.conftest import AGENT, PASSWORD, Running, in_thread, mail


async def test_a_later_select_sees_every_change_without_reading_the_mailbox(
    imap: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"uno {n}"))
    first = await in_thread(imap.login)
    assert await in_thread(lambda: first.select("INBOX")) == ("OK", [b"6"])

    pages: list[int] = []
    original = Folders.flag_page

    async def counted(self: Folders, folder_id: int, after_uid: int, limit: int) -> object:
        pages.append(after_uid)
        return await original(self, folder_id, after_uid, limit)

    monkeypatch.setattr(Folders, "flag_page", counted)

    def other_changes() -> None:
        first.uid("STORE", "2", "+FLAGS", "(\\Seen \\Flagged)")
        first.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
        first.expunge()
        pop = poplib.POP3("127.0.0.1", imap.pop3_port, timeout=10)
        pop.user(AGENT)
        pop.pass_(PASSWORD)
        pop.dele(1)  # UID 1
        pop.quit()

    await in_thread(other_changes)
    await imap.store.deliver("z@example.pe", [AGENT], mail("dos"))

    second = await in_thread(imap.login)

    def look() -> tuple[list[bytes], list[bytes]]:
        status, data = second.select("INBOX")
        assert status == "OK"
        unseen = second.response("UNSEEN")[1]
        _, flags = second.uid("FETCH", "1:*", "(FLAGS)")
        return [*data, *unseen], [bytes(item) for item in flags if item]

    counts, flags = await in_thread(look)
    assert counts[0] == b"5"  # 6 - UID 3 (EXPUNGE) - UID 1 (DELE) + 1 delivered
    assert counts[1] == b"2"  # [UNSEEN 2]: UID 2 (now seen) is the first one
    assert [f.split(b"UID ")[1].split(b" ")[0].rstrip(b")") for f in flags] == [
        b"2",
        b"4",
        b"5",
        b"6",
        b"7",
    ]
    assert b"\\Flagged" in flags[0] and b"\\Seen" in flags[0]
    assert pages == [], "the second SELECT read the mailbox again"


async def test_an_expunge_a_fetch_hid_is_told_at_the_next_noop(imap: Running) -> None:
    """A FETCH by sequence number hides another session's EXPUNGE until it is answered
    (RFC 3501 section 7.4.1); the NOOP after it must tell it. It did not: pymap lets hidden
    expunges out only with the next removal it hears of, and the client kept showing a
    message that was gone for as long as nothing else changed in the mailbox."""
    for n in range(4):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"uno {n}"))
    client, other = await in_thread(imap.login), await in_thread(imap.login)
    await in_thread(lambda: client.select("INBOX"))
    await in_thread(lambda: other.select("INBOX"))
    await in_thread(lambda: other.uid("STORE", "2", "+FLAGS.SILENT", "(\\Deleted)"))
    await in_thread(other.expunge)
    fetched = await in_thread(lambda: client.fetch("1:*", "(FLAGS)"))
    assert len(fetched[1]) == 4  # answered as the client knew the mailbox
    await in_thread(client.noop)
    assert client.untagged_responses.get("EXPUNGE") == [b"2"]
    assert await in_thread(lambda: client.select("INBOX")) == ("OK", [b"3"])
