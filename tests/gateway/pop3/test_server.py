"""The POP3 server on real loopback sockets, with Python's poplib and raw sockets, on a real
SQLite store."""

from __future__ import annotations

import asyncio
import poplib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import pytest
from sqlalchemy import text

from gateway.pop3 import apop_digest, replies
from gateway.pop3.server import Pop3Server, start_pop3_server
from mailboxes.store import Store
from tests.gateway.http.rig import loop_pauses
from tests.logs import told
from tests.pipelining import pipelined

T = TypeVar("T")

AGENT = "agente@example.pe"
AGENT_PW = "clave del agente"
OFFICE = "aduana-118@aduanas.gob.pe"
OFFICE_PW = "clave de la aduana"
APOP_USER = "apop@example.pe"
APOP_SECRET = "tanstaaf"

FIRST = b"From: a@example.pe\r\nSubject: uno\r\n\r\nprimera linea\r\n.punto inicial\r\n.\r\nfin\r\n"
SECOND = b"From: a@example.pe\r\nSubject: dos\r\n\r\nsegundo mensaje\r\n"
OFFICE_MAIL = b"From: b@example.pe\r\nSubject: solo aduana\r\n\r\nconfidencial\r\n"


@dataclass
class Running:
    server: Pop3Server
    port: int
    store: Store
    clients: list[poplib.POP3] = field(default_factory=list)

    def client(self) -> poplib.POP3:
        """A poplib client; closed at teardown even if a test ends it with an error."""
        pop = poplib.POP3("127.0.0.1", self.port, timeout=10)
        self.clients.append(pop)
        return pop

    async def login(self, user: str = AGENT, password: str = AGENT_PW) -> poplib.POP3:
        def connect() -> poplib.POP3:
            pop = self.client()
            pop.user(user)
            pop.pass_(password)
            return pop

        return await asyncio.to_thread(connect)


async def in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


async def start(store: Store, **kwargs: float) -> AsyncIterator[Running]:
    server = Pop3Server(store, greeting_name="pop.test", apop=True, **kwargs)  # type: ignore[arg-type]
    listener = await server.start(host="127.0.0.1", port=0)
    running = Running(server, listener.sockets[0].getsockname()[1], store)
    try:
        yield running
    finally:
        for pop in running.clients:
            pop.close()
        await server.aclose()


@pytest.fixture
async def filled(store: Store) -> Store:
    await store.create_account(AGENT, AGENT_PW, role="agent", agent_code="4321")
    await store.create_account(OFFICE, OFFICE_PW, role="office", office_code="118")
    await store.create_account(
        APOP_USER, "no usada", role="agent", agent_code="9999", apop_secret=APOP_SECRET
    )
    await store.deliver("a@example.pe", [AGENT], FIRST)
    await store.deliver("a@example.pe", [AGENT], SECOND)
    await store.deliver("b@example.pe", [OFFICE], OFFICE_MAIL)
    await store.deliver("a@example.pe", [APOP_USER], SECOND)
    return store


@pytest.fixture
async def pop3(filled: Store) -> AsyncIterator[Running]:
    async for running in start(filled):
        yield running


def lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n")[:-1]


# --- poplib: the whole RFC 1939 conversation ---------------------------------------------


async def test_poplib_reads_lists_and_deletes(pop3: Running) -> None:
    infos = await pop3.store.list_messages(AGENT)
    pop = await pop3.login()

    assert await in_thread(pop.stat) == (2, len(FIRST) + len(SECOND))
    _, listing, _ = await in_thread(pop.list)
    assert listing == [f"1 {len(FIRST)}".encode(), f"2 {len(SECOND)}".encode()]
    _, uidl, _ = await in_thread(pop.uidl)
    assert uidl == [f"{n} {i.uid_validity}.{i.uid}".encode() for n, i in enumerate(infos, 1)]

    _, body, octets = await in_thread(lambda: pop.retr(1))
    assert body == lines(FIRST)  # dot-stuffing undone by the client: ".punto", "."
    assert octets == len(FIRST)  # what LIST announced is what RETR delivered
    _, top, _ = await in_thread(lambda: pop.top(1, 1))
    assert top == [b"From: a@example.pe", b"Subject: uno", b"", b"primera linea"]

    assert await in_thread(lambda: pop.dele(1)) == replies.DELETED.to_bytes()[:-2]
    assert await in_thread(pop.stat) == (1, len(SECOND))
    assert [i.uid for i in await pop3.store.list_messages(AGENT)] == [i.uid for i in infos]
    assert await in_thread(pop.quit) == replies.SIGNING_OFF.to_bytes()[:-2]

    remaining = await pop3.store.list_messages(AGENT)
    assert [i.uid for i in remaining] == [infos[1].uid]


async def test_uids_are_stable_across_sessions_and_match_the_store(pop3: Running) -> None:
    first = await pop3.login()
    _, before, _ = await in_thread(first.uidl)
    await in_thread(lambda: first.dele(1))
    await in_thread(first.quit)
    await pop3.store.deliver("c@example.pe", [AGENT], b"Subject: tres\r\n\r\nx\r\n")

    second = await pop3.login()
    _, after, _ = await in_thread(second.uidl)
    await in_thread(second.quit)
    infos = await pop3.store.list_messages(AGENT)
    assert after[0].split()[1] == before[1].split()[1]  # message 2 became 1, same unique-id
    assert [line.split()[1].decode() for line in after] == [
        f"{i.uid_validity}.{i.uid}" for i in infos
    ]


async def test_rset_and_quit_keep_everything(pop3: Running) -> None:
    pop = await pop3.login()
    await in_thread(lambda: pop.dele(1))
    await in_thread(lambda: pop.dele(2))
    await in_thread(pop.rset)
    await in_thread(pop.quit)
    assert len(await pop3.store.list_messages(AGENT)) == 2


async def test_capa(pop3: Running) -> None:
    pop = await in_thread(pop3.client)
    capabilities = await in_thread(pop.capa)
    await in_thread(pop.quit)
    assert set(capabilities) == {
        "TOP",
        "UIDL",
        "USER",
        "RESP-CODES",
        "PIPELINING",
        "AUTH-RESP-CODE",
        "IMPLEMENTATION",
        "SASL",
    }
    assert capabilities["IMPLEMENTATION"] == ["Teledespacho"]


async def test_greeting_timestamps_differ_per_connection(pop3: Running) -> None:
    a, b = await in_thread(pop3.client), await in_thread(pop3.client)
    welcome_a, welcome_b = a.getwelcome(), b.getwelcome()
    await in_thread(a.quit)
    await in_thread(b.quit)
    assert welcome_a.startswith(b"+OK Teledespacho POP3 server ready <")
    assert welcome_a.endswith(b"@pop.test>")
    assert welcome_a != welcome_b


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "password"),
    [(AGENT, "mala clave"), ("nadie@example.pe", AGENT_PW), ("not-an-address", "x")],
)
async def test_bad_credentials_get_auth_code(pop3: Running, user: str, password: str) -> None:
    pop = await in_thread(pop3.client)
    await in_thread(lambda: pop.user(user))
    with pytest.raises(poplib.error_proto) as caught:
        await in_thread(lambda: pop.pass_(password))
    assert caught.value.args[0] == replies.AUTH_REJECTED.to_bytes()[:-2]
    await in_thread(pop.quit)
    assert len(pop3.server.locks) == 0


async def test_apop_with_shared_secret(pop3: Running) -> None:
    pop = await in_thread(pop3.client)
    response = await in_thread(lambda: pop.apop(APOP_USER, APOP_SECRET))
    assert response.startswith(b"+OK maildrop locked and ready, 1 messages")
    await in_thread(pop.quit)


async def test_apop_refused_for_accounts_without_a_secret(pop3: Running) -> None:
    pop = await in_thread(pop3.client)
    with pytest.raises(poplib.error_proto) as caught:
        await in_thread(lambda: pop.apop(AGENT, AGENT_PW))
    assert caught.value.args[0].startswith(b"-ERR [AUTH]")
    await in_thread(pop.quit)


async def test_apop_digest_must_be_for_this_greeting(pop3: Running) -> None:
    old_timestamp = "<1.1.aaaa@pop.test>"
    reply = await raw_conversation(
        pop3.port, f"APOP {APOP_USER} {apop_digest(old_timestamp, APOP_SECRET)}\r\n".encode()
    )
    assert lines(reply)[1] == replies.AUTH_REJECTED.to_bytes()[:-2]


# --- isolation and the maildrop lock -----------------------------------------------------


async def test_an_account_sees_only_its_own_mailbox(pop3: Running) -> None:
    agent = await pop3.login()
    _, agent_uidl, _ = await in_thread(agent.uidl)
    assert len(agent_uidl) == 2
    bodies = [b"\r\n".join((await in_thread(partial(agent.retr, n)))[1]) for n in (1, 2)]
    with pytest.raises(poplib.error_proto):
        await in_thread(lambda: agent.retr(3))
    await in_thread(agent.quit)
    assert all(b"confidencial" not in body for body in bodies)

    office = await pop3.login(OFFICE, OFFICE_PW)
    _, office_list, _ = await in_thread(office.list)
    _, office_body, _ = await in_thread(lambda: office.retr(1))
    await in_thread(office.quit)
    assert office_list == [f"1 {len(OFFICE_MAIL)}".encode()]
    assert office_body == lines(OFFICE_MAIL)


async def test_second_session_on_a_maildrop_gets_in_use(pop3: Running) -> None:
    first = await pop3.login()
    second = await in_thread(pop3.client)
    await in_thread(lambda: second.user(AGENT.upper()))  # same maildrop, other spelling
    with pytest.raises(poplib.error_proto) as caught:
        await in_thread(lambda: second.pass_(AGENT_PW))
    assert caught.value.args[0] == replies.MAILDROP_IN_USE.to_bytes()[:-2]
    other = await pop3.login(OFFICE, OFFICE_PW)  # other maildrops are not affected
    await in_thread(other.quit)

    await in_thread(first.quit)
    await in_thread(lambda: second.user(AGENT))
    await in_thread(lambda: second.pass_(AGENT_PW))
    assert await in_thread(second.stat) == (2, len(FIRST) + len(SECOND))
    await in_thread(second.quit)


async def test_wrong_password_does_not_reveal_in_use(pop3: Running) -> None:
    holder = await pop3.login()
    reply = await raw_conversation(pop3.port, f"USER {AGENT}\r\nPASS wrong\r\n".encode())
    assert lines(reply)[2] == replies.AUTH_REJECTED.to_bytes()[:-2]
    await in_thread(holder.quit)


# --- dropped, idle and misbehaving clients -----------------------------------------------


async def raw_conversation(port: int, data: bytes, *, close_early: bool = False) -> bytes:
    """Send ``data`` on a plain socket, then either close at once or read until EOF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        greeting = await reader.readline()
        writer.write(data)
        await writer.drain()
        if close_early:
            return greeting
        if not data.rstrip().upper().endswith(b"QUIT"):
            writer.write(b"QUIT\r\n")
            await writer.drain()
        return greeting + await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()


async def wait_for_unlock(server: Pop3Server) -> None:
    async with asyncio.timeout(5):
        while len(server.locks):  # noqa: ASYNC110 - the lock set has no event to await
            await asyncio.sleep(0.01)


async def test_dropped_connection_applies_no_deletion_and_frees_the_lock(pop3: Running) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", pop3.port)
    await reader.readline()
    writer.write(f"USER {AGENT}\r\nPASS {AGENT_PW}\r\nDELE 1\r\nDELE 2\r\n".encode())
    await writer.drain()
    for _ in range(3):
        assert (await reader.readline()).startswith(b"+OK")
    assert AGENT in pop3.server.locks
    writer.transport.abort()  # a reset, not even a FIN after a QUIT
    await wait_for_unlock(pop3.server)

    assert len(await pop3.store.list_messages(AGENT)) == 2
    pop = await pop3.login()  # the lock was released
    await in_thread(pop.quit)


async def test_idle_client_is_logged_out_without_update(filled: Store) -> None:
    async for running in start(filled, idle_timeout=0.3):
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        await reader.readline()
        writer.write(f"USER {AGENT}\r\nPASS {AGENT_PW}\r\nDELE 1\r\n".encode())
        await writer.drain()
        async with asyncio.timeout(5):
            rest = await reader.read()  # the server closes: EOF, no farewell line
        writer.close()
        await writer.wait_closed()
        assert lines(rest) == [
            replies.USER_ACCEPTED.to_bytes()[:-2],
            replies.maildrop_ready(2, len(FIRST) + len(SECOND)).to_bytes()[:-2],
            replies.DELETED.to_bytes()[:-2],
        ]
        await wait_for_unlock(running.server)
        assert len(await filled.list_messages(AGENT)) == 2


async def test_overlong_and_malformed_lines_get_err_and_the_session_goes_on(pop3: Running) -> None:
    data = (
        b"USER "
        + b"x" * 5000
        + b"\r\nFOO\r\nRETR 1\r\n\xff\xfe\r\n"
        + f"USER {AGENT}\r\nPASS {AGENT_PW}\r\nSTAT\r\nQUIT\r\n".encode()
    )
    reply = await raw_conversation(pop3.port, data)
    assert lines(reply)[1:] == [
        replies.LINE_TOO_LONG.to_bytes()[:-2],
        replies.UNKNOWN_COMMAND.to_bytes()[:-2],
        replies.NOT_IN_THIS_STATE.to_bytes()[:-2],
        replies.BAD_ENCODING.to_bytes()[:-2],
        replies.USER_ACCEPTED.to_bytes()[:-2],
        replies.maildrop_ready(2, len(FIRST) + len(SECOND)).to_bytes()[:-2],
        replies.stat(2, len(FIRST) + len(SECOND)).to_bytes()[:-2],
        replies.SIGNING_OFF.to_bytes()[:-2],
    ]


async def test_too_many_bad_commands_close_the_connection(pop3: Running) -> None:
    with told("gateway.pop3.server") as said:
        reply = await raw_conversation(pop3.port, b"HELO\r\n" * 20, close_early=False)
        await said.said("sent away: too many bad commands, closing")
    assert lines(reply)[-1] == replies.TOO_MANY_BAD_COMMANDS.to_bytes()[:-2]
    assert len(lines(reply)) == 1 + 10


async def test_a_client_that_never_logs_in_is_sent_away(pop3: Running) -> None:
    """5 000 pipelined ``CAPA``s from a client that never logged in were all answered."""
    with told("gateway.pop3.server") as said:
        reply = await raw_conversation(pop3.port, b"CAPA\r\n" * 100, close_early=False)
        await said.said("sent away: too many commands without a login, closing")
    assert lines(reply)[-1] == replies.TOO_MANY_COMMANDS_BEFORE_LOGIN.to_bytes()[:-2]
    assert lines(reply).count(replies.CAPABILITY_LIST_FOLLOWS.to_bytes()[:-2]) == 50
    assert len([r for r in said.records if "sent away" in r.getMessage()]) == 1


async def test_commands_one_byte_at_a_time_over_the_socket(pop3: Running) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", pop3.port)
    await reader.readline()
    for byte in f"USER {AGENT}\r\nPASS {AGENT_PW}\r\nUIDL 2\r\nQUIT\r\n".encode():
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0)
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    infos = await pop3.store.list_messages(AGENT)
    assert lines(answer)[2] == f"+OK 2 {infos[1].uid_validity}.{infos[1].uid}".encode()
    assert lines(answer)[-1] == replies.SIGNING_OFF.to_bytes()[:-2]


async def test_pipelined_commands_are_answered_in_order(pop3: Running) -> None:
    script = f"USER {AGENT}\r\nPASS {AGENT_PW}\r\n" + "LIST 1\r\nNOOP\r\nDELE 2\r\nLIST 2\r\n"
    reply = await raw_conversation(pop3.port, script.encode() + b"QUIT\r\n")
    assert lines(reply)[3:] == [
        f"+OK 1 {len(FIRST)}".encode(),
        b"+OK",
        replies.DELETED.to_bytes()[:-2],
        replies.ALREADY_DELETED.to_bytes()[:-2],
        replies.SIGNING_OFF.to_bytes()[:-2],
    ]
    assert len(await pop3.store.list_messages(AGENT)) == 1


async def test_busy_clients_do_not_stop_others(pop3: Running) -> None:
    """A flood of garbage, a slowloris and a dropped session run while a client works."""
    _, slow_writer = await asyncio.open_connection("127.0.0.1", pop3.port)
    slow_writer.write(b"US")  # and never finishes the line
    flood = asyncio.create_task(raw_conversation(pop3.port, b"x" * 200_000 + b"\r\n"))
    dropped = asyncio.create_task(
        raw_conversation(pop3.port, f"USER {OFFICE}\r\n".encode(), close_early=True)
    )
    pop = await pop3.login()
    _, body, _ = await in_thread(lambda: pop.retr(2))
    await in_thread(pop.quit)
    assert body == lines(SECOND)
    assert lines(await flood)[1] == replies.LINE_TOO_LONG.to_bytes()[:-2]
    await dropped
    slow_writer.close()
    await slow_writer.wait_closed()


# --- store trouble -----------------------------------------------------------------------


async def rename_table(store: Store, old: str, new: str) -> None:
    async with store.database.write_session() as session, session.begin():
        await session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_store_failure_is_sys_temp_and_the_server_recovers(
    pop3: Running, caplog: pytest.LogCaptureFixture
) -> None:
    await rename_table(pop3.store, "mailbox_messages", "mailbox_messages_away")
    pop = await in_thread(pop3.client)
    await in_thread(lambda: pop.user(AGENT))
    with pytest.raises(poplib.error_proto) as caught:
        await in_thread(lambda: pop.pass_(AGENT_PW))
    assert caught.value.args[0] == replies.TEMPORARY_FAILURE.to_bytes()[:-2]
    assert b"mailbox_messages" not in caught.value.args[0]  # no exception text to the peer
    assert "store failure" in caplog.text
    assert len(pop3.server.locks) == 0

    await rename_table(pop3.store, "mailbox_messages_away", "mailbox_messages")
    await in_thread(lambda: pop.user(AGENT))
    await in_thread(lambda: pop.pass_(AGENT_PW))
    assert (await in_thread(pop.stat))[0] == 2
    await in_thread(pop.quit)


async def test_failed_expunge_answers_err_and_keeps_messages(pop3: Running) -> None:
    pop = await pop3.login()
    await in_thread(lambda: pop.dele(1))
    await rename_table(pop3.store, "mailbox_messages", "mailbox_messages_away")
    try:
        with pytest.raises(poplib.error_proto) as caught:
            await in_thread(pop.quit)
    finally:
        await rename_table(pop3.store, "mailbox_messages_away", "mailbox_messages")
    assert caught.value.args[0] == replies.UPDATE_FAILED.to_bytes()[:-2]
    assert len(await pop3.store.list_messages(AGENT)) == 2


async def test_message_expunged_by_another_protocol_is_reported(pop3: Running) -> None:
    pop = await pop3.login()
    infos = await pop3.store.list_messages(AGENT)
    await pop3.store.expunge(AGENT, "INBOX", [infos[0].uid])  # e.g. an IMAP client
    with pytest.raises(poplib.error_proto) as caught:
        await in_thread(lambda: pop.retr(1))
    assert caught.value.args[0] == replies.MESSAGE_GONE.to_bytes()[:-2]
    await in_thread(pop.quit)


# --- starting and stopping ---------------------------------------------------------------


async def test_start_pop3_server_serves_on_the_given_port(filled: Store) -> None:
    listener = await start_pop3_server(filled, host="127.0.0.1", port=0, greeting_name="pop.test")
    port = listener.sockets[0].getsockname()[1]
    try:
        pop = await in_thread(lambda: poplib.POP3("127.0.0.1", port, timeout=10))
        try:
            await in_thread(lambda: pop.user(AGENT))
            await in_thread(lambda: pop.pass_(AGENT_PW))
            assert (await in_thread(pop.stat))[0] == 2
            await in_thread(pop.quit)
        finally:
            pop.close()
    finally:
        listener.close()
        await listener.wait_closed()


async def test_aclose_ends_open_sessions_without_update(filled: Store) -> None:
    server = Pop3Server(filled, greeting_name="pop.test")
    listener = await server.start(host="127.0.0.1", port=0)
    port = listener.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(f"USER {AGENT}\r\nPASS {AGENT_PW}\r\nDELE 1\r\n".encode())
    await writer.drain()
    for _ in range(3):
        await reader.readline()
    await server.aclose()
    assert await asyncio.wait_for(reader.read(), timeout=5) == b""
    writer.close()
    await writer.wait_closed()
    assert len(server.locks) == 0
    assert len(await filled.list_messages(AGENT)) == 2
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_greeting_name_must_be_a_host_name(store: Store) -> None:
    with pytest.raises(ValueError):
        Pop3Server(store, greeting_name="bad name>")


async def test_thousands_of_pipelined_commands_leave_the_loop_free(pop3: Running) -> None:
    # Commands already received never wait for the socket or the store: 200 000 NOOP written
    # at once held every other client of the node 0.4 s (what the stream buffers, answered
    # without a wait; then the next buffer).
    login = f"USER {AGENT}\r\nPASS {AGENT_PW}\r\n".encode()
    async with loop_pauses() as pauses:
        read = await in_thread(
            lambda: pipelined(pop3.port, login, b"NOOP\r\n" * 200_000, b"QUIT\r\n", b"+OK")
        )

    assert read > 200_000 * len(b"+OK\r\n")  # every one was answered
    longest = max(pauses, default=0.0)
    assert longest < 0.2, f"one client held the event loop {longest:.2f} s"
