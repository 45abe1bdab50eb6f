"""POP3 retrieval speed: the node's POP3 server against Dovecot, same client, same mail.

A maildrop of N messages of about 4 KB is read with one login and a ``RETR`` of every
message (what fetchmail and getmail do), in alternating rounds against the node and, when it
is installed (``dovecot-pop3d``), Dovecot. The last line is ``ratio: X.XX``: the node's
messages per second divided by Dovecot's (without Dovecot, the node's figure alone and
``ratio: 1.00`` against itself). Not part of the test suite.

    python bench/pop3_retr.py [--messages 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import poplib
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
    node_command,
    running,
)


def retr_all(port: int, user: str) -> tuple[float, int]:
    """Seconds for login, STAT and a RETR of every message; the number of messages."""
    started = time.perf_counter()
    client = poplib.POP3("127.0.0.1", port, timeout=120)
    try:
        client.user(user)
        client.pass_(PASSWORD)
        count, _ = client.stat()
        for number in range(1, count + 1):
            client.retr(number)
    finally:
        client.quit()
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "node").mkdir()
        asyncio.run(fill_store(scratch / "node", args.messages))
        node_ports = Ports(imap=free_port(), pop3=free_port())
        with (
            running(node_command(scratch / "node", node_ports), node_ports.pop3),
            dovecot(scratch / "dovecot", args.messages) as dovecot_ports,
        ):
            for _ in range(args.rounds):  # alternate, so both see the same machine load
                took, count = retr_all(node_ports.pop3, USER)
                assert count == args.messages, count
                ours.append(took)
                if dovecot_ports is not None:
                    took, count = retr_all(dovecot_ports.pop3, DOVECOT_USER)
                    assert count == args.messages, count
                    theirs.append(took)

    print(f"{args.messages} messages, RETR of each after one login; best of {args.rounds} rounds")
    print(f"cores: {os.cpu_count()}")
    our_rate = args.messages / min(ours)
    print(f"teledespacho         {our_rate:9.1f} messages/s")
    if not theirs:
        print("dovecot: not installed (apt-get install dovecot-pop3d)")
        print("ratio: 1.00")
        return
    their_rate = args.messages / min(theirs)
    print(f"dovecot              {their_rate:9.1f} messages/s")
    print(f"ratio: {our_rate / their_rate:.2f}")


if __name__ == "__main__":
    main()
