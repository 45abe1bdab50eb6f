"""Debian's stock mail clients on their default TLS behaviour, trusting only the node's CA.

Each client is given the node's ``ca.pem`` and nothing else about TLS: it negotiates
STARTTLS/STLS (or implicit TLS) and checks the certificate and the host name its own way.
Before the node offered TLS, msmtp refused to send the password, fetchmail gave up on the
STLS upgrade, mbsync stopped and neomutt refused the plain-text connection (``ssl_force_tls``).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
from pathlib import Path

import pytest

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.node_clients import AGENT, ca_file, smtp_send
from tests.tools import needs

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
USER = AGENT.address
MESSAGE = b"From: agente1@agencias.pe\r\nTo: agente1@agencias.pe\r\nSubject: %b\r\n\r\nHola.\r\n"


async def run(*argv: str, home: Path, stdin: bytes = b"") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, "HOME": str(home)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    return process.returncode or 0, output.decode(errors="replace")


async def inbox_subjects(node: Node, address: str = USER) -> list[bytes]:
    assert node.store is not None
    subjects = []
    for info in await node.store.list_messages(address):
        raw = await node.store.read_message(address, "INBOX", info.uid)
        subjects += [line for line in raw.splitlines() if line.startswith(b"Subject:")]
    return subjects


def private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


@needs("msmtp")
@pytest.mark.parametrize(("service", "starttls"), [("smtp", "on"), ("smtps", "off")])
async def test_msmtp_submits_over_tls(
    node: Node, tmp_path: Path, service: str, starttls: str
) -> None:
    config = private(
        tmp_path / "msmtprc",
        f"account default\nhost {HOST}\nport {node.port(service)}\nfrom {USER}\n"
        f"auth on\nuser {USER}\npassword {DEMO_PASSWORD}\n"
        f"tls on\ntls_starttls {starttls}\ntls_trust_file {ca_file(node)}\n",
    )
    subject = f"msmtp {service}".encode()
    status, transcript = await run(
        "msmtp", "-C", str(config), "-d", USER, home=tmp_path, stdin=MESSAGE % subject
    )
    assert status == 0, transcript
    assert b"Subject: " + subject in await inbox_subjects(node)


@needs("swaks")
async def test_swaks_with_starttls_verifying_the_certificate(node: Node, tmp_path: Path) -> None:
    status, transcript = await run(
        "swaks", "--server", HOST, "--port", str(node.port("smtp")),
        "-tls", "--tls-verify", "--tls-ca-path", ca_file(node),
        "--auth", "PLAIN", "--auth-user", USER, "--auth-password", DEMO_PASSWORD,
        "--from", USER, "--to", USER, "--header", "Subject: swaks tls",
        home=tmp_path,
    )  # fmt: skip
    assert status == 0, transcript
    assert "STARTTLS" in transcript
    assert b"Subject: swaks tls" in await inbox_subjects(node)


@needs("fetchmail")
@pytest.mark.parametrize("implicit", [False, True], ids=["stls", "pop3s"])
async def test_fetchmail_retrieves_over_tls(node: Node, tmp_path: Path, implicit: bool) -> None:
    await asyncio.to_thread(smtp_send, node, USER, [USER], MESSAGE % b"para fetchmail")
    mbox = tmp_path / "fetched.mbox"
    port = node.port("pop3s" if implicit else "pop3")
    rc = private(
        tmp_path / "fetchmailrc",
        "set no syslog\n"
        # fetchmail matches host names only against the certificate's DNS names.
        f'poll localhost protocol POP3 port {port} user "{USER}" password "{DEMO_PASSWORD}"\n'
        f"  sslcertfile {ca_file(node)}{' ssl' if implicit else ''}\n"
        f"  mda {shlex.quote('cat >> ' + str(mbox))}\n",
    )
    status, transcript = await run(
        "fetchmail", "--fetchmailrc", str(rc), "--verbose",
        "--pidfile", str(tmp_path / "pid"), "--idfile", str(tmp_path / "ids"),
        home=tmp_path,
    )  # fmt: skip
    assert status == 0, transcript
    if not implicit:
        assert "STLS" in transcript
    assert b"Subject: para fetchmail" in mbox.read_bytes()


@needs("mbsync")
@pytest.mark.parametrize("ssl_type", [None, "IMAPS"], ids=["default-starttls", "imaps"])
async def test_mbsync_mirrors_over_tls(node: Node, tmp_path: Path, ssl_type: str | None) -> None:
    await asyncio.to_thread(smtp_send, node, USER, [USER], MESSAGE % b"para mbsync")
    maildir = tmp_path / "mail"
    maildir.mkdir()
    port = node.port("imaps" if ssl_type else "imap")
    config = private(
        tmp_path / "mbsyncrc",
        # mbsync matches host names only against the certificate's DNS names.
        f"IMAPAccount node\nHost localhost\nPort {port}\nUser {USER}\nPass {DEMO_PASSWORD}\n"
        f"CertificateFile {ca_file(node)}\n"
        + (f"SSLType {ssl_type}\n" if ssl_type else "")  # unset: mbsync's default, STARTTLS
        + f"\nIMAPStore remote\nAccount node\n\nMaildirStore local\nPath {maildir}/\n"
        f"Inbox {maildir}/INBOX\n\nChannel node\nFar :remote:\nNear :local:\n"
        "Patterns INBOX\nCreate Near\nSyncState *\nSync Pull\n",
    )
    status, transcript = await run("mbsync", "-c", str(config), "-V", "node", home=tmp_path)
    assert status == 0, transcript
    files = [p for sub in ("cur", "new") for p in (maildir / "INBOX" / sub).glob("*")]
    assert any(b"Subject: para mbsync" in p.read_bytes() for p in files), transcript


@needs("neomutt")
@needs("tmux")
async def test_neomutt_reads_the_inbox_over_imap_starttls(node: Node, tmp_path: Path) -> None:
    """neomutt in a terminal (tmux), stock settings but for where and whom to trust."""
    await asyncio.to_thread(smtp_send, node, USER, [USER], MESSAGE % b"DUA para neomutt")
    folder = f"imap://{HOST}:{node.port('imap')}/"
    muttrc = private(
        tmp_path / "muttrc",
        f'set folder="{folder}"\nset spoolfile="+INBOX"\n'
        f'set imap_user="{USER}"\nset imap_pass="{DEMO_PASSWORD}"\n'
        f'set ssl_ca_certificates_file="{ca_file(node)}"\n'
        f'set header_cache=""\nset message_cachedir=""\n',
    )
    session = f"neomutt-{os.getpid()}-{id(tmp_path)}"
    tmux = shutil.which("tmux") or "tmux"
    socket = str(tmp_path / "tmux.sock")
    command = (
        f"TERM=xterm HOME={shlex.quote(str(tmp_path))} neomutt -n -F {shlex.quote(str(muttrc))}"
    )
    status, out = await run(
        tmux, "-S", socket, "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
        command, home=tmp_path,
    )  # fmt: skip
    assert status == 0, out
    screen = ""
    try:
        for _ in range(100):
            _, screen = await run(tmux, "-S", socket, "capture-pane", "-p", "-t", session,
                                  home=tmp_path)  # fmt: skip
            if "DUA para neomutt" in screen:
                break
            await asyncio.sleep(0.2)  # a terminal offers nothing to wait on but its screen
        assert "DUA para neomutt" in screen, screen
    finally:
        await run(tmux, "-S", socket, "kill-server", home=tmp_path)


@needs("getmail")
async def test_getmail_retrieves_over_pop3s(node: Node, tmp_path: Path) -> None:
    await asyncio.to_thread(smtp_send, node, USER, [USER], MESSAGE % b"para getmail")
    mbox = tmp_path / "getmail.mbox"
    mbox.touch()
    rc = private(
        tmp_path / "getmailrc",
        "[retriever]\ntype = SimplePOP3SSLRetriever\nserver = localhost\n"
        f"port = {node.port('pop3s')}\nusername = {USER}\npassword = {DEMO_PASSWORD}\n"
        f"ca_certs = {ca_file(node)}\n\n"
        # An external MDA: getmail's own mbox delivery refuses to run as root (as in CI).
        "[destination]\ntype = MDA_external\npath = /bin/sh\n"
        f'arguments = ("-c", "cat >> {mbox}")\nallow_root_commands = true\n\n'
        "[options]\nread_all = true\ndelete = false\n",
    )
    status, transcript = await run(
        "getmail", "--getmaildir", str(tmp_path), "--rcfile", str(rc), home=tmp_path
    )
    assert status == 0, transcript
    assert b"Subject: para getmail" in mbox.read_bytes()


@needs("s-nail")
@pytest.mark.parametrize("implicit", [False, True], ids=["stls", "pop3s"])
async def test_s_nail_lists_the_inbox_over_pop3(node: Node, tmp_path: Path, implicit: bool) -> None:
    """s-nail tries APOP whenever the greeting carries a timestamp, and failed on it; the
    node offers no APOP by default, so s-nail's stock 'plain' login goes through."""
    await asyncio.to_thread(smtp_send, node, USER, [USER], MESSAGE % b"para s-nail")
    user = USER.replace("@", "%40")
    if implicit:
        url, extra = f"pop3s://{user}@localhost:{node.port('pop3s')}", []
    else:
        url, extra = f"pop3://{user}@localhost:{node.port('pop3')}", ["-S", "pop3-use-starttls"]
    status, transcript = await run(
        "s-nail", "-#", "-:/", "-S", "v15-compat",
        "-S", f"tls-ca-file={ca_file(node)}", "-S", "tls-ca-no-defaults",
        "-S", f"password={DEMO_PASSWORD}", *extra, "-f", url,
        home=tmp_path, stdin=b"headers\nquit\n",
    )  # fmt: skip
    assert status == 0, transcript
    assert "para s-nail" in transcript, transcript
