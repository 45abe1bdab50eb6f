"""The short way for the usual FETCH lines answers byte for byte as pymap's own way does.

Two agents get the same messages (same UIDs, same internal dates from the fixed clock);
one is read through the fast path, the other with it off, with the same command lines
and the same changes made by another session in between; every answer is compared whole.
"""

from __future__ import annotations

import asyncio
import poplib
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pymap.parsing import Params

from gateway.imap import fast_fetch, mailbox
from gateway.imap.mailbox import MailboxSet
from gateway.imap.selected import IncrementalSelected
from mailboxes.store import Store
from tests.gateway.imap.conftest import AGENT, OTHER_AGENT, PASSWORD, Running, in_thread, mail

_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")

MULTIPART = (
    b"From: =?ISO-8859-1?Q?Jos=E9?= <jose@agencias.pe>\r\nTo: aduana@aduanas.gob.pe\r\n"
    b"Subject: partes\r\nDate: Mon, 3 Mar 1997 10:00:00 -0500\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    b"--b1\r\nContent-Type: text/plain\r\n\r\nuno\r\n"
    b"--b1\r\nContent-Type: application/octet-stream\r\n\r\ndos\r\n--b1--\r\n"
)
BARE_LF = b"From: z@example.pe\nSubject: lf\n\nlinea uno\nlinea dos\n"

# Command lines the fast path takes (checked below), with a few of pymap's own in between.
FIRST = [
    b"UID FETCH 1 (UID RFC822.SIZE FLAGS BODY.PEEK[])",
    b"UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (From Subject DATE)])",
    b"UID FETCH 2 BODY.PEEK[HEADER.FIELDS (Message-ID)]",
    b"FETCH 1 (FLAGS INTERNALDATE)",
    b"uid fetch 1 (uid flags)",
    b"UID FETCH 2 (BODY[])",  # sets \Seen: the FLAGS update merges into this answer
    b"UID FETCH 2 (FLAGS)",
    b"FETCH 3 (RFC822.SIZE BODY.PEEK[])",  # stored with bare LFs
    b"UID FETCH 1:3 (UID FLAGS)",
    b"UID FETCH 3,1 (ENVELOPE)",  # two messages read: not the fast path
    b"UID FETCH 4 (BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[2.MIME] ENVELOPE)",
    b"UID FETCH 4 (RFC822.HEADER)",
    b"UID FETCH 4 RFC822.SIZE",
    b"FETCH 4 (BODY.PEEK[]<0.20> BODY.PEEK[HEADER.FIELDS.NOT (Subject)])",
    b"FETCH 1 FAST",
    b"FETCH 2 ALL",
    b"UID FETCH 99 (BODY.PEEK[])",  # no such message
    b"FETCH 9 (FLAGS)",  # no such sequence number
    b"UID FETCH 1 (UID UID FLAGS)",
    b"UID FETCH 4 RFC822",  # sets \Seen
    b"UID FETCH 3 (RFC822.TEXT)",
    b"UID FETCH 1:* (FLAGS)",  # pymap's way
    b"UID FETCH 1 (BINARY.PEEK[])",  # pymap's way
]
AFTER_CHANGES = [
    b"UID FETCH 1 (FLAGS)",  # \Flagged by the other session, new mail, 3 expunged
    b"FETCH 2 (UID FLAGS)",
    b"UID FETCH 3 (FLAGS BODY.PEEK[])",
    b"FETCH 3 (UID)",
    b"UID FETCH 5 (UID FLAGS RFC822.SIZE)",
]
PYMAP_ONLY = {
    b"UID FETCH 1:* (FLAGS)",
    b"UID FETCH 1 (BINARY.PEEK[])",
    b"UID FETCH 3,1 (ENVELOPE)",  # reads two messages: answered a message at a time
}


class RawClient:
    """Sends command lines and returns each answer's bytes, literals included."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.count = 0

    @classmethod
    async def login(cls, running: Running, user: str, select: bytes = b"SELECT") -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        client = cls(reader, writer)
        await reader.readline()  # greeting
        await client.command(b'LOGIN %s "%s"' % (user.encode(), PASSWORD.encode()))
        await client.command(select + b" INBOX")
        return client

    async def command(self, line: bytes) -> bytes:
        self.count += 1
        tag = b"t%d" % self.count
        self.writer.write(b"%s %s\r\n" % (tag, line))
        answer = bytearray()
        async with asyncio.timeout(10):
            while True:
                got = await self.reader.readline()
                answer += got
                literal = _LITERAL.search(got)
                if literal:
                    answer += await self.reader.readexactly(int(literal.group(1)))
                elif got.startswith(tag + b" ") or not got:
                    return bytes(answer)

    async def close(self) -> None:
        self.writer.close()


async def _deliver(store: Store, user: str) -> None:
    for raw in (mail("uno"), mail("dos", "texto dos\r\n"), BARE_LF, MULTIPART):
        await store.deliver("z@example.pe", [user], raw)


async def _transcript(running: Running, user: str, *, fast: bool) -> list[bytes]:
    running.server.fast_fetch = fast
    client = await RawClient.login(running, user)
    other = await RawClient.login(running, user)
    try:
        answers = [await client.command(line) for line in FIRST]
        await other.command(b"UID STORE 1 +FLAGS.SILENT (\\Flagged $Etiqueta)")
        await other.command(b"UID STORE 3 +FLAGS.SILENT (\\Deleted)")
        await other.command(b"EXPUNGE")
        await running.store.deliver("z@example.pe", [user], mail("cinco"))
        answers += [await client.command(line) for line in AFTER_CHANGES]
        return answers
    finally:
        await client.close()
        await other.close()


async def test_fast_and_pymap_answers_are_the_same_bytes(imap: Running) -> None:
    await _deliver(imap.store, AGENT)
    await _deliver(imap.store, OTHER_AGENT)
    fast = await _transcript(imap, AGENT, fast=True)
    slow = await _transcript(imap, OTHER_AGENT, fast=False)
    for line, ours, theirs in zip(FIRST + AFTER_CHANGES, fast, slow, strict=True):
        assert ours == theirs, line
    # The table really tests something: the answers carry what they name.
    answers = dict(zip(FIRST + AFTER_CHANGES, fast, strict=True))
    assert b"UID 2 FLAGS (\\Recent \\Seen))" in answers[b"UID FETCH 2 (BODY[])"]
    assert b"FLAGS (\\Flagged \\Recent $Etiqueta) UID 1)" in answers[b"UID FETCH 1 (FLAGS)"]
    assert b"* 3 EXPUNGE" in answers[b"UID FETCH 1 (FLAGS)"]
    assert b"* 4 EXISTS" in answers[b"UID FETCH 1 (FLAGS)"]
    assert b"linea uno\r\nlinea dos\r\n" in answers[b"FETCH 3 (RFC822.SIZE BODY.PEEK[])"]
    assert (
        answers[b"UID FETCH 99 (BODY.PEEK[])"].startswith(b"t")
        and b"OK" in answers[b"UID FETCH 99 (BODY.PEEK[])"]
    )


READ_ONLY = [
    b"UID FETCH 1 (BODY[])",  # EXAMINE: no \Seen
    b"FETCH 1 (FLAGS RFC822)",
    b"UID FETCH 1:2 (UID FLAGS)",
]


async def test_examined_mailbox_answers_are_the_same_bytes(imap: Running) -> None:
    answers: dict[bool, list[bytes]] = {}
    for user, fast in ((AGENT, True), (OTHER_AGENT, False)):
        await _deliver(imap.store, user)
        imap.server.fast_fetch = fast
        client = await RawClient.login(imap, user, b"EXAMINE")
        try:
            answers[fast] = [await client.command(line) for line in READ_ONLY]
        finally:
            await client.close()
    assert answers[True] == answers[False]
    assert b"\\Seen" not in b"".join(answers[True])
    assert b"BODY[] {" in answers[True][0]


@pytest.mark.parametrize(
    "line", [line for line in FIRST + AFTER_CHANGES + READ_ONLY if line not in PYMAP_ONLY]
)
def test_the_table_is_taken_by_the_fast_path(line: bytes) -> None:
    command = fast_fetch.parse(b"t1 %s\r\n" % line, Params())
    assert isinstance(command, fast_fetch.FastCommand)


@pytest.mark.parametrize(
    "line",
    [
        b"t1 UID FETCH 1:* (FLAGS)\r\n",  # the whole mailbox
        b"t1 UID FETCH 1:65 (FLAGS)\r\n",  # more than MAX_MESSAGES
        b"t1 UID FETCH 1:2 (BODY.PEEK[])\r\n",  # more than one message read
        b"t1 FETCH 1,3 (RFC822.SIZE)\r\n",
        b"t1 FETCH * (FLAGS)\r\n",
        b"t1 UID FETCH 1 (BINARY.PEEK[])\r\n",
        b"t1 UID FETCH 1 BODYSTRUCTURE\r\n",
        b"t1 UID FETCH 1 (FLAGS) (CHANGEDSINCE 5)\r\n",
        b"t1 UID FETCH 1  (FLAGS)\r\n",  # two spaces: pymap reads it its own way
        b"t1 UID FETCH 1 (FLAGS)\n",
        b"t1 UID FETCH 1 (FLAGS\r\n",
        b"t1 UID FETCH 1 {5}\r\n",
        b"t1 UID FETCH 1 (BODY.PEEK[HEADER.FIELDS ({4}\r\n",  # a literal needs a continuation
        b"t1 UID FETCH 1 (BODY.PEEK[HEADER.FIELDS ({4+}\r\n",
        b"t1 UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (Asunto\xc3\xb1)])\r\n",  # 8-bit
        b"t1 UID FETCH 0 (FLAGS)\r\n",
        b"t1 UID STORE 1 +FLAGS (\\Seen)\r\n",
    ],
)
def test_other_lines_go_to_pymap(line: bytes) -> None:
    assert fast_fetch.parse(line, Params()) is None


def test_the_command_is_the_one_pymap_would_parse() -> None:
    from pymap.parsing.commands import Commands

    line = b"a7 UID FETCH 3:5,9 (UID FLAGS INTERNALDATE)\r\n"
    fast = fast_fetch.parse(line, Params())
    theirs, _ = Commands().parse(memoryview(line), Params())
    assert fast is not None
    assert (fast.tag, fast.command, fast.uid) == (theirs.tag, theirs.command, theirs.uid)
    assert fast.sequence_set == theirs.sequence_set  # type: ignore[attr-defined]
    assert [bytes(a) for a in fast.attributes] == [bytes(a) for a in theirs.attributes]  # type: ignore[attr-defined]


async def test_fetch_before_select_gets_pymaps_answer(imap: Running) -> None:
    answers: dict[bool, bytes] = {}
    for fast in (True, False):
        imap.server.fast_fetch = fast
        reader, writer = await asyncio.open_connection("127.0.0.1", imap.port)
        client = RawClient(reader, writer)
        try:
            await reader.readline()
            await client.command(b'LOGIN %s "%s"' % (AGENT.encode(), PASSWORD.encode()))
            answers[fast] = await client.command(b"UID FETCH 1 (BODY.PEEK[])")
        finally:
            await client.close()
    assert answers[True] == answers[False]
    assert answers[True].startswith(b"t2 BAD"), answers[True]


# --- A view kept between FETCHes --------------------------------------------------------
#
# A FETCH that changes nothing reuses the session's folder and keeps its view unforked
# when nothing is left to announce (``IncrementalSelected.settle``); whatever happens in
# between (another session's flags and expunges, new mail, a COPY into the mailbox, a POP3
# DELE the process only sees by looking, the session's own STORE .SILENT and \Seen) must be
# announced exactly when and as pymap's own way announces it.


async def _pop3_dele(running: Running, user: str, number: int) -> None:
    def dele() -> None:
        pop = poplib.POP3("127.0.0.1", running.pop3_port, timeout=10)
        try:
            pop.user(user)
            pop.pass_(PASSWORD)
            pop.dele(number)
        finally:
            pop.quit()

    await in_thread(dele)


Change = Callable[[Running, RawClient, str], Awaitable[object]]


def _other(*lines: bytes) -> Change:
    async def change(running: Running, other: RawClient, user: str) -> None:
        for line in lines:
            await other.command(line)

    return change


async def _deliver_one(running: Running, other: RawClient, user: str) -> None:
    await running.store.deliver("z@example.pe", [user], mail("seis"))


async def _pop3_first(running: Running, other: RawClient, user: str) -> None:
    await _pop3_dele(running, user, 1)


STEPS: list[tuple[Change | None, bytes]] = [
    (None, b"UID FETCH 1 (BODY.PEEK[])"),
    (None, b"UID FETCH 2 (UID FLAGS BODY.PEEK[])"),  # nothing changed: no update
    (None, b"FETCH 1:2 (FLAGS)"),
    (_other(b"UID STORE 1 +FLAGS (\\Flagged)"), b"UID FETCH 2 (BODY.PEEK[])"),
    (_other(b"UID STORE 2 +FLAGS ($Etiqueta)"), b"UID FETCH 2 (FLAGS)"),  # merged in
    (_deliver_one, b"FETCH 1 (FLAGS)"),  # EXISTS, RECENT, FETCH of the new one
    (None, b"UID FETCH 5 (BODY.PEEK[HEADER.FIELDS (Subject)])"),
    (_other(b"UID STORE 2 +FLAGS.SILENT (\\Deleted)", b"EXPUNGE"), b"FETCH 2 (UID)"),
    (None, b"FETCH 2 (UID FLAGS)"),  # still hidden from sequence-number commands
    (None, b"UID FETCH 1 (FLAGS)"),  # now the EXPUNGE
    (None, b"UID STORE 1 +FLAGS.SILENT (\\Answered)"),  # pymap's way, silenced
    (None, b"UID FETCH 1 (FLAGS)"),
    (_other(b"UID STORE 1 -FLAGS.SILENT (\\Answered)"), b"UID FETCH 1 (UID)"),
    (None, b"UID FETCH 3 (BODY[])"),  # sets \Seen: its FLAGS merged into the answer
    (None, b"UID FETCH 3 (FLAGS)"),
    (None, b"FETCH 2 (RFC822)"),  # \Seen by sequence number
    (_other(b"UID COPY 1 INBOX"), b"UID FETCH 1 (FLAGS)"),  # a copy into the mailbox
    (None, b"UID FETCH 6 (UID FLAGS BODY.PEEK[])"),
    (_pop3_first, b"UID FETCH 1 (BODY.PEEK[])"),  # gone by POP3: seen when looked at
    (None, b"UID FETCH 1 (FLAGS)"),
    (None, b"NOOP"),
    (None, b"UID FETCH 1:6 (UID FLAGS)"),
]


async def _steps(running: Running, user: str, *, fast: bool) -> list[bytes]:
    running.server.fast_fetch = fast
    await _deliver(running.store, user)
    client = await RawClient.login(running, user)
    other = await RawClient.login(running, user)
    try:
        answers = []
        for change, line in STEPS:
            if change is not None:
                await change(running, other, user)
            answers.append(await client.command(line))
        return answers
    finally:
        await client.close()
        await other.close()


@pytest.mark.parametrize("recheck", [60.0, 0.0], ids=["view-trusted", "store-read-each-time"])
async def test_kept_view_answers_as_pymap_with_changes_between_commands(
    imap: Running, monkeypatch: pytest.MonkeyPatch, recheck: float
) -> None:
    # 60 s: within a burst the view is trusted (the POP3 DELE is seen only later, by
    # both ways alike); 0 s: every FETCH looks at the store, and nothing is kept.
    monkeypatch.setattr(mailbox, "RECHECK_SECONDS", recheck)
    fast = await _steps(imap, AGENT, fast=True)
    slow = await _steps(imap, OTHER_AGENT, fast=False)
    for (_, line), ours, theirs in zip(STEPS, fast, slow, strict=True):
        assert ours == theirs, line
    answers = fast
    assert answers[1].count(b" FETCH (") == 1  # nothing changed: nothing announced
    assert b"* 1 FETCH (FLAGS (\\Flagged \\Recent) UID 1)" in answers[3]
    assert b"$Etiqueta" in answers[4] and answers[4].count(b" FETCH (") == 1  # merged
    assert b"* 5 EXISTS" in answers[5]
    assert b"EXPUNGE\r\n" not in answers[7] + answers[8]  # hidden from FETCH n
    assert b"* 2 EXPUNGE" in answers[9] + answers[10]
    assert b"* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))" in answers[12]
    assert b"UID 3 FLAGS (\\Recent \\Seen))" in answers[13]
    assert b"* 5 EXISTS" in answers[16]
    assert b"EXPUNGEISSUED" in answers[18]


async def test_quiet_fetches_neither_fork_the_view_nor_look_the_folder_up(
    imap: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _deliver(imap.store, AGENT)
    client = await RawClient.login(imap, AGENT)
    other = await RawClient.login(imap, AGENT)
    calls = {"fork": 0, "lookup": 0}
    fork, lookup = IncrementalSelected.fork, MailboxSet.get_mailbox

    def counted_fork(self: IncrementalSelected, command: Any) -> Any:
        calls["fork"] += 1
        return fork(self, command)

    async def counted_lookup(self: MailboxSet, name: str) -> Any:
        calls["lookup"] += 1
        return await lookup(self, name)

    monkeypatch.setattr(mailbox, "RECHECK_SECONDS", 60.0)
    monkeypatch.setattr(IncrementalSelected, "fork", counted_fork)
    monkeypatch.setattr(MailboxSet, "get_mailbox", counted_lookup)
    try:
        for uid in (1, 2, 3, 4, 1):
            await client.command(b"UID FETCH %d (UID FLAGS BODY.PEEK[])" % uid)
        assert calls == {"fork": 0, "lookup": 0}
        await other.command(b"UID STORE 2 +FLAGS.SILENT (\\Flagged)")
        calls.update(fork=0, lookup=0)
        answer = await client.command(b"UID FETCH 1 (BODY.PEEK[])")
        assert b"* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2)" in answer
        assert calls == {"fork": 1, "lookup": 1}  # looked again, announced
    finally:
        await client.close()
        await other.close()
