"""IMAP fetch speed: the node's IMAP server against Dovecot, with the same client, same mail.

A mailbox of N messages of about 4 KB is read twice per round: in one ``UID FETCH 1:*
BODY.PEEK[]`` and in N single ``UID FETCH <uid> BODY.PEEK[]`` commands (what a client that
fetches one message at a time costs). Both servers run as their own processes; Dovecot is
measured in the same run when it is installed (``dovecot-imapd``), each round of ours followed
by one of Dovecot's, so that a change in the machine's load reaches both. The last line is
``ratio: X.XX``: the node's messages per second over both phases, divided by Dovecot's.
Not part of the test suite.

    python bench/imap_fetch.py [--messages 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import os
import tempfile
import time
from pathlib import Path

from baseline import (
    DOVECOT_USER,
    PASSWORD,
    USER,
    Ports,
    dovecot,
    fill_store,
    free_port,
    message,
    node_command,
    running,
)


class Reader:
    """One logged-in client of one server, timing a bulk fetch and the single fetches."""

    def __init__(self, port: int, user: str) -> None:
        self.client = imaplib.IMAP4("127.0.0.1", port, timeout=120)
        self.client.login(user, PASSWORD)
        self.client.select("INBOX", readonly=True)
        _, found = self.client.uid("SEARCH", "ALL")
        self.uids = (found[0] or b"").split()
        self.client.uid("FETCH", "1:*", "(BODY.PEEK[])")  # warm-up (Dovecot builds its index)
        self.best_bulk = self.best_singles = float("inf")

    def round(self) -> None:
        client = self.client
        started = time.perf_counter()
        _, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
        self.best_bulk = min(self.best_bulk, time.perf_counter() - started)
        assert sum(1 for item in data if isinstance(item, tuple)) == len(self.uids)
        started = time.perf_counter()
        for uid in self.uids:
            client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
        self.best_singles = min(self.best_singles, time.perf_counter() - started)

    def result(self) -> tuple[float, float, int]:
        """Best seconds for the bulk fetch and for the single fetches, and the message count."""
        self.client.logout()
        return self.best_bulk, self.best_singles, len(self.uids)


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
        node = Ports(imap=free_port(), pop3=free_port())
        with (
            running(node_command(scratch / "node", node), node.imap),
            dovecot(scratch / "dovecot", args.messages) as ports,
        ):
            readers = [Reader(node.imap, USER)]
            if ports is not None:
                readers.append(Reader(ports.imap, DOVECOT_USER))
            for _ in range(args.rounds):  # alternating: both see the same machine load
                for reader in readers:
                    reader.round()
            ours, *rest = [reader.result() for reader in readers]
            theirs = rest[0] if rest else None

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
