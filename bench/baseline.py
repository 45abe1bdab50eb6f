"""What the mailbox benchmarks share: a node process on a filled store, and a private Dovecot.

Dovecot (Debian's ``dovecot-imapd`` and ``dovecot-pop3d``) runs from a configuration in a
scratch directory, on loopback ports, with one static user and a Maildir holding the same
messages as the node's store. Not part of the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from config.clock import SystemClock
from gateway.ports import free_ports
from mailboxes.passwords import PasswordHasher
from mailboxes.store import Store

USER, PASSWORD = "aduana-118@aduanas.gob.pe", "bench"
DOVECOT_USER = "bench"
BODY = ("Linea de declaracion " * 3 + "\r\n") * 64  # ~4 KB


def free_port() -> int:
    """A loopback port free now, below the range outgoing connections take theirs from."""
    return free_ports(1)[0]


def message(n: int, body: str = BODY) -> bytes:
    return (
        f"From: agente1@agencias.pe\r\nTo: {USER}\r\nSubject: bench {n}\r\n"
        f"Message-ID: <bench-{n}@agencias.pe>\r\n\r\n{body}"
    ).encode()


def wait_listening(port: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


async def fill_store(
    data_dir: Path,
    count: int,
    make: Callable[[int], bytes] = message,
    *,
    user: str = USER,
    first: int = 0,
) -> None:
    """The bench account (an office, or an agent if ``user`` is not ``USER``) and messages
    ``first`` to ``count - 1``, delivered through the store in batches."""
    store = await Store.open(
        f"sqlite+aiosqlite:///{data_dir / 'teledespacho.db'}",
        clock=SystemClock(),
        hasher=PasswordHasher(),
    )
    try:
        if await store.get_account(user) is None:
            if user == USER:
                await store.create_account(user, PASSWORD, role="office", office_code="118")
            else:
                await store.create_account(user, PASSWORD, role="agent", agent_code="9999")
        for start in range(first, count, 2000):
            stop = min(count, start + 2000)
            batch = [store.deliver("a@b.pe", [user], make(n)) for n in range(start, stop)]
            await asyncio.gather(*batch)
    finally:
        await store.close()


def fill_maildir(
    home: Path, count: int, make: Callable[[int], bytes] = message, *, first: int = 0
) -> None:
    maildir = home / DOVECOT_USER / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for n in range(first, count):
        (maildir / "cur" / f"{n:06d}.bench:2,").write_bytes(make(n))


@dataclass(frozen=True)
class Ports:
    imap: int
    pop3: int
    smtp: int = 0


def dovecot_config(scratch: Path, ports: Ports) -> Path:
    """A throw-away Dovecot: one static user, plaintext logins on loopback, Maildir."""
    home = scratch / "home"
    if os.geteuid() == 0:
        uid = gid = 65534  # Dovecot refuses to run mail processes as root
        users = ""
        for path in (home, *home.rglob("*")):
            os.chown(path, uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
        name = pwd.getpwuid(uid).pw_name
        users = f"default_internal_user = {name}\ndefault_login_user = {name}\n"
    config = scratch / "dovecot.conf"
    config.write_text(
        f"base_dir = {scratch}/run\nstate_dir = {scratch}/state\nlog_path = {scratch}/dovecot.log\n"
        "protocols = imap pop3\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n"
        f"auth_mechanisms = plain login\nfirst_valid_uid = {min(uid, 100)}\n{users}"
        f"mail_location = maildir:{home}/%u/Maildir\n"
        "pop3_uidl_format = %08Xu%08Xv\n"
        "passdb {\n  driver = static\n  args = password=" + PASSWORD + "\n}\n"
        "userdb {\n  driver = static\n"
        f"  args = uid={uid} gid={gid} home={home}/%u\n}}\n"
        "service imap-login {\n  chroot =\n  inet_listener imap {\n"
        f"    address = 127.0.0.1\n    port = {ports.imap}\n  }}\n"
        "  inet_listener imaps {\n    port = 0\n  }\n}\n"
        "service pop3-login {\n  chroot =\n  inet_listener pop3 {\n"
        f"    address = 127.0.0.1\n    port = {ports.pop3}\n  }}\n"
        "  inet_listener pop3s {\n    port = 0\n  }\n}\n"
        "service anvil {\n  chroot =\n}\n"
    )
    return config


@contextlib.contextmanager
def running(command: list[str], *ports: int) -> Iterator[None]:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for port in ports:
            wait_listening(port)
        yield
    finally:
        server.terminate()
        server.wait(30)


def node_command(data_dir: Path, ports: Ports, *options: str) -> list[str]:
    """``teledispatch serve`` on ``ports`` and free ones for the rest, TLS ports off: it
    never meets a node already running on the default ports (the README's, say)."""
    return [
        sys.executable, "-m", "gateway", "serve", *options, "--data-dir", str(data_dir),
        "--smtp-port", str(ports.smtp or free_port()), "--pop3-port", str(ports.pop3),
        "--imap-port", str(ports.imap), "--http-port", str(free_port()),
        "--smtps-port", "off", "--pop3s-port", "off", "--imaps-port", "off",
    ]  # fmt: skip


@contextlib.contextmanager
def dovecot(
    scratch: Path, count: int, make: Callable[[int], bytes] = message
) -> Iterator[Ports | None]:
    """A running Dovecot over ``count`` messages, or ``None`` when it is not installed."""
    binary = shutil.which("dovecot")
    if binary is None:
        yield None
        return
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for directory in (scratch.parent, scratch):  # Dovecot's unprivileged processes get through
        os.chmod(directory, 0o755)
    fill_maildir(scratch / "home", count, make)
    ports = Ports(imap=free_port(), pop3=free_port())
    config = dovecot_config(scratch, ports)
    with running([binary, "-F", "-c", str(config)], ports.imap, ports.pop3):
        yield ports
