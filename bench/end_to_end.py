"""Benchmark (not a test): accepted declarations per second, SMTP submission to reply committed.

Starts a node in process on free loopback ports (fast password hashing, SQLite in a temporary
directory, the pipeline worker running), creates ``--agents`` agent accounts, and has each agent
submit ``--per-agent`` valid DUAs over its own SMTP connection, all agents at once. The clock
stops when the last reply is committed (every intake job done).

The baseline is a bare aiosmtpd sink (aiosmtpd's ``SMTP`` with a handler that answers 250 and
keeps nothing), served from the same event loop and fed by the same clients with the same
mails in the same run. The last line is ``ratio: X.XX``: our accepted declarations per second
divided by the messages per second the sink takes.

    python bench/end_to_end.py [--agents 8] [--per-agent 25] [--series 2]
"""

from __future__ import annotations

import argparse
import asyncio
import email.policy
import logging
import tempfile
import time
import warnings
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from config.clock import SystemClock
from config.settings import Settings
from edi_formats.codec import WireFormat, render_declaration
from gateway.node import Node
from mailboxes.passwords import PasswordHasher
from mailboxes.schema import DeclarationRow, DeclarationStatus, IntakeJobRow, JobState
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


async def client(port: int, address: str, batch: list[bytes], *, login: bool) -> None:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=60)
    await smtp.connect()
    if login:
        await smtp.login(address, PASSWORD)
    for raw in batch:
        await smtp.sendmail(address, [OFFICE], raw)
    await smtp.quit()


async def count_done(store: Store) -> int:
    async with store.database.read_session() as session:
        done = await session.scalar(
            select(func.count(IntakeJobRow.id)).where(IntakeJobRow.state == JobState.DONE.value)
        )
        return int(done or 0)


async def count_accepted(store: Store) -> int:
    async with store.database.read_session() as session:
        accepted = await session.scalar(
            select(func.count(DeclarationRow.id)).where(
                DeclarationRow.status == DeclarationStatus.ACCEPTED.value
            )
        )
        return int(accepted or 0)


async def measure_node(workload: dict[str, list[bytes]], data_dir: Path) -> float:
    settings = Settings(
        data_dir=data_dir,
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        smtps_port=None,
        pop3s_port=None,
        imaps_port=None,
        host_all_offices=True,
    )
    node = Node(settings, clock=SystemClock(), hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        store = node.store
        assert store is not None
        for number, (address, code) in enumerate(agents(len(workload)), start=1):
            assert address in workload, number
            await store.create_account(address, PASSWORD, role="agent", agent_code=code)
        total = sum(len(batch) for batch in workload.values())
        port = node.port("smtp")
        committed = asyncio.Event()
        unsubscribe = store.subscribe(lambda change: committed.set())
        start = time.perf_counter()
        await asyncio.gather(
            *(client(port, address, batch, login=True) for address, batch in workload.items())
        )
        while await count_done(store) < total:
            await committed.wait()
            committed.clear()
        elapsed = time.perf_counter() - start
        unsubscribe()
        accepted = await count_accepted(store)
        if accepted != total:
            raise SystemExit(f"only {accepted} of {total} declarations were accepted")
        return total / elapsed
    finally:
        await node.stop()


class SinkHandler:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


async def measure_sink(workload: dict[str, list[bytes]]) -> float:
    def protocol() -> SMTP:
        return SMTP(SinkHandler(), hostname="sink.bench", decode_data=False)

    server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        total = sum(len(batch) for batch in workload.values())
        start = time.perf_counter()
        await asyncio.gather(
            *(client(port, address, batch, login=False) for address, batch in workload.items())
        )
        return total / (time.perf_counter() - start)
    finally:
        server.close()
        await server.wait_closed()


async def main_async(args: Any) -> None:
    run = f"{int(time.time())}"
    workload = {
        address: mails(address, code, args.per_agent, args.series, run)
        for address, code in agents(args.agents)
    }
    total = args.agents * args.per_agent
    with tempfile.TemporaryDirectory() as scratch:
        ours = await measure_node(workload, Path(scratch) / "node")
    baseline = await measure_sink(workload)
    print(f"{args.agents} agents x {args.per_agent} DUAs ({args.series} series each) = {total}")
    print(f"teledespacho: {ours:,.1f} accepted declarations/s (submission to reply committed)")
    print(f"aiosmtpd sink: {baseline:,.1f} messages/s (250 and discard)")
    print(f"ratio: {ours / baseline:.2f}")


def main() -> None:
    # aiosmtpd warns on every connection about AUTH without TLS (deliberate here, see
    # gateway.smtp.server) and about its own deprecated session attribute.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--per-agent", type=int, default=25)
    parser.add_argument("--series", type=int, default=2)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
