"""POP3 and IMAP on one store: the same UIDs, and each sees the other's deletions."""

from __future__ import annotations

import poplib

from tests.gateway.imap.conftest import AGENT, PASSWORD, Running, in_thread, mail


def pop3(running: Running) -> poplib.POP3:
    client = poplib.POP3("127.0.0.1", running.pop3_port, timeout=10)
    client.user(AGENT)
    client.pass_(PASSWORD)
    return client


def uidls(running: Running) -> list[str]:
    client = pop3(running)
    try:
        _, lines, _ = client.uidl()
        return [line.split()[1].decode() for line in lines]
    finally:
        client.quit()


async def test_imap_uids_are_pop3_uidls(imap: Running) -> None:
    for n in range(3):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))

    def imap_view() -> list[str]:
        client = imap.login()
        client.select("INBOX")
        validity = client.untagged_responses["UIDVALIDITY"][-1].decode()  # type: ignore[union-attr]
        _, found = client.uid("SEARCH", "ALL")
        return [f"{validity}.{uid.decode()}" for uid in (found[0] or b"").split()]

    assert await in_thread(imap_view) == await in_thread(lambda: uidls(imap))


async def test_pop3_dele_is_seen_by_a_selected_imap_session(imap: Running) -> None:
    for n in range(3):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))

    def scenario() -> tuple[list[bytes | None], list[bytes | None]]:
        client = imap.login()
        client.select("INBOX")
        pop = pop3(imap)
        pop.dele(1)
        pop.quit()  # UPDATE state: the deletion is committed
        client.noop()
        expunged = client.untagged_responses.pop("EXPUNGE", [])
        _, found = client.uid("SEARCH", "ALL")
        return expunged, found

    expunged, found = await in_thread(scenario)
    assert expunged == [b"1"]
    assert found == [b"2 3"]


async def test_imap_expunge_is_seen_by_pop3(imap: Running) -> None:
    for n in range(3):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))
    before = await in_thread(lambda: uidls(imap))

    def expunge_second() -> None:
        client = imap.login()
        client.select("INBOX")
        client.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
        client.expunge()
        client.logout()

    await in_thread(expunge_second)
    assert await in_thread(lambda: uidls(imap)) == [before[0], before[2]]


async def test_imap_sees_the_pop3_deletion_while_idling(imap: Running) -> None:
    """The store announces no deletions; an IDLE looks again every ``idle_poll`` (0.2 s)."""
    for n in range(2):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))

    def scenario() -> bytes:
        client = imap.login()
        client.select("INBOX")
        tag = client._new_tag()  # type: ignore[attr-defined]
        client.send(tag + b" IDLE\r\n")
        assert client.readline().startswith(b"+")
        pop = pop3(imap)
        pop.dele(2)
        pop.quit()
        update = client.readline()
        client.send(b"DONE\r\n")
        while not (line := client.readline()).startswith(tag):
            assert line.startswith(b"* ")  # more untagged news (RECENT) may come first
        assert line.startswith(tag + b" OK")
        return update

    assert await in_thread(scenario) == b"* 2 EXPUNGE\r\n"
