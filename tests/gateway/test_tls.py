"""TLS on a running node with Python's own clients, trusting only the node's CA file.

STARTTLS (smtplib), STLS (poplib), STARTTLS (imaplib), and the implicit-TLS ports (RFC 8314)
of all three; then a node that refuses logins before TLS; then ``teledispatch tls ca``.
"""

from __future__ import annotations

import asyncio
import imaplib
import poplib
import smtplib
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from config.clock import FixedClock
from config.settings import Settings
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.node_clients import AGENT, OFFICE

HOST = "127.0.0.1"
USER = AGENT.address


def trusting(node: Node) -> ssl.SSLContext:
    """A client context with Python's default checks that trusts only the node's CA."""
    assert node.tls is not None and node.tls.ca is not None
    return ssl.create_default_context(cafile=str(node.tls.ca.ca_file))


def smtp_starttls(node: Node) -> str:
    with smtplib.SMTP(HOST, node.port("smtp"), timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        client.starttls(context=trusting(node))
        client.ehlo()
        client.login(USER, DEMO_PASSWORD)
        client.sendmail(USER, [USER], b"Subject: por STARTTLS\r\n\r\nHola.\r\n")
        sock = client.sock
        assert isinstance(sock, ssl.SSLSocket)
        return str(sock.version())


def smtp_implicit(node: Node) -> None:
    with smtplib.SMTP_SSL(HOST, node.port("smtps"), context=trusting(node), timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        client.login(USER, DEMO_PASSWORD)
        client.sendmail(USER, [USER], b"Subject: por SMTPS\r\n\r\nHola.\r\n")


def pop3_stls(node: Node) -> int:
    client = poplib.POP3(HOST, node.port("pop3"), timeout=10)
    try:
        assert "STLS" in client.capa()
        client.stls(context=trusting(node))
        assert "STLS" not in client.capa()
        client.user(USER)
        client.pass_(DEMO_PASSWORD)
        return client.stat()[0]
    finally:
        client.quit()


def pop3_implicit(node: Node) -> int:
    client = poplib.POP3_SSL(HOST, node.port("pop3s"), context=trusting(node), timeout=10)
    try:
        client.user(USER)
        client.pass_(DEMO_PASSWORD)
        return client.stat()[0]
    finally:
        client.quit()


def imap_starttls(node: Node) -> bytes:
    with imaplib.IMAP4(HOST, node.port("imap"), timeout=10) as client:
        assert "STARTTLS" in client.capabilities
        client.starttls(ssl_context=trusting(node))
        client.login(USER, DEMO_PASSWORD)
        _, data = client.select("INBOX")
        return bytes(data[0] or b"")


def imap_implicit(node: Node) -> bytes:
    with imaplib.IMAP4_SSL(HOST, node.port("imaps"), ssl_context=trusting(node), timeout=10) as c:
        assert "STARTTLS" not in c.capabilities
        c.login(USER, DEMO_PASSWORD)
        _, data = c.select("INBOX")
        return bytes(data[0] or b"")


async def test_every_protocol_over_starttls_and_implicit_tls(node: Node) -> None:
    version = await asyncio.to_thread(smtp_starttls, node)
    assert version in ("TLSv1.2", "TLSv1.3")
    await asyncio.to_thread(smtp_implicit, node)
    assert await asyncio.to_thread(pop3_stls, node) == 2
    assert await asyncio.to_thread(pop3_implicit, node) == 2
    assert await asyncio.to_thread(imap_starttls, node) == b"2"
    assert await asyncio.to_thread(imap_implicit, node) == b"2"


async def test_a_client_trusting_another_ca_is_refused(node: Node, tmp_path: Path) -> None:
    def attempt() -> None:
        with smtplib.SMTP(HOST, node.port("smtp"), timeout=10) as client:
            client.starttls(context=ssl.create_default_context())  # the system's CAs only

    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(attempt)


@pytest.fixture
async def strict_node(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    """A node with ``auth_requires_tls``: no login of any protocol before TLS."""
    settings = Settings(
        data_dir=tmp_path / "strict",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        smtps_port=0,
        pop3s_port=0,
        imaps_port=0,
        host_all_offices=True,
        auth_requires_tls=True,
    )
    running = Node(settings, clock=clock, hasher=FAST_HASHER)
    await running.start(demo=True)
    try:
        yield running
    finally:
        await running.stop()


def strict_smtp(node: Node) -> None:
    with smtplib.SMTP(HOST, node.port("smtp"), timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        code, text = client.docmd("AUTH", "PLAIN")
        assert code == 538 and text.startswith(b"5.7.11"), (code, text)
        # Without a login only a mailbox request may follow (the registration desk), so
        # MAIL passes and any other recipient is refused.
        code, _ = client.docmd("MAIL", f"FROM:<{USER}>")
        assert code == 250
        code, _ = client.docmd("RCPT", f"TO:<{OFFICE}>")
        assert code == 530
        client.rset()
        client.starttls(context=trusting(node))
        client.ehlo()
        assert client.has_extn("auth")
        client.login(USER, DEMO_PASSWORD)
        client.sendmail(USER, [OFFICE], b"Subject: tras STARTTLS\r\n\r\nHola.\r\n")


def strict_pop3(node: Node) -> None:
    client = poplib.POP3(HOST, node.port("pop3"), timeout=10)
    try:
        assert "USER" not in client.capa()
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\] Plaintext authentication"):
            client.user(USER)
        client.stls(context=trusting(node))
        client.user(USER)
        client.pass_(DEMO_PASSWORD)
    finally:
        client.quit()


def strict_imap(node: Node) -> None:
    with imaplib.IMAP4(HOST, node.port("imap"), timeout=10) as client:
        assert "LOGINDISABLED" in client.capabilities
        assert not any(c.startswith("AUTH=") for c in client.capabilities)
        with pytest.raises(imaplib.IMAP4.error):
            client.login(USER, DEMO_PASSWORD)
    with imaplib.IMAP4(HOST, node.port("imap"), timeout=10) as client:
        client.starttls(ssl_context=trusting(node))
        assert "LOGINDISABLED" not in client.capabilities
        client.login(USER, DEMO_PASSWORD)


def strict_implicit(node: Node) -> None:
    """The implicit-TLS ports are TLS already: login goes straight on."""
    with smtplib.SMTP_SSL(HOST, node.port("smtps"), context=trusting(node), timeout=10) as s:
        s.login(USER, DEMO_PASSWORD)
    pop = poplib.POP3_SSL(HOST, node.port("pop3s"), context=trusting(node), timeout=10)
    pop.user(USER)
    pop.pass_(DEMO_PASSWORD)
    pop.quit()
    with imaplib.IMAP4_SSL(HOST, node.port("imaps"), ssl_context=trusting(node), timeout=10) as i:
        i.login(USER, DEMO_PASSWORD)


async def test_logins_wait_for_tls_when_the_node_requires_it(strict_node: Node) -> None:
    await asyncio.to_thread(strict_smtp, strict_node)
    await asyncio.to_thread(strict_pop3, strict_node)
    await asyncio.to_thread(strict_imap, strict_node)
    await asyncio.to_thread(strict_implicit, strict_node)


async def test_the_plain_1997_profile_stays_available_by_default(node: Node) -> None:
    def plain() -> None:
        with smtplib.SMTP(HOST, node.port("smtp"), timeout=10) as client:
            client.login(USER, DEMO_PASSWORD)
        pop = poplib.POP3(HOST, node.port("pop3"), timeout=10)
        pop.user(USER)
        pop.pass_(DEMO_PASSWORD)
        pop.quit()
        with imaplib.IMAP4(HOST, node.port("imap"), timeout=10) as imap:
            assert "LOGINDISABLED" not in imap.capabilities
            imap.login(USER, DEMO_PASSWORD)

    await asyncio.to_thread(plain)


async def test_the_certificate_is_kept_across_restarts(tmp_path: Path, clock: FixedClock) -> None:
    settings = Settings(
        data_dir=tmp_path / "n",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        smtps_port=None,
        pop3s_port=None,
        imaps_port=None,
    )
    fingerprints = []
    for _ in range(2):
        node = Node(settings, clock=clock, hasher=FAST_HASHER)
        await node.start()
        assert node.tls is not None and node.tls.ca is not None
        fingerprints.append((node.tls.ca.fingerprint, node.tls.created))
        await node.stop()
    assert fingerprints[0][0] == fingerprints[1][0]
    assert [created for _, created in fingerprints] == [True, False]


def test_tls_ca_command_prints_the_file_and_its_fingerprint(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "tls", "ca", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    path_line, fingerprint_line = result.stdout.splitlines()
    ca_file = Path(path_line)
    assert ca_file == (tmp_path / "tls" / "ca.pem").resolve()
    certificate = x509.load_pem_x509_certificate(ca_file.read_bytes())
    expected = ":".join(f"{b:02X}" for b in certificate.fingerprint(hashes.SHA256()))
    assert fingerprint_line == f"SHA-256 fingerprint: {expected}"
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca


def after_upgrade(
    node: Node, service: str, plain: str, ready: bytes, encrypted: bytes, last: bytes
) -> list[bytes]:
    """Send ``plain`` (the upgrade command, and what a client or someone on the path
    pipelines behind it) in one packet; once TLS is up, send ``encrypted`` and read the
    answers up to the line starting with ``last``."""
    with socket.create_connection((HOST, node.port(service)), timeout=10) as raw:
        stream = raw.makefile("rb")
        stream.readline()  # greeting
        raw.sendall(plain.encode())
        assert stream.readline().startswith(ready)
        with trusting(node).wrap_socket(raw, server_hostname=HOST) as tls:
            tls.sendall(encrypted)
            answers = tls.makefile("rb")
            lines = [answers.readline()]
            while not lines[-1].startswith(last):
                lines.append(answers.readline())
            return lines


async def test_plain_text_pipelined_after_stls_is_dropped(node: Node) -> None:
    # USER pipelined in plain text after STLS must not count once TLS is up.
    lines = await asyncio.to_thread(
        after_upgrade, node, "pop3", f"STLS\r\nUSER {USER}\r\n", b"+OK",
        f"PASS {DEMO_PASSWORD}\r\n".encode(), b"",
    )  # fmt: skip
    assert lines == [b"-ERR send USER first\r\n"]


async def test_plain_text_pipelined_after_imap_starttls_is_dropped(node: Node) -> None:
    # pymap read the LOGIN once TLS was up, as if it had come encrypted: the session was
    # logged in by text anyone on the path could have put there (CVE-2011-0411).
    lines = await asyncio.to_thread(
        after_upgrade, node, "imap", f'a STARTTLS\r\nb LOGIN {USER} "{DEMO_PASSWORD}"\r\n',
        b"a OK", b"c SELECT INBOX\r\n", b"c ",
    )  # fmt: skip
    assert not any(line.startswith(b"b ") for line in lines), lines
    assert lines[-1].startswith((b"c BAD", b"c NO")), lines  # not logged in
