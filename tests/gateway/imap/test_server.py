"""The listener's own duties: limits, the thin start function, pymap's plugin entry."""

from __future__ import annotations

import imaplib
from argparse import Namespace
from contextlib import AsyncExitStack
from pathlib import Path

from gateway.imap import ImapServer, start_imap_server
from gateway.imap.backend import Backend
from mailboxes.store import Store
from tests.gateway.imap.conftest import AGENT, PASSWORD, accounts, in_thread, mail


async def test_append_is_limited_to_the_node_message_size(store: Store) -> None:
    await accounts(store)
    server = ImapServer(store, greeting_name="imap.test", max_message_size=2048)
    port = (await server.start(host="127.0.0.1", port=0)).sockets[0].getsockname()[1]

    def session() -> tuple[list[bytes | None], str, str]:
        with imaplib.IMAP4("127.0.0.1", port, timeout=10) as client:
            client.login(AGENT, PASSWORD)
            _, caps = client.capability()
            small, _ = client.append("INBOX", None, None, mail("corto"))
            try:
                big, _ = client.append("INBOX", None, None, mail("largo", "x" * 4096))
            except imaplib.IMAP4.error as exc:
                big = str(exc)
            return caps, small, big

    try:
        caps, small, big = await in_thread(session)
    finally:
        await server.aclose()
    assert b"APPENDLIMIT=2048" in (caps[0] or b"")
    assert small == "OK"
    assert "APPEND command error: BAD" in big  # refused before the literal is sent
    assert len(await store.list_messages(AGENT)) == 1


async def test_start_imap_server_serves_the_store(store: Store) -> None:
    await accounts(store)
    listener = await start_imap_server(store, host="127.0.0.1", port=0, greeting_name="imap.t")
    port = listener.sockets[0].getsockname()[1]

    def greeting() -> bytes:
        with imaplib.IMAP4("127.0.0.1", port, timeout=10) as client:
            client.login(AGENT, PASSWORD)
            return client.welcome

    try:
        assert b"imap.t" in await in_thread(greeting)
    finally:
        listener.close()
        await listener.wait_closed()


async def test_pymap_plugin_entry_opens_and_closes_its_own_store(tmp_path: Path) -> None:
    args = Namespace(
        host="127.0.0.1", port="0", debug=False, cert=None, key=None, tls=False,
        passlib_cfg=None, proxy_protocol=None, inherited_sockets=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", greeting_name="cli",
    )  # fmt: skip
    backend, config = await Backend.init(args, invalid_user_sleep=0.0)
    assert config.greeting.startswith(b"cli ")
    watched = backend.registry.state("b@x.pe", "INBOX")  # as an IMAP session would
    async with AsyncExitStack() as stack:
        await backend.start(stack)
        pool = backend.store.database.writer.pool
        await backend.store.deliver("a@x.pe", ["b@x.pe"], b"Subject: x\r\n\r\n")
        assert watched.version == 1  # heard the delivery
    assert backend.store.database.writer.pool is not pool  # disposed: the store was closed
    await backend.store.deliver("a@x.pe", ["b@x.pe"], b"Subject: y\r\n\r\n")
    assert watched.version == 1  # no longer listening
    await backend.store.close()
