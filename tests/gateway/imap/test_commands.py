"""The IMAP server with Python's imaplib on loopback, over a real SQLite store."""

from __future__ import annotations

import base64
import imaplib
import re
import socket
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from sqlalchemy import text

from mailboxes.folders import MAX_FOLDERS, Folders
from tests.gateway.imap.conftest import AGENT, PASSWORD, Running, in_thread, mail
from tests.logs import told


def declaration_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Aduana 118 <aduana-118@aduanas.gob.pe>"
    message["To"] = AGENT
    message["Subject"] = "ACEPTADA 118-2026-10-000001"
    message["X-Teledespacho-Status"] = "accepted"
    message.set_content("Su declaración fue numerada.\n")
    message.add_attachment(
        b"TDH|TELEDESPACHO|\r\n", maintype="application", subtype="octet-stream", filename="r.txt"
    )
    return message.as_bytes(policy=SMTP)


def listed(lines: list[bytes | None]) -> dict[str, str]:
    """LIST or LSUB lines as {name: attributes}."""
    found = {}
    for line in lines:
        match = re.fullmatch(rb'\((.*)\) "/" (.+)', line or b"")
        assert match is not None, line
        found[match.group(2).decode()] = match.group(1).decode()
    return found


def uids_of(data: list[bytes | None]) -> list[int]:
    return [int(n) for n in (data[0] or b"").split()]


async def test_greeting_login_and_capabilities(imap: Running) -> None:
    def session() -> tuple[bytes, list[bytes]]:
        client = imap.client()
        greeting = client.welcome
        client.login(AGENT, PASSWORD)
        _, caps = client.capability()
        client.logout()
        return greeting, caps

    greeting, caps = await in_thread(session)
    assert greeting.startswith(b"* OK") and b"imap.test" in greeting
    capabilities = set((caps[0] or b"").split())
    assert {b"IMAP4rev1", b"IDLE", b"UIDPLUS", b"MOVE", b"MULTIAPPEND"} <= capabilities


@pytest.mark.parametrize(
    ("user", "password"),
    [(AGENT, "otra clave"), ("nadie@agencias.pe", PASSWORD), ("sin-arroba", "x")],
)
async def test_bad_credentials_are_refused(imap: Running, user: str, password: str) -> None:
    def attempt() -> str:
        client = imap.client()
        with pytest.raises(imaplib.IMAP4.error) as refused:
            client.login(user, password)
        return str(refused.value)

    assert "AUTHENTICATIONFAILED" in await in_thread(attempt)


async def test_authenticate_plain_and_no_acting_as_someone_else(imap: Running) -> None:
    def attempt(authzid: str) -> str:
        client = imap.client()
        try:
            status, _ = client.authenticate(
                "PLAIN", lambda _: f"{authzid}\0{AGENT}\0{PASSWORD}".encode()
            )
        except imaplib.IMAP4.error as exc:
            return str(exc)
        return str(status)

    assert await in_thread(lambda: attempt("")) == "OK"
    assert await in_thread(lambda: attempt(AGENT.upper())) == "OK"
    assert "AUTHORIZATIONFAILED" in await in_thread(lambda: attempt("aduana-118@aduanas.gob.pe"))


async def test_fetch_body_bodystructure_envelope_and_seen(imap: Running) -> None:
    raw = declaration_mail()
    await imap.store.deliver("aduana-118@aduanas.gob.pe", [AGENT], raw)

    def session() -> dict[str, bytes]:
        client = imap.login()
        client.select("INBOX")
        got: dict[str, bytes] = {}
        _, data = client.uid("FETCH", "1", "(RFC822.SIZE BODY.PEEK[])")
        got["peek"] = data[0][1]  # type: ignore[index]
        got["size"] = data[0][0]  # type: ignore[index]
        _, data = client.uid("FETCH", "1", "(BODYSTRUCTURE ENVELOPE)")
        got["structure"] = data[0]  # type: ignore[assignment]
        _, data = client.uid("FETCH", "1", "(BODY.PEEK[HEADER.FIELDS (X-TELEDESPACHO-STATUS)])")
        got["header"] = data[0][1]  # type: ignore[index]
        _, data = client.uid("FETCH", "1", "(BODY[2])")  # not PEEK: sets \Seen
        got["part"] = data[0][1]  # type: ignore[index]
        _, data = client.uid("FETCH", "1", "(FLAGS)")
        got["flags"] = data[0]  # type: ignore[assignment]
        return got

    got = await in_thread(session)
    assert got["peek"] == raw
    assert b"RFC822.SIZE %d" % len(raw) in got["size"]
    assert b'BODYSTRUCTURE (("text" "plain"' in got["structure"]
    assert b'"mixed"' in got["structure"]
    assert (
        b"ENVELOPE (" in got["structure"] and b'"ACEPTADA 118-2026-10-000001"' in got["structure"]
    )
    assert got["header"] == b"X-Teledespacho-Status: accepted\r\n\r\n"
    assert base64.b64decode(got["part"]) == b"TDH|TELEDESPACHO|\r\n"  # the attachment
    assert b"\\Seen" in got["flags"]
    (info,) = await imap.store.list_messages(AGENT)
    assert info.flags == {"\\Seen"}  # a permanent flag: in the store, for every session


async def test_store_flags(imap: Running) -> None:
    for n in range(3):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))

    def session() -> list[bytes]:
        client = imap.login()
        client.select("INBOX")
        answers = []
        _, data = client.store("1:2", "+FLAGS", "(\\Flagged \\Seen)")
        answers += data  # type: ignore[arg-type]
        _, data = client.uid("STORE", "2", "-FLAGS.SILENT", "(\\Seen)")
        answers.append(data[0] or b"")
        _, data = client.uid("STORE", "3", "FLAGS", "(\\Answered)")
        answers += data  # type: ignore[arg-type]
        return answers

    answers = await in_thread(session)
    assert re.search(rb"1 \(FLAGS \(.*\\Flagged.*\)\)", answers[0])
    assert answers[2] == b""  # .SILENT: no untagged FETCH
    assert b"\\Answered" in answers[3] and b"UID 3" in answers[3]
    flags = {info.uid: info.flags for info in await imap.store.list_messages(AGENT)}
    assert flags == {
        1: {"\\Flagged", "\\Seen"},
        2: {"\\Flagged"},
        3: {"\\Answered"},
    }


async def test_search(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], mail("rechazada", "observaciones\r\n"))
    await imap.store.deliver("aduana-118@aduanas.gob.pe", [AGENT], declaration_mail())
    await imap.store.deliver("z@example.pe", [AGENT], mail("otra"))

    def session() -> dict[str, list[int]]:
        client = imap.login()
        client.select("INBOX")
        client.uid("STORE", "3", "+FLAGS", "(\\Seen)")
        found: dict[str, list[int]] = {}
        found["all"] = uids_of(client.search(None, "ALL")[1])
        found["unseen"] = uids_of(client.uid("SEARCH", "UNSEEN")[1])
        found["header"] = uids_of(
            client.uid("SEARCH", "HEADER", "X-Teledespacho-Status", "accepted")[1]
        )
        found["subject"] = uids_of(client.uid("SEARCH", "SUBJECT", "rechazada")[1])
        found["body"] = uids_of(client.uid("SEARCH", "BODY", "observaciones")[1])
        found["uid range"] = uids_of(client.uid("SEARCH", "UID", "2:*")[1])
        return found

    assert await in_thread(session) == {
        "all": [1, 2, 3],
        "unseen": [1, 2],
        "header": [2],
        "subject": [1],
        "body": [1],
        "uid range": [2, 3],
    }


async def test_append_with_appenduid(imap: Running) -> None:
    raw = mail("borrador")

    def session() -> tuple[bytes, str]:
        client = imap.login()
        _, data = client.append("INBOX", "(\\Draft \\Seen)", '"03-Mar-1997 09:15:00 -0500"', raw)
        typ, missing = client.append("No existe", None, None, raw)
        assert typ == "NO"
        return data[0] or b"", str(missing[0])

    appended, missing = await in_thread(session)
    (info,) = await imap.store.list_messages(AGENT)
    assert appended.startswith(b"[APPENDUID %d %d]" % (info.uid_validity, info.uid))
    assert "TRYCREATE" in missing
    assert info.flags == {"\\Draft", "\\Seen"}
    assert info.internal_date.isoformat() == "1997-03-03T14:15:00+00:00"
    assert await imap.store.read_message(AGENT, "INBOX", info.uid) == raw


async def test_copy_and_move_with_copyuid(imap: Running) -> None:
    for n in range(3):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))

    def session() -> tuple[bytes, bytes, list[int]]:
        client = imap.login()
        client.create("Archivo")
        client.select("INBOX")
        client.uid("STORE", "1", "+FLAGS", "(\\Flagged)")
        _, copied = client._simple_command("UID", "COPY", "1:2", "Archivo")  # type: ignore[attr-defined]
        typ, _ = client._simple_command("UID", "MOVE", "3", "Archivo")  # type: ignore[attr-defined]
        assert typ == "OK"
        _, untagged = client.response("OK")
        left = uids_of(client.uid("SEARCH", "ALL")[1])
        return copied[0] or b"", b" ".join(u or b"" for u in untagged), left

    copied, moved, left = await in_thread(session)
    validity = (await imap.store.list_messages(AGENT, "Archivo"))[0].uid_validity
    assert copied.startswith(b"[COPYUID %d 1:2 1:2]" % validity)
    assert b"[COPYUID %d 3 3]" % validity in moved
    assert left == [1, 2]
    archived = await imap.store.list_messages(AGENT, "Archivo")
    assert [(i.uid, i.flags) for i in archived] == [
        (1, {"\\Flagged"}),
        (2, frozenset()),
        (3, frozenset()),
    ]
    assert await imap.store.count_contents() == 3  # copies share the stored bytes


async def test_expunge_and_uid_expunge(imap: Running) -> None:
    for n in range(4):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))

    def session() -> tuple[list[bytes | None], list[bytes | None]]:
        client = imap.login()
        client.select("INBOX")
        client.uid("STORE", "1:3", "+FLAGS.SILENT", "(\\Deleted)")
        client.uid("EXPUNGE", "2")  # UIDPLUS: only UID 2 goes
        _, expunged = client.response("EXPUNGE")
        _, rest = client.expunge()  # \Deleted 1 and 3 go, 4 stays
        return expunged, rest

    expunged, rest = await in_thread(session)
    assert expunged == [b"2"]
    assert rest == [b"2", b"1"]  # sequence numbers, highest first
    assert [i.uid for i in await imap.store.list_messages(AGENT)] == [4]
    assert await imap.store.count_contents() == 1


async def test_folders_list_lsub_status_rename_delete(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], mail("uno"))

    def session() -> dict[str, object]:
        client = imap.login()
        seen: dict[str, object] = {}
        assert client.create("Aceptadas/1997")[0] == "OK"
        assert client.create("Aceptadas")[0] == "OK"
        seen["exists"] = client.create("Aceptadas")
        seen["invalid"] = client.create('"a//b"')
        client.subscribe("Aceptadas")
        seen["list"] = listed(client.list()[1])
        seen["lsub"] = listed(client.lsub()[1])
        seen["status"] = client.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)")[1]
        assert client.rename("Aceptadas", "Numeradas")[0] == "OK"
        seen["renamed"] = listed(client.list()[1])
        assert client.delete("Numeradas/1997")[0] == "OK"
        seen["select deleted"] = client.select("Numeradas/1997")
        seen["after delete"] = listed(client.list()[1])
        return seen

    seen = await in_thread(session)
    assert seen["exists"] == ("NO", [b"[ALREADYEXISTS] Mailbox already exists."])
    assert seen["invalid"] == ("NO", [b"[CANNOT] Invalid mailbox name."])
    assert seen["select deleted"] == ("NO", [b"[NONEXISTENT] Mailbox does not exist."])
    assert seen["list"] == {
        "Aceptadas": "\\HasChildren",
        "Aceptadas/1997": "\\HasNoChildren",
        "INBOX": "\\HasNoChildren",
    }
    assert seen["lsub"].keys() == {"Aceptadas", "INBOX"}
    assert seen["status"] == [b"INBOX (MESSAGES 1 UNSEEN 1 UIDNEXT 2)"]
    assert seen["renamed"] == {
        "INBOX": "\\HasNoChildren",
        "Numeradas": "\\HasChildren",
        "Numeradas/1997": "\\HasNoChildren",
    }
    assert seen["after delete"] == {"INBOX": "\\HasNoChildren", "Numeradas": "\\HasNoChildren"}


async def test_rename_inbox_keeps_the_mail_and_empties_inbox(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], mail("uno"))
    before = (await imap.store.list_messages(AGENT))[0].uid_validity

    def session() -> list[bytes | None]:
        client = imap.login()
        client.rename("INBOX", "Antiguo")
        return client.status("INBOX", "(MESSAGES UIDVALIDITY)")[1]

    (status,) = await in_thread(session)
    assert status is not None and b"MESSAGES 0" in status
    assert b"UIDVALIDITY %d" % before not in status
    assert len(await imap.store.list_messages(AGENT, "Antiguo")) == 1


async def test_another_session_sees_flag_changes_and_new_mail(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], mail("uno"))

    def sessions() -> list[bytes]:
        first, second = imap.login(), imap.login()
        first.select("INBOX")
        second.select("INBOX")
        first.store("1", "+FLAGS", "(\\Flagged)")
        first.append("INBOX", None, None, mail("dos"))
        second.noop()
        return [line for line in second.untagged_responses.get("FETCH", [])] + [
            b"EXISTS " + (second.untagged_responses["EXISTS"][-1] or b"")
        ]

    seen = await in_thread(sessions)
    assert any(b"\\Flagged" in line for line in seen)
    assert seen[-1] == b"EXISTS 2"


async def test_a_store_failure_is_a_no_not_a_dropped_connection(imap: Running) -> None:
    async with imap.store.database.write_session() as session, session.begin():
        await session.execute(text("DROP TABLE mailbox_subscriptions"))

    def session_() -> tuple[str, str]:
        client = imap.login()
        typ, failed = client.lsub()
        assert typ == "NO"
        status, _ = client.noop()  # the connection is still usable
        return str(failed[0]), status

    failure, status = await in_thread(session_)
    assert "INUSE" in failure
    assert status == "OK"


async def test_folder_names_travel_in_modified_utf7(imap: Running) -> None:
    def session() -> list[bytes | None]:
        client = imap.login()
        assert client.create('"R&AOk-gimen 10"')[0] == "OK"  # "Régimen 10"
        return client.list('""', '"R*"')[1]

    assert await in_thread(session) == [b'(\\HasNoChildren) "/" "R&AOk-gimen 10"']
    assert "Régimen 10" in await imap.store.list_folders(AGENT)


async def test_a_large_fetch_returns_every_message_whole(imap: Running) -> None:
    """Bytes are read in batches (256 messages or 2 MB); none may be lost or swapped."""
    sent = [mail(f"m{n}", f"cuerpo {n}\r\n" + "x" * (n * 40) + "\r\n") for n in range(300)]
    for raw in sent:
        await imap.store.deliver("z@example.pe", [AGENT], raw)

    def session() -> list[bytes]:
        client = imap.login()
        client.select("INBOX")
        client.uid("STORE", "10", "+FLAGS", "(\\Seen)")
        _, data = client.fetch("1:*", "(BODY[])")  # not PEEK: \Seen is set on the way
        return [part[1] for part in data if isinstance(part, tuple)]

    assert await in_thread(session) == sent
    assert all(info.flags == {"\\Seen"} for info in await imap.store.list_messages(AGENT))


async def test_a_folder_deleted_elsewhere_is_reported_missing(imap: Running) -> None:
    """Another process (a second node on PostgreSQL) deletes a folder this one knows."""

    def create_and_use() -> None:
        client = imap.login()
        client.create("Archivo")
        client.append("Archivo", None, None, mail("uno"))
        client.logout()

    def append_again() -> tuple[str, list[bytes | None], list[bytes | None]]:
        client = imap.login()
        typ, data = client.append("Archivo", None, None, mail("dos"))
        return typ, data, client.list()[1]

    await in_thread(create_and_use)
    await Folders(imap.store).delete(AGENT, "Archivo")  # not through this IMAP server
    typ, data, names = await in_thread(append_again)
    assert (typ, data) == ("NO", [b"[TRYCREATE] Mailbox does not exist."])
    assert names == [b'(\\HasNoChildren) "/" INBOX']


async def test_keywords_past_the_limits_are_refused_with_limit(imap: Running) -> None:
    # Unbounded, one STORE 1:* of 60 KB of keywords added 60 KB to every message, and each
    # repetition as much again.
    for n in range(2):
        await imap.store.deliver("z@example.pe", [AGENT], mail(f"m{n}"))
    flood = " ".join(f"k{n:05d}" for n in range(5000))

    def session() -> list[tuple[str, bytes]]:
        client = imap.login()
        client.select("INBOX")
        answers = []
        for command in [
            ("STORE", "1:*", "+FLAGS", "($Forwarded $label1)"),
            ("STORE", "1:*", "+FLAGS", f"({flood})"),
            ("STORE", "1", "FLAGS", f"({'L' * 60000})"),
        ]:
            try:
                typ, data = client.uid(*command)
                answers.append((typ, data[0] or b""))
            except client.error as exc:  # imaplib raises on NO to UID commands
                answers.append(("NO", str(exc).encode()))
        typ, data = client.append("INBOX", f"({flood})", None, mail("m3"))
        answers.append((typ, data[0] or b""))
        return answers

    tagged, flooded, long, appended = await in_thread(session)
    assert tagged[0] == "OK"
    for refused in (flooded, long, appended):
        assert refused[0] == "NO" and b"[LIMIT]" in refused[1], refused
    assert b"64 keywords" in flooded[1] and b"50 characters" in long[1]
    listed = await imap.store.list_messages(AGENT)
    assert [m.flags for m in listed] == [frozenset({"$Forwarded", "$label1"})] * 2


async def test_a_client_that_never_logs_in_is_closed_after_its_commands(imap: Running) -> None:
    """Unbounded, a client that never logged in had 5 000 pipelined ``NOOP``s answered, for
    its whole login time; a login within the limit goes on as ever."""

    def flood() -> list[bytes]:
        with socket.create_connection(("127.0.0.1", imap.port), timeout=10) as sock:
            reader = sock.makefile("rb")
            reader.readline()  # the greeting
            sock.sendall(b"a NOOP\r\n" * 200)  # all read at once: the close is no reset
            return list(iter(reader.readline, b""))

    lines = await in_thread(flood)
    assert lines == [b"a OK NOOP completed.\r\n"] * 50 + [
        b"* BYE Too many commands without a login, closing.\r\n"
    ]

    def patient() -> tuple[str, list[bytes | None]]:
        client = imap.client()
        for _ in range(48):
            client.noop()
        client.login(AGENT, PASSWORD)
        for _ in range(100):
            client.noop()
        return client.select("INBOX")

    assert (await in_thread(patient))[0] == "OK"


async def test_a_number_too_long_to_convert_is_refused_and_the_session_goes_on(
    imap: Running,
) -> None:
    """pymap reads numbers with ``int``, which refuses more than 4 300 digits: its
    ``ValueError`` ended the session with ``[SERVERBUG]`` and a traceback, before login too."""
    huge = b"9" * 5000

    def session() -> list[bytes]:
        with socket.create_connection(("127.0.0.1", imap.port), timeout=10) as sock:
            reader = sock.makefile("rb")
            reader.readline()  # the greeting
            answers = []
            for line in [
                b"a LOGIN {%b}" % huge,  # a literal's length
                b'b LOGIN %b "%b"' % (AGENT.encode(), PASSWORD.encode()),
                b"c SELECT INBOX",
                b"d UID FETCH 1:%b (FLAGS)" % huge,  # a sequence set
                b"e FETCH 1 (BODY[]<0.%b>)" % huge,  # a partial range
                b"f NOOP",
            ]:
                sock.sendall(line + b"\r\n")
                tag = line.split(b" ", 1)[0]
                while not (answer := reader.readline()).startswith(tag + b" "):
                    assert answer, line
                answers.append(answer)
            sock.sendall(b"g {1%b+}\r\n" % huge)  # announced, not to be waited for
            answers.append(reader.readline())
            return answers

    with told("gateway.imap") as said:
        answers = await in_thread(session)
    assert answers[0] == b"a BAD Number out of range.\r\n"
    assert answers[1].startswith(b"b OK ") and answers[2].startswith(b"c OK ")
    assert answers[3:6] == [
        b"d BAD Number out of range.\r\n",
        b"e BAD Number out of range.\r\n",
        b"f OK NOOP completed.\r\n",
    ]
    assert answers[6] == b"g BAD [TOOBIG] Literal too big.\r\n"
    assert not [r for r in said.records if r.exc_info]


async def test_an_account_creates_at_most_max_folders(imap: Running) -> None:
    """Pipelined CREATEs made 5 000 folders in six seconds, each carried by every LIST and
    every page of the console after. Past ``MAX_FOLDERS`` (INBOX counts) a CREATE is
    answered ``NO [LIMIT]`` and makes nothing; a folder deleted makes room; the node's own
    folders are still made."""
    folders = Folders(imap.store)
    await folders.ensure(AGENT, "INBOX")
    for n in range(MAX_FOLDERS - 2):
        await folders.create(AGENT, f"carpeta {n:04d}")
    client = await in_thread(imap.login)
    assert (await in_thread(lambda: client.create("Ultima")))[0] == "OK"
    refused = await in_thread(lambda: client.create("Una-mas"))
    assert refused[0] == "NO" and b"[LIMIT]" in refused[1][0], refused
    assert len(await folders.store.list_folders(AGENT)) == MAX_FOLDERS
    assert (await in_thread(lambda: client.delete("Ultima")))[0] == "OK"
    assert (await in_thread(lambda: client.create("Una-mas")))[0] == "OK"
    await folders.ensure(AGENT, "Recibidos")  # one over: what the node files is made
    assert len(await folders.store.list_folders(AGENT)) == MAX_FOLDERS + 1


async def test_an_account_subscribes_at_most_max_folders_names(imap: Running) -> None:
    """A name needs no folder to be subscribed (RFC 3501 6.3.6): pipelined SUBSCRIBEs made
    3 000 rows in two seconds, without end. Past ``MAX_FOLDERS`` they get ``NO [LIMIT]``;
    unsubscribing makes room."""
    folders = Folders(imap.store)
    for n in range(MAX_FOLDERS - 1):
        await folders.set_subscribed(AGENT, f"nada {n:04d}", True)
    client = await in_thread(imap.login)
    assert (await in_thread(lambda: client.subscribe("Ultima")))[0] == "OK"
    refused = await in_thread(lambda: client.subscribe("Una-mas"))
    assert refused[0] == "NO" and b"[LIMIT] Too many subscriptions" in refused[1][0], refused
    assert (await in_thread(lambda: client.subscribe("Ultima")))[0] == "OK"  # no new row
    assert (await in_thread(lambda: client.unsubscribe("Ultima")))[0] == "OK"
    assert (await in_thread(lambda: client.subscribe("Una-mas")))[0] == "OK"
    assert len(await folders.subscriptions(AGENT)) == MAX_FOLDERS
