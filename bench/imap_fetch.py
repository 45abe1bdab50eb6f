"""IMAP fetch speed: the node's IMAP server against Dovecot, with the same client, same mail.

A mailbox of N messages of about 4 KB is read twice per round: in one ``UID FETCH 1:*
BODY.PEEK[]`` and in N single ``UID FETCH <uid> BODY.PEEK[]`` commands (what a client that
fetches one message at a time costs). Both servers run as their own processes; Dovecot is
measured in the same run when it is installed (``dovecot-imapd``). The last line is
``ratio: X.XX``: the node's messages per second over both phases, divided by Dovecot's.
Not part of the test suite.

    python bench/imap_fetch.py [--messages 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from config.clock import SystemClock
from mailboxes.passwords import PasswordHasher
from mailboxes.store import Store

USER, PASSWORD = "aduana-118@aduanas.gob.pe", "bench"
BODY = ("Linea de declaracion " * 3 + "\r\n") * 64  # ~4 KB


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def message(n: int) -> bytes:
    return (
        f"From: agente1@agencias.pe\r\nTo: {USER}\r\nSubject: bench {n}\r\n"
        f"Message-ID: <bench-{n}@agencias.pe>\r\n\r\n{BODY}"
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


async def fill_store(data_dir: Path, count: int) -> None:
    store = await Store.open(
        f"sqlite+aiosqlite:///{data_dir / 'teledespacho.db'}",
        clock=SystemClock(),
        hasher=PasswordHasher(),
    )
    try:
        await store.create_account(USER, PASSWORD, role="office", office_code="118")
        await asyncio.gather(*(store.deliver("a@b.pe", [USER], message(n)) for n in range(count)))
    finally:
        await store.close()


def fill_maildir(home: Path, count: int) -> None:
    maildir = home / "bench" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n in range(count):
        (maildir / "cur" / f"{n:06d}.bench:2,").write_bytes(message(n))


def dovecot_config(scratch: Path, port: int) -> Path:
    """A throw-away Dovecot: one static user, plaintext login on loopback, Maildir."""
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
        "protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n"
        f"auth_mechanisms = plain login\nfirst_valid_uid = {min(uid, 100)}\n{users}"
        f"mail_location = maildir:{home}/%u/Maildir\n"
        "passdb {\n  driver = static\n  args = password=" + PASSWORD + "\n}\n"
        "userdb {\n  driver = static\n"
        f"  args = uid={uid} gid={gid} home={home}/%u\n}}\n"
        "service imap-login {\n  chroot =\n  inet_listener imap {\n"
        f"    address = 127.0.0.1\n    port = {port}\n  }}\n"
        "  inet_listener imaps {\n    port = 0\n  }\n}\n"
        "service anvil {\n  chroot =\n}\n"
    )
    return config


def fetch_rounds(port: int, user: str, rounds: int) -> tuple[float, float, int]:
    """Best seconds for the bulk fetch and for the single fetches, and the message count."""
    with imaplib.IMAP4("127.0.0.1", port, timeout=120) as client:
        client.login(user, PASSWORD)
        client.select("INBOX", readonly=True)
        _, found = client.uid("SEARCH", "ALL")
        uids = (found[0] or b"").split()
        client.uid("FETCH", "1:*", "(BODY.PEEK[])")  # warm-up (Dovecot builds its index)
        best_bulk = best_singles = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            _, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
            best_bulk = min(best_bulk, time.perf_counter() - started)
            assert sum(1 for item in data if isinstance(item, tuple)) == len(uids)
            started = time.perf_counter()
            for uid in uids:
                client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            best_singles = min(best_singles, time.perf_counter() - started)
    return best_bulk, best_singles, len(uids)


def measure(command: Sequence[str], port: int, user: str, rounds: int) -> tuple[float, float, int]:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        return fetch_rounds(port, user, rounds)
    finally:
        server.terminate()
        server.wait(30)


def report(label: str, bulk: float, singles: float, count: int) -> float:
    print(
        f"{label:22} bulk {count / bulk:8.1f} messages/s   "
        f"singles {count / singles:8.1f} messages/s"
    )
    return 2 * count / (bulk + singles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        os.chmod(scratch, 0o755)  # Dovecot's unprivileged processes must get through
        (scratch / "node").mkdir()
        asyncio.run(fill_store(scratch / "node", args.messages))
        node_port = free_port()
        node = [
            sys.executable, "-m", "gateway", "serve", "--data-dir", str(scratch / "node"),
            "--smtp-port", str(free_port()), "--pop3-port", str(free_port()),
            "--imap-port", str(node_port),
        ]  # fmt: skip
        ours = measure(node, node_port, USER, args.rounds)

        dovecot = shutil.which("dovecot")
        theirs = None
        if dovecot is not None:
            fill_maildir(scratch / "home", args.messages)
            port = free_port()
            config = dovecot_config(scratch, port)
            theirs = measure([dovecot, "-F", "-c", str(config)], port, "bench", args.rounds)

    print(f"{args.messages} messages of {len(message(0))} bytes; best of {args.rounds} rounds")
    print(f"cores: {os.cpu_count()}")
    our_rate = report("teledespacho (pymap)", *ours)
    if theirs is None:
        print("dovecot: not installed")
        return
    their_rate = report("dovecot", *theirs)
    print(f"bulk ratio: {theirs[0] / ours[0]:.2f}  singles ratio: {theirs[1] / ours[1]:.2f}")
    print(f"ratio: {our_rate / their_rate:.2f}")


if __name__ == "__main__":
    main()
