"""IMAP clients that try to hang or exhaust the node, against ``teledispatch serve``.

A separate process, so that a node that hangs fails the test (every read here has a
deadline) instead of hanging it, and so that its memory can be measured.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.demo import DEMO_PASSWORD
from tests.gateway.test_serve_process import ServeProcess, free_port
from tests.node_clients import AGENT

pytestmark = pytest.mark.slow

USER = AGENT.address.encode()
LOGIN = b'a0 LOGIN %s "%s"\r\n' % (USER, DEMO_PASSWORD.encode())


class Node(ServeProcess):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.imap_port = free_port()

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        return super().start("--imap-port", str(self.imap_port), *extra)

    def rss(self) -> int:
        """The node's resident memory, in bytes."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1]) * 1024


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    running = Node(tmp_path_factory.mktemp("hostile") / "data")
    running.start()
    running.wait_ready()
    try:
        yield running
    finally:
        running.stop()


class Imap:
    """A raw IMAP connection whose reads fail after ``timeout`` seconds of silence."""

    def __init__(self, node: Node, timeout: float = 10) -> None:
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        assert self.line().startswith(b"* OK")

    def line(self) -> bytes:
        return self.file.readline()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def until_tagged(self, tag: bytes) -> list[bytes]:
        lines = [self.line()]
        while not lines[-1].startswith(tag + b" ") and lines[-1]:
            lines.append(self.line())
        return lines

    def command(self, line: bytes) -> list[bytes]:
        tag = line.split(b" ", 1)[0]
        self.send(line)
        return self.until_tagged(tag)

    def login(self) -> None:
        assert self.command(LOGIN)[-1].startswith(b"a0 OK")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def imap(node: Node) -> Iterator[Imap]:
    client = Imap(node)
    try:
        yield client
    finally:
        client.close()


def still_serving(node: Node) -> None:
    """Another client is greeted and answered on IMAP and SMTP."""
    other = Imap(node, timeout=5)
    try:
        assert other.command(b"b1 NOOP\r\n")[-1].startswith(b"b1 OK")
    finally:
        other.close()
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=5) as client:
        assert client.noop()[0] == 250


def test_unclosed_modified_utf7_name_is_bad_and_the_node_keeps_serving(
    node: Node, imap: Imap
) -> None:
    # pymap's decoder looped forever here: the whole node stopped.
    assert imap.command(b'a1 SELECT "Bad&Jjo"\r\n')[-1].startswith(b"a1 BAD")
    assert imap.command(b'a2 LIST "" "&Jjo"\r\n')[-1].startswith(b"a2 BAD")
    assert imap.command(b"a3 NOOP\r\n")[-1].startswith(b"a3 OK")  # same session goes on
    still_serving(node)


def test_huge_nonsync_literal_before_login_is_refused_at_once(node: Node, imap: Imap) -> None:
    before = node.rss()
    # 512 MiB announced; the node answers without waiting for them, and keeps none of what
    # does come (here 8 MiB).
    imap.send(b"a1 LOGIN {536870912+}\r\n" + b"x" * (8 * 1024 * 1024))
    answer = b"".join(imap.until_tagged(b"a1")) + imap.file.read()
    assert answer.startswith(b"a1 BAD [TOOBIG] Literal too big.\r\n* BYE [TOOBIG]"), answer
    assert node.rss() - before < 16 * 1024 * 1024
    still_serving(node)


def test_sync_literal_too_big_gets_no_continuation(imap: Imap) -> None:
    reply = imap.command(b"a1 LOGIN {5000}\r\n")  # a few KB at most before login
    assert reply == [b"a1 BAD [TOOBIG] Literal too big.\r\n"]
    imap.send(b"a2 LOGIN {%d}\r\n" % len(USER))
    assert imap.line().startswith(b"+ ")  # a small one is welcome
    imap.send(USER + b' "%s"\r\n' % DEMO_PASSWORD.encode())
    assert imap.until_tagged(b"a2")[-1].startswith(b"a2 OK")
    # After login: the node's message size (20 MiB by default), for APPEND too.
    reply = imap.command(b"a3 APPEND INBOX {%d}\r\n" % (21 * 1024 * 1024))
    assert reply == [b"a3 BAD [TOOBIG] Literal too big.\r\n"]
    assert imap.command(b"a4 NOOP\r\n")[-1].startswith(b"a4 OK")


def test_after_login_only_append_takes_large_literals(imap: Imap) -> None:
    imap.login()
    message = b"Subject: corto\r\n\r\nhola\r\n" + b"x" * 100_000
    imap.send(b"a1 APPEND INBOX {%d+}\r\n" % len(message) + message + b"\r\n")
    assert imap.until_tagged(b"a1")[-1].startswith(b"a1 OK")
    imap.send(b"a2 SEARCH SUBJECT {100000+}\r\n" + b"s" * 100_000 + b"\r\n")
    answer = b"".join(imap.until_tagged(b"a2")) + imap.file.read()
    assert answer.startswith(b"a2 BAD [TOOBIG] Literal too big.\r\n* BYE [TOOBIG]"), answer


def test_many_small_literals_before_login_are_bounded_in_total(imap: Imap) -> None:
    # Each literal is small enough; together they pass the 16 KiB a command may hold.
    imap.send(b"a1 LOGIN {4000+}\r\n" + b"u" * 4000 + b" {4000+}\r\n" + b"p" * 4000)
    for _ in range(3):
        imap.send(b" {4000+}\r\n" + b"x" * 4000)
    imap.send(b"\r\n")
    answer = b"".join(imap.until_tagged(b"a1")) + imap.file.read()
    assert b"a1 BAD [TOOBIG]" in answer and b"* BYE" in answer


def test_endless_literals_after_login_are_bounded_in_total(node: Node, imap: Imap) -> None:
    # Each literal is within the 4 KB a SEARCH may have; the node used to take any number of
    # them, held them all, and looked for the next one from the start of everything received:
    # after 40 MB, another client waited over a second for its greeting.
    imap.login()
    assert imap.command(b"a1 SELECT INBOX\r\n")[-1].startswith(b"a1 OK")
    before = node.rss()
    imap.send(b"a2 SEARCH SUBJECT {4096+}\r\n")
    for _ in range(17):  # 68 KiB: past the 64 KiB a command other than APPEND may hold
        imap.send(b"s" * 4096 + b" SUBJECT {4096+}\r\n")
    imap.send(b"s" * 4096 + b"\r\n")
    answer = b"".join(imap.until_tagged(b"a2")) + imap.file.read()
    assert answer.startswith(b"a2 BAD [TOOBIG] Command too big.\r\n* BYE [TOOBIG]"), answer
    assert node.rss() - before < 16 * 1024 * 1024
    still_serving(node)


def test_synchronizing_literals_are_counted(imap: Imap) -> None:
    # pymap parses a command again from its start at each literal: a command of thousands of
    # one-byte literals cost the node the square of that.
    imap.login()
    assert imap.command(b"a1 SELECT INBOX\r\n")[-1].startswith(b"a1 OK")
    imap.send(b"a2 SEARCH SUBJECT {1}\r\n")
    for _ in range(63):
        assert imap.line().startswith(b"+ ")
        imap.send(b"x SUBJECT {1}\r\n")
    assert imap.line().startswith(b"+ ")  # the 64th literal is still welcome
    imap.send(b"x SUBJECT {1}\r\n")
    assert imap.line() == b"a2 BAD [TOOBIG] Too many literals in one command.\r\n"
    # The session goes on, and a search of a few literals is read as before.
    search = b"a3 SEARCH" + b" OR SUBJECT {1}\r\nx" * 20 + b" ALL\r\n"
    pieces = search.split(b"\r\n")
    imap.send(pieces[0] + b"\r\n")
    for piece in pieces[1:-1]:
        assert imap.line().startswith(b"+ ")
        imap.send(piece + b"\r\n")
    assert imap.until_tagged(b"a3")[-1].startswith(b"a3 OK")


def test_a_multiappend_holds_at_most_256_messages(node: Node, imap: Imap) -> None:
    imap.login()
    message = b"Subject: uno\r\n\r\nx\r\n"
    literal = b" {%d+}\r\n" % len(message) + message
    reply = imap.command(b"a1 APPEND INBOX" + literal * 256 + b"\r\n")
    assert reply[-1].startswith(b"a1 OK"), reply
    imap.send(b"a2 APPEND INBOX" + literal * 257 + b"\r\n")
    answer = b"".join(imap.until_tagged(b"a2")) + imap.file.read()
    assert answer.startswith(b"a2 BAD [TOOBIG] Too many literals in one command.\r\n* BYE")
    still_serving(node)


def test_a_search_nested_too_deeply_is_refused_and_the_session_goes_on(
    node: Node, imap: Imap
) -> None:
    # pymap's parser recursed once a level: 300 parentheses ended the session with
    # [SERVERBUG] and logged a traceback of thousands of lines.
    imap.login()
    assert imap.command(b"a1 SELECT INBOX\r\n")[-1].startswith(b"a1 OK")
    for tag, criteria in [
        (b"a2", b"(" * 300 + b"ALL" + b")" * 300),
        (b"a3", b"OR " * 101 + b"ALL " * 102),
        (b"a4", b"NOT (" * 60 + b"ALL" + b")" * 60),
    ]:
        reply = imap.command(tag + b" UID SEARCH " + criteria + b"\r\n")
        assert reply == [
            tag + b" BAD [LIMIT] Too deeply nested: at most 100 levels of parentheses, OR and"
            b" NOT.\r\n"
        ], reply
    assert imap.command(b"a5 SEARCH " + b"(" * 100 + b"ALL" + b")" * 100 + b"\r\n")[-1].startswith(
        b"a5 OK"
    )
    assert imap.command(b"a6 SEARCH " + b"OR " * 99 + b"ALL " * 100 + b"\r\n")[-1].startswith(
        b"a6 OK"
    )
    still_serving(node)


def test_endless_command_line_gets_bye(node: Node, imap: Imap) -> None:
    before = node.rss()
    imap.send(b"a1 NOOP " + b"x" * (1024 * 1024))  # and no line end
    answer = imap.file.read()
    assert answer.startswith(b"* BYE [TOOBIG] Command line too long."), answer
    assert node.rss() - before < 16 * 1024 * 1024


def test_8bit_search_without_charset_is_answered_not_dropped(imap: Imap) -> None:
    imap.login()
    assert imap.command(b"a1 SELECT INBOX\r\n")[-1].startswith(b"a1 OK")
    utf8 = "Declaración".encode()
    imap.send(b"a2 SEARCH SUBJECT {%d}\r\n" % len(utf8))
    assert imap.line().startswith(b"+ ")
    imap.send(utf8 + b"\r\n")
    assert imap.until_tagged(b"a2")[-1].startswith(b"a2 OK")  # read as UTF-8, as Dovecot
    latin1 = "Declaración".encode("latin-1")  # not UTF-8: a bad argument, not a drop
    imap.send(b"a3 SEARCH SUBJECT {%d}\r\n" % len(latin1))
    assert imap.line().startswith(b"+ ")
    imap.send(latin1 + b"\r\n")
    assert imap.until_tagged(b"a3")[-1].startswith(b"a3 BAD")
    assert imap.command(b"a4 NOOP\r\n")[-1].startswith(b"a4 OK")


def test_a_header_nested_too_deeply_does_not_end_the_sessions_that_read_it(imap: Imap) -> None:
    # RFC 5322 comments nest, and Python's header parsers recurse once a level: anyone could
    # mail an office a From of 3 000 parentheses, and every session that then fetched its
    # ENVELOPE (as Thunderbird does for each message) ended without an answer.
    deep = b"(" * 3000 + b")" * 3000
    mails = [
        b"From: " + deep + b" <a@b.pe>\r\nTo: x" + deep + b"@b.pe\r\nSubject: uno\r\n\r\nhola\r\n",
        b"From: a@b.pe\r\nContent-Type: text/plain; " + deep + b" charset=utf-8\r\n"
        b"Content-Disposition: attachment; " + deep + b" filename=x\r\n\r\nhola\r\n",
    ]
    imap.login()
    assert imap.command(b"a1 CREATE Hondo\r\n")[-1].startswith(b"a1 OK")
    for mail in mails:
        reply = imap.command(b"a2 APPEND Hondo {%d+}\r\n" % len(mail) + mail + b"\r\n")
        assert reply[-1].startswith(b"a2 OK")
    assert imap.command(b"a3 SELECT Hondo\r\n")[-1].startswith(b"a3 OK")
    for tag, items in [
        (b"a4", b"ENVELOPE"),
        (b"a5", b"BODYSTRUCTURE"),
        (b"a6", b"(FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT)])"),
    ]:
        reply = imap.command(tag + b" FETCH 1:2 " + items + b"\r\n")
        assert reply[-1].startswith(tag + b" OK"), reply[-1]
        assert len(reply) >= 3  # both messages answered
    envelope = imap.command(b"a7 FETCH 1 ENVELOPE\r\n")[0]
    assert b'"uno"' in envelope  # what could be read is there
    for tag, criteria in [(b"a8", b"FROM a"), (b"a9", b"TO x"), (b"b1", b"SUBJECT uno")]:
        assert imap.command(tag + b" SEARCH " + criteria + b"\r\n")[-1].startswith(tag + b" OK")
    assert imap.command(b"b2 NOOP\r\n")[-1].startswith(b"b2 OK")


def many_part_mail(parts: int = 100_000) -> bytes:
    head = (
        b"From: %s\r\nTo: %s\r\nSubject: muchas partes\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" % (USER, USER)
    )
    return head + b"--b\r\n\r\nx\r\n" * parts + b"--b--\r\n"


def test_many_part_mail_does_not_stall_the_node(node: Node) -> None:
    raw = many_part_mail()
    assert 1_000_000 <= len(raw) < 1_100_000
    with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=30) as client:
        client.login(AGENT.address, DEMO_PASSWORD)
        client.sendmail(AGENT.address, [AGENT.address], raw)
    client_ = Imap(node, timeout=120)
    try:
        client_.login()
        selected = client_.command(b"a1 SELECT INBOX\r\n")
        [exists] = [line for line in selected if line.endswith(b" EXISTS\r\n")]
        last = exists.split()[1]
        before = node.rss()
        greetings: list[float] = []
        done = threading.Event()

        def probe() -> None:
            while not done.is_set():
                started = time.monotonic()
                with socket.create_connection(("127.0.0.1", node.smtp_port), timeout=30) as sock:
                    assert sock.recv(100).startswith(b"220")
                greetings.append(time.monotonic() - started)
                time.sleep(0.05)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            fetched = client_.command(b"a2 FETCH %s (BODYSTRUCTURE)\r\n" % last)
            searched = client_.command(b"a3 SEARCH BODY zzz-nada\r\n")
        finally:
            done.set()
            prober.join()
        growth = node.rss() - before
    finally:
        client_.close()
    assert fetched[-1].startswith(b"a2 OK") and b"BODYSTRUCTURE" in fetched[0]
    assert searched[-1].startswith(b"a3 OK")
    assert greetings and max(greetings) < 1.0, max(greetings)
    assert growth < 100 * 1024 * 1024, growth
