"""How mailbox operations grow with the mailbox: 1k, 10k and 50k messages in one INBOX.

For each size the store is filled through ``Store.deliver`` (batched), a node is started on
it, and these are timed (milliseconds, best of ``--rounds``):

- ``select first``: the first SELECT after the server starts (may read the mailbox once);
- ``select``: SELECT on a new connection afterwards;
- ``noop after delivery``: NOOP of a session that has the mailbox selected, just after a
  new message arrived (it must announce it);
- ``uid fetch last``: ``UID FETCH <last> BODY.PEEK[]``;
- ``pop3 login+stat`` and ``pop3 login+stat+list`` (LIST sends a line per message: its
  time grows with the mailbox on any server, most of it the client reading the lines);
- ``smtp delivery``: one SMTP submission into the mailbox (the node only);
- ``smtp p99 alone`` and ``smtp p99 while selecting``: the 99th percentile of 50
  submissions made alone, then while another client selects the mailbox over and over
  (the node only): the difference is what the SELECTs cost a delivery.

Dovecot (``dovecot-imapd``, ``dovecot-pop3d``) is measured on the same messages when it is
installed (its delivery is a file dropped into the Maildir). Each line ends with the growth
factor from the smallest to the largest size; the last line, ``ratio: X.XX``, is the worst
growth factor of the node's operations other than the first SELECT (the goal is <= 2).
Not part of the test suite.

    python bench/mailbox_scale.py [--sizes 1000 10000 50000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import os
import poplib
import smtplib
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from baseline import (
    DOVECOT_USER,
    PASSWORD,
    Ports,
    dovecot,
    fill_store,
    free_port,
    message,
    node_command,
    running,
)

OWNER = "agente9@agencias.pe"
SMALL_BODY = "Linea de declaracion\r\n" * 4

Figures = dict[str, float]


def small(n: int) -> bytes:
    """A short message from the mailbox's owner (the node takes submissions only From: the
    authenticated address)."""
    return message(n, SMALL_BODY).replace(b"From: agente1@agencias.pe", f"From: {OWNER}".encode())


def best(rounds: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(rounds)) * 1000


def imap_login(port: int, user: str) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", port, timeout=300)
    client.login(user, PASSWORD)
    return client


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def imap_figures(
    port: int, user: str, rounds: int, deliver: Callable[[int], None], serial: list[int]
) -> Figures:
    figures: Figures = {}
    with imap_login(port, user) as client:
        figures["select first"] = timed(lambda: client.select("INBOX")) * 1000

    def select_again() -> float:
        with imap_login(port, user) as client:
            return timed(lambda: client.select("INBOX"))

    figures["select"] = best(rounds, select_again)
    with imap_login(port, user) as client:
        client.select("INBOX")

        def noop_after_delivery() -> float:
            serial[0] += 1
            client.untagged_responses.pop("EXISTS", None)
            deliver(serial[0])
            waited = 0.0
            while True:  # Dovecot may show a file dropped in new/ a NOOP later
                took = timed(client.noop)
                if client.untagged_responses.pop("EXISTS", None):
                    return took
                waited += took
                if waited > 30:
                    raise TimeoutError("the delivered message never showed")
                time.sleep(0.01)

        figures["noop after delivery"] = best(rounds, noop_after_delivery)
        _, found = client.uid("SEARCH", "ALL")
        last = (found[0] or b"").split()[-1].decode()
        figures["uid fetch last"] = best(
            rounds, lambda: timed(lambda: client.uid("FETCH", last, "(BODY.PEEK[])"))
        )
    return figures


def pop3_list(port: int, user: str, *, listing: bool = True) -> float:
    def run() -> None:
        client = poplib.POP3("127.0.0.1", port, timeout=300)
        try:
            client.user(user)
            client.pass_(PASSWORD)
            client.stat()
            if listing:
                client.list()
        finally:
            client.quit()

    return timed(run)


def pop3_figures(port: int, user: str, rounds: int) -> Figures:
    return {
        "pop3 login+stat": best(rounds, lambda: pop3_list(port, user, listing=False)),
        "pop3 login+stat+list": best(rounds, lambda: pop3_list(port, user)),
    }


def smtp_figures(ports: Ports, rounds: int, serial: list[int]) -> Figures:
    def submit(client: smtplib.SMTP) -> float:
        serial[0] += 1
        return timed(lambda: client.sendmail(OWNER, [OWNER], small(serial[0])))

    with smtplib.SMTP("127.0.0.1", ports.smtp, timeout=300) as client:
        client.login(OWNER, PASSWORD)
        single = best(rounds, lambda: submit(client))
        alone = [submit(client) for _ in range(50)]
        stop = threading.Event()

        def keep_selecting() -> None:
            while not stop.is_set():
                with imap_login(ports.imap, OWNER) as reader:
                    reader.select("INBOX")

        reader = threading.Thread(target=keep_selecting)
        reader.start()
        try:
            took = [submit(client) for _ in range(50)]
        finally:
            stop.set()
            reader.join()
    return {
        "smtp delivery": single,
        "smtp p99 alone": statistics.quantiles(alone, n=100)[-1] * 1000,
        "smtp p99 while selecting": statistics.quantiles(took, n=100)[-1] * 1000,
    }


def node_figures(data_dir: Path, rounds: int, serial: list[int]) -> Figures:
    ports = Ports(imap=free_port(), pop3=free_port(), smtp=free_port())
    with running(node_command(data_dir, ports), ports.imap, ports.pop3, ports.smtp):
        with smtplib.SMTP("127.0.0.1", ports.smtp, timeout=300) as sender:
            sender.login(OWNER, PASSWORD)

            def deliver(n: int) -> None:
                sender.sendmail(OWNER, [OWNER], small(n))

            figures = imap_figures(ports.imap, OWNER, rounds, deliver, serial)
        figures.update(pop3_figures(ports.pop3, OWNER, rounds))
        figures.update(smtp_figures(ports, rounds, serial))
    return figures


def dovecot_figures(scratch: Path, size: int, rounds: int) -> Figures | None:
    with dovecot(scratch, size, small) as ports:
        if ports is None:
            return None
        new = scratch / "home" / DOVECOT_USER / "Maildir" / "new"

        def deliver(n: int) -> None:
            path = new / f"delivered-{n}.bench"
            path.write_bytes(small(10_000_000 + n))
            if os.geteuid() == 0:
                os.chown(path, 65534, 65534)

        figures = imap_figures(ports.imap, DOVECOT_USER, rounds, deliver, [0])
        figures.update(pop3_figures(ports.pop3, DOVECOT_USER, rounds))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted(args.sizes)

    ours: dict[int, Figures] = {}
    theirs: dict[int, Figures | None] = {}
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        data_dir = scratch / "node"
        data_dir.mkdir()
        filled = 0
        serial = [10_000_000]
        for size in sizes:
            asyncio.run(fill_store(data_dir, size, small, user=OWNER, first=filled))
            filled = size
            ours[size] = node_figures(data_dir, args.rounds, serial)
            filled += serial[0] - 10_000_000  # the submissions landed in the mailbox too
            serial[0] = 10_000_000
            theirs[size] = dovecot_figures(scratch / "dovecot", size, args.rounds)

    low, high = sizes[0], sizes[-1]
    print(f"one INBOX of {', '.join(map(str, sizes))} messages; ms, best of {args.rounds}")
    print(f"cores: {os.cpu_count()}")
    header = "".join(f"{size:>10}" for size in sizes)
    print(f"{'teledespacho':28}{header}   growth")
    growths: list[float] = []
    for name in ours[low]:
        row = "".join(f"{ours[size][name]:10.1f}" for size in sizes)
        growth = ours[high][name] / ours[low][name]
        if name != "select first":
            growths.append(growth)
        print(f"  {name:26}{row}   {growth:5.2f}x")
    if theirs[low] is None:
        print("dovecot: not installed (apt-get install dovecot-imapd dovecot-pop3d)")
    else:
        print(f"{'dovecot':28}{header}   growth")
        for name in theirs[low] or {}:
            row = "".join(f"{(theirs[size] or {})[name]:10.1f}" for size in sizes)
            growth = (theirs[high] or {})[name] / (theirs[low] or {})[name]
            print(f"  {name:26}{row}   {growth:5.2f}x")
    print(f"ratio: {max(growths):.2f}")


if __name__ == "__main__":
    main()
