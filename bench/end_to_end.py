"""Benchmark (not a test): accepted declarations per second, SMTP submission to reply committed.

The node runs as ``teledispatch serve`` in its own process, on SQLite and, when PostgreSQL's
server binaries are installed, on a throwaway PostgreSQL server (started as the tests start
theirs), with 1 and 2 pipeline workers. ``--agents`` agents each submit ``--per-agent`` valid
DUAs over their own authenticated SMTP connection, all at once; the clock stops when the
last reply is committed (every intake job done). CPU per declaration is the CPU time of the
node's process and its descendants (the analysis processes) over that interval, divided by
the declarations; on PostgreSQL, the database server's processes spend their own besides,
printed apart (the sink has no database). Each node line also says how long after the last
submission's ``250`` the last reply was committed (the answer path's drain).

A round is 800 declarations by default (8 agents x 100): it measures the rate a node keeps
up. A round of 200 (``--per-agent 25``) lasts about a third of a second, a fifth of it the
drain after the last submission: it measures the answer path's latency as much as its rate.

The baseline is a bare aiosmtpd sink in its own process: aiosmtpd's ``SMTP`` requiring the
same AUTH (PLAIN, the password compared as is) and answering 250 to DATA, keeping nothing;
fed by the same clients with the same mails, in rounds alternating with the node's. Each
configuration keeps its best round. The last line is ``ratio: X.XX``: the best
configuration's declarations per second divided by the messages per second of the sink.

Before the clock starts, each agent sends ``--warm-up`` mails to the server just started,
untimed (the node then answers them all): both servers are measured running, as a node
serves for months, not in their first second (first statements compiled, first rules
read). ``--warm-up 0`` times them cold.

    python bench/end_to_end.py [--agents 8] [--per-agent 100] [--series 2] [--rounds 2]
                               [--warm-up 10]
"""

from __future__ import annotations

import argparse
import asyncio
import email.policy
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.postgres, from the checkout

from baseline import free_port

from config.clock import SystemClock
from edi_formats.codec import WireFormat, render_declaration
from mailboxes.passwords import PasswordHasher
from mailboxes.store import Store
from validators.engine import transmission_date
from validators.samples import sample_declaration

PASSWORD = "bench"
OFFICE = "aduana-118@aduanas.gob.pe"
FAST_HASHER = PasswordHasher(time_cost=1, memory_kib=8, parallelism=1)


def agents(count: int) -> list[tuple[str, str]]:
    return [(f"agente{n}@bench.pe", f"B{n:03d}") for n in range(1, count + 1)]


def mails(address: str, agent_code: str, per_agent: int, series: int, run: str) -> list[bytes]:
    as_of = transmission_date(SystemClock().now())
    out = []
    for index in range(per_agent):
        declaration = sample_declaration(
            "dua",
            as_of=as_of,
            agent_code=agent_code,
            series_count=series,
            reference=f"{run}-{agent_code}-{index}",
        )
        message = EmailMessage()
        message["From"] = address
        message["To"] = OFFICE
        message["Subject"] = f"DUA {index}"
        message["Message-ID"] = f"<{run}-{agent_code}-{index}@bench.pe>"
        message.set_content("Adjunto DUA.\n")
        message.add_attachment(
            render_declaration(declaration, WireFormat.FLAT),
            maintype="application",
            subtype="octet-stream",
            filename="DUA.TXT",
        )
        out.append(message.as_bytes(policy=email.policy.SMTP))
    return out


async def wait_listening(port: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {port}") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def client(port: int, address: str, batch: list[bytes]) -> None:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=120)
    await smtp.connect()
    await smtp.login(address, PASSWORD)
    for raw in batch:
        await smtp.sendmail(address, [OFFICE], raw)
    await smtp.quit()


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, or None if it is gone (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds used so far by ``root`` and by its live descendants."""
    stats = {int(p.name): _stat(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        if stat is not None:
            children.setdefault(stat[0], []).append(pid)
    own = stats.get(root)
    descendants, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        stat = stats.get(pid)
        if stat is not None:
            descendants += stat[1]
        todo += children.get(pid, [])
    return (own[1] if own is not None else 0.0), descendants


@dataclass(frozen=True)
class Round:
    per_second: float
    cpu_ms: float
    """CPU milliseconds per item, the server's process and its descendants together."""
    own_ms: float = 0.0
    """Of which the server's own process (the event loop: SMTP, answering, commits)."""
    drain_ms: float = 0.0
    """From the last submission's ``250`` to the last reply committed (the node only)."""
    database_ms: float | None = None
    """CPU milliseconds per item of PostgreSQL's server (the node on PostgreSQL only)."""


def cpu_per_item(before: tuple[float, float], after: tuple[float, float], items: int) -> Round:
    own = (after[0] - before[0]) * 1000 / items
    return Round(0.0, own + (after[1] - before[1]) * 1000 / items, own)


async def prepare(url: str, addresses: list[tuple[str, str]]) -> None:
    store = await Store.open(url, clock=SystemClock(), hasher=FAST_HASHER)
    try:
        for address, code in addresses:
            await store.create_account(address, PASSWORD, role="agent", agent_code=code)
    finally:
        await store.close()


async def done_jobs(store: Store) -> int:
    from sqlalchemy import func, select

    from mailboxes.schema import IntakeJobRow, JobState

    async with store.database.read_session() as session:
        done = await session.scalar(
            select(func.count(IntakeJobRow.id)).where(IntakeJobRow.state == JobState.DONE.value)
        )
        return int(done or 0)


async def accepted(store: Store) -> int:
    from sqlalchemy import func, select

    from mailboxes.schema import DeclarationRow, DeclarationStatus

    async with store.database.read_session() as session:
        count = await session.scalar(
            select(func.count(DeclarationRow.id)).where(
                DeclarationRow.status == DeclarationStatus.ACCEPTED.value
            )
        )
        return int(count or 0)


Workload = dict[str, list[bytes]]
"""Each agent's address and the mails it sends, in order."""


async def send_all(port: int, workload: Workload) -> None:
    await asyncio.gather(*(client(port, address, mails) for address, mails in workload.items()))


async def answered(store: Store, node: asyncio.subprocess.Process, jobs: int) -> None:
    """Until ``jobs`` intake jobs are done (the store is polled: the node is another process)."""
    while await done_jobs(store) < jobs:
        if node.returncode is not None:
            raise SystemExit("the node stopped during the round")
        await asyncio.sleep(0.02)


async def node_round(
    workload: Workload,
    warm_up: Workload,
    url: str,
    data_dir: Path,
    workers: int,
    database_pid: int | None = None,
) -> Round:
    """One timed round of the node; ``database_pid``: PostgreSQL's server, whose CPU over the
    round is counted apart."""
    await prepare(url, [(address, code) for address, code in agents(len(workload))])
    port = free_port()
    command = [
        sys.executable, "-m", "gateway", "serve", "--demo", "--data-dir", str(data_dir),
        "--smtp-port", str(port), "--pop3-port", "0", "--imap-port", "0",
        "--smtps-port", "off", "--pop3s-port", "off", "--imaps-port", "off",
        "--http-port", "0", "--pipeline-workers", str(workers),
    ]  # fmt: skip
    env = {**os.environ, "TELEDISPATCH_DATABASE_URL": url}
    node = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    store = await Store.open(url, clock=SystemClock(), hasher=FAST_HASHER, migrate=False)
    try:
        await wait_listening(port)
        warm = sum(len(batch) for batch in warm_up.values())
        await send_all(port, warm_up)
        await answered(store, node, warm)
        total = sum(len(batch) for batch in workload.values())
        cpu_before = tree_cpu(node.pid)
        database_before = tree_cpu(database_pid) if database_pid is not None else None
        start = time.perf_counter()
        await send_all(port, workload)
        submitted = time.perf_counter()
        await answered(store, node, warm + total)
        end = time.perf_counter()
        elapsed = end - start
        cpu = cpu_per_item(cpu_before, tree_cpu(node.pid), total)
        database_ms = None
        if database_pid is not None and database_before is not None:
            database_ms = cpu_per_item(database_before, tree_cpu(database_pid), total).cpu_ms
        if (got := await accepted(store)) != warm + total:
            raise SystemExit(f"only {got} of {warm + total} declarations were accepted")
        return Round(total / elapsed, cpu.cpu_ms, cpu.own_ms, (end - submitted) * 1000, database_ms)
    finally:
        await store.close()
        node.terminate()
        await node.wait()


def serve_sink(port: int) -> None:
    """The baseline server: aiosmtpd requiring AUTH, answering 250 and keeping nothing."""
    from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

    class Sink:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            return "250 OK"

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        return AuthResult(success=ok)

    def protocol() -> SMTP:
        return SMTP(
            Sink(),
            hostname="sink.bench",
            decode_data=False,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=False,
        )

    async def run() -> None:
        server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


async def sink_round(workload: Workload, warm_up: Workload) -> Round:
    port = free_port()
    sink = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve-sink", str(port),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await wait_listening(port)
        await send_all(port, warm_up)
        total = sum(len(batch) for batch in workload.values())
        cpu_before = tree_cpu(sink.pid)
        start = time.perf_counter()
        await send_all(port, workload)
        elapsed = time.perf_counter() - start
        cpu = cpu_per_item(cpu_before, tree_cpu(sink.pid), total)
        return Round(total / elapsed, cpu.cpu_ms, cpu.own_ms)
    finally:
        sink.terminate()
        await sink.wait()


def postgres() -> Any:
    """A throwaway PostgreSQL server (as the tests start one), or None without its binaries."""
    from tests.postgres import PostgresServer, _binaries

    if _binaries() is None:
        return None
    return PostgresServer.start()


def postmaster(server: Any) -> int:
    """The process id of ``server``'s postmaster: its backends are its children."""
    return int((server.datadir / "postmaster.pid").read_text().split()[0])


def best(rounds: list[Round]) -> Round:
    """The fastest round's rate and drain, and the CPU of the round that used least."""
    frugal = min(rounds, key=lambda r: r.cpu_ms)
    fastest = max(rounds, key=lambda r: r.per_second)
    return Round(
        fastest.per_second, frugal.cpu_ms, frugal.own_ms, fastest.drain_ms, frugal.database_ms
    )


async def main_async(args: Any) -> None:
    run = f"{int(time.time())}"
    workload = {
        address: mails(address, code, args.per_agent, args.series, run)
        for address, code in agents(args.agents)
    }
    warm_up = {
        address: mails(address, code, args.warm_up, args.series, f"W{run}")
        for address, code in agents(args.agents)
    }
    total = args.agents * args.per_agent
    server = None if args.sqlite_only else postgres()
    backends = ["sqlite"] + (["postgresql"] if server is not None else [])
    node: dict[tuple[str, int], list[Round]] = {}
    sink: list[Round] = []
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(args.rounds):
            for backend in backends:
                for workers in (1, 2):
                    sink.append(
                        await sink_round(workload, warm_up)
                    )  # alternate: sink, node, sink...
                    data_dir = Path(scratch) / f"{backend}-{workers}-{attempt}"
                    data_dir.mkdir()
                    url = (
                        f"sqlite+aiosqlite:///{data_dir / 'teledespacho.db'}"
                        if server is None or backend == "sqlite"
                        else await server.create_database()
                    )
                    database = postmaster(server) if backend == "postgresql" else None
                    result = await node_round(
                        workload, warm_up, url, data_dir, workers, database_pid=database
                    )
                    node.setdefault((backend, workers), []).append(result)
    if server is not None:
        server.stop()

    baseline = best(sink)
    print(f"{args.agents} agents x {args.per_agent} DUAs ({args.series} series each) = {total}")
    print(
        f"cores: {len(os.sched_getaffinity(0))}; best of {args.rounds} alternating rounds;"
        f" {args.warm_up} mails per agent first, untimed"
    )
    print(
        f"aiosmtpd sink (AUTH, 250, discard): {baseline.per_second:8.1f} messages/s"
        f"  {baseline.cpu_ms:6.2f} ms CPU per message"
    )
    for (backend, workers), rounds in node.items():
        mine = best(rounds)
        database = (
            f"; PostgreSQL's server {mine.database_ms:.2f} besides"
            if mine.database_ms is not None
            else ""
        )
        print(
            f"teledespacho {backend:10} {workers} worker{'s' if workers > 1 else ' '}:"
            f" {mine.per_second:8.1f} declarations/s  {mine.cpu_ms:6.2f} ms CPU per declaration"
            f" ({mine.own_ms:.2f} in the node's process{database})"
            f"  last reply {mine.drain_ms:.0f} ms after the last submission"
            f"  ratio {mine.per_second / baseline.per_second:.2f}"
        )
    top = max(best(rounds).per_second for rounds in node.values())
    print(f"ratio: {top / baseline.per_second:.2f}")


def main() -> None:
    # aiosmtpd warns on every connection about AUTH without TLS (deliberate here, see
    # gateway.smtp.server) and about its own deprecated session attribute.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--per-agent", type=int, default=100)
    parser.add_argument("--series", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--warm-up",
        type=int,
        default=10,
        metavar="N",
        help="mails each agent sends, untimed, before the timed ones (0: time a cold server)",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--serve-sink", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sink is not None:
        serve_sink(args.serve_sink)
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
