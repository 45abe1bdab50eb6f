"""What today's clients ask of an IMAP server beyond RFC 3501's core, answered as Dovecot does:
NAMESPACE, UNSELECT, ENABLE; SEARCH over decoded text; BADCHARSET; 8-bit names refused."""

from __future__ import annotations

import imaplib
from base64 import b64encode

import pytest

from tests.gateway.imap.conftest import AGENT, Running, in_thread

LATIN1_QP = (
    b"From: z@example.pe\r\nSubject: =?ISO-8859-1?Q?Declaraci=F3n?= 118\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Adjunto la DUA de importaci=F3n.\r\n"
)
PLAIN = b"From: z@example.pe\r\nSubject: otra\r\n\r\nNada que ver.\r\n"


def command(client: imaplib.IMAP4, name: str, *args: str | bytes) -> tuple[str, list[bytes]]:
    """The tagged status and data; imaplib raises on BAD, which is returned as such."""
    try:
        typ, data = client._simple_command(name, *args)
    except imaplib.IMAP4.error as exc:
        return "BAD", [str(exc).encode()]
    return typ, [bytes(d) for d in data if d is not None]


def capabilities_and_commands(running: Running) -> dict[str, object]:
    client = running.client()
    seen: dict[str, object] = {"before": set(client.capabilities)}
    client.login(AGENT, "clave de prueba")
    seen["after"] = set(client.capability()[1][0].decode().split())
    command(client, "ENABLE", "CONDSTORE")
    seen["enabled"] = client.untagged_responses.pop("ENABLED", None)
    command(client, "NAMESPACE")
    seen["namespace"] = client.untagged_responses.pop("NAMESPACE", None)
    client.select("INBOX")
    seen["unselect"] = command(client, "UNSELECT")[0]
    seen["after unselect"] = command(client, "FETCH", "1", "(FLAGS)")[0]
    return seen


async def test_namespace_unselect_enable(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], PLAIN)
    seen = await in_thread(lambda: capabilities_and_commands(imap))
    for capability in ("NAMESPACE", "UNSELECT", "ENABLE"):
        assert capability in seen["before"] and capability in seen["after"]  # type: ignore[operator]
    assert seen["enabled"] == [b""]  # RFC 5161: nothing enabled, an empty ENABLED
    assert seen["namespace"] == [b'(("" "/")) NIL NIL']  # Dovecot: (("" ".")) NIL NIL
    assert seen["unselect"] == "OK"
    assert seen["after unselect"] == "BAD"  # no mailbox selected any more


def search(running: Running, *criteria: str | bytes) -> tuple[str, list[bytes]]:
    client = running.login()
    client.select("INBOX")
    return command(client, "SEARCH", *criteria)


def search_utf8_literal(running: Running, key: str, text: str) -> list[bytes]:
    client = running.login()
    client.select("INBOX")
    client.literal = text.encode()  # imaplib sends it as a literal after the last argument
    typ, data = client.search("UTF-8", key)
    assert typ == "OK"
    return [bytes(d) for d in data if d]


async def test_search_finds_decoded_text(imap: Running) -> None:
    """As Dovecot: ``importación`` in a quoted-printable ISO-8859-1 body, ``Declaración``
    in an encoded-word Subject."""
    await imap.store.deliver("z@example.pe", [AGENT], LATIN1_QP)
    await imap.store.deliver("z@example.pe", [AGENT], PLAIN)
    assert await in_thread(lambda: search_utf8_literal(imap, "BODY", "importación")) == [b"1"]
    assert await in_thread(lambda: search_utf8_literal(imap, "TEXT", "IMPORTACIÓN")) == [b"1"]
    assert await in_thread(lambda: search_utf8_literal(imap, "TEXT", "Declaración")) == [b"1"]
    assert await in_thread(lambda: search_utf8_literal(imap, "BODY", "aduanero")) == []


async def test_unknown_charset_is_no_badcharset(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], PLAIN)
    typ, data = await in_thread(lambda: search(imap, "CHARSET", "X-NO-EXISTE", "BODY", "x"))
    assert typ == "NO"
    assert data[0].startswith(b"[BADCHARSET (US-ASCII UTF-8)]")


@pytest.mark.parametrize("name", [b'"caf\xe9"', b'"caf\xc3\xa9"'], ids=["latin-1", "utf-8"])
async def test_create_with_raw_8bit_name_is_refused(imap: Running, name: bytes) -> None:
    def create() -> tuple[str, list[bytes]]:
        client = imap.login()
        return command(client, "CREATE", name)

    typ, _ = await in_thread(create)
    assert typ == "BAD"
    assert await imap.store.list_folders(AGENT) == ["INBOX"]


async def test_create_with_modified_utf7_is_stored_as_the_name(imap: Running) -> None:
    def create() -> tuple[str, list[bytes]]:
        client = imap.login()
        return command(client, "CREATE", '"Caf&AOk-"')

    assert (await in_thread(create))[0] == "OK"
    assert "Café" in await imap.store.list_folders(AGENT)


def authenticate_with_initial_response(running: Running, password: str) -> tuple[str, bytes]:
    client = running.client()
    assert "SASL-IR" in client.capabilities
    response = b64encode(f"\0{AGENT}\0{password}".encode()).decode()
    typ, data = command(client, "AUTHENTICATE", "PLAIN", response)
    return typ, data[0] if data else b""


async def test_authenticate_with_an_initial_response(imap: Running) -> None:
    """RFC 4959 SASL-IR: the PLAIN response on the AUTHENTICATE line, no continuation."""
    typ, _ = await in_thread(lambda: authenticate_with_initial_response(imap, "clave de prueba"))
    assert typ == "OK"
    typ, _ = await in_thread(lambda: authenticate_with_initial_response(imap, "mala"))
    assert typ == "NO"
