"""Each login sees its own mailboxes only; an office sees its departments' only if configured."""

from __future__ import annotations

import pytest

from tests.gateway.imap.conftest import (
    AGENT,
    DEPARTMENT,
    OFFICE,
    OTHER_AGENT,
    Running,
    in_thread,
    mail,
)


@pytest.mark.parametrize(
    "name",
    [
        OTHER_AGENT,
        f"{OTHER_AGENT}/INBOX",
        f'"{OTHER_AGENT}/INBOX"',
        "../agente2@agencias.pe/INBOX",
        "#shared/agente2@agencias.pe/INBOX",
        "Departamentos/despacho.118/INBOX",
    ],
)
async def test_an_agent_cannot_select_another_inbox(imap: Running, name: str) -> None:
    await imap.store.deliver("z@example.pe", [OTHER_AGENT], mail("privado"))

    def attempt() -> tuple[str, str, list[bytes | None]]:
        client = imap.login(AGENT)
        selected, _ = client.select(name)
        status, _ = client.status(name, "(MESSAGES)")
        return selected, status, client.list()[1]

    selected, status, names = await in_thread(attempt)
    assert (selected, status) == ("NO", "NO")
    assert names == [b'(\\HasNoChildren) "/" INBOX']


async def test_each_login_sees_its_own_inbox_only(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [OTHER_AGENT], mail("para el otro"))
    await imap.store.deliver("z@example.pe", [AGENT], mail("para mi"))

    def subjects(user: str) -> bytes:
        client = imap.login(user)
        client.select("INBOX")
        _, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return b"".join(part[1] for part in data if isinstance(part, tuple))

    assert await in_thread(lambda: subjects(AGENT)) == b"Subject: para mi\r\n\r\n"
    assert await in_thread(lambda: subjects(OTHER_AGENT)) == b"Subject: para el otro\r\n\r\n"


async def test_copy_into_another_account_is_impossible(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], mail("uno"))

    def attempt() -> tuple[str, str]:
        client = imap.login(AGENT)
        client.select("INBOX")
        copied, _ = client.copy("1", f"{OTHER_AGENT}/INBOX")
        appended, _ = client.append(f"{OTHER_AGENT}/INBOX", None, None, mail("intruso"))
        return copied, appended

    assert await in_thread(attempt) == ("NO", "NO")
    assert await imap.store.list_messages(OTHER_AGENT) == []
    assert await imap.store.list_folders(AGENT) == ["INBOX"]


async def test_departments_are_not_shared_unless_configured(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [DEPARTMENT], mail("para despacho"))

    def office_view() -> tuple[list[bytes | None], str]:
        client = imap.login(OFFICE)
        selected, _ = client.select("Departamentos/despacho.118/INBOX")
        return client.list()[1], selected

    names, selected = await in_thread(office_view)
    assert names == [b'(\\HasNoChildren) "/" INBOX']
    assert selected == "NO"


async def test_an_office_sees_its_departments_when_configured(shared_imap: Running) -> None:
    imap = shared_imap
    await imap.store.deliver("z@example.pe", [DEPARTMENT], mail("para despacho"))

    def office_view() -> dict[str, object]:
        client = imap.login(OFFICE)
        seen: dict[str, object] = {"list": client.list()[1]}
        client.select("Departamentos/despacho.118/INBOX")
        _, data = client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        seen["subject"] = data[0][1]  # type: ignore[index]
        client.store("1", "+FLAGS", "(\\Seen)")
        seen["create"] = client.create("Departamentos/despacho.118/Propia")[0]
        seen["delete"] = client.delete("Departamentos/despacho.118/INBOX")[0]
        return seen

    def agent_view() -> list[bytes | None]:
        return imap.login(AGENT).list()[1]

    seen = await in_thread(office_view)
    assert b'"/" Departamentos/despacho.118/INBOX' in b" ".join(seen["list"])  # type: ignore[arg-type]
    assert seen["subject"] == b"Subject: para despacho\r\n\r\n"
    assert (seen["create"], seen["delete"]) == ("NO", "NO")
    (info,) = await imap.store.list_messages(DEPARTMENT)
    assert info.flags == {"\\Seen"}  # the department's own mailbox, shared, not a copy
    assert await imap.store.list_folders(DEPARTMENT) == ["INBOX"]
    assert await in_thread(agent_view) == [b'(\\HasNoChildren) "/" INBOX']
