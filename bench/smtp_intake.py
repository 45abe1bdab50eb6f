"""SMTP intake throughput: the node (durable commits) against a bare aiosmtpd sink.

N concurrent authenticated clients each send M messages of about 4 KB to a local mailbox.
Both servers run as their own processes and are driven by the same client code in the
same run; the last line is ``ratio: X.XX`` (node ÷ sink). Not part of the test suite.

    python bench/smtp_intake.py [--clients 20] [--messages 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib
from baseline import Ports, free_port, node_command

SENDER, RECIPIENT, PASSWORD = "agente1@agencias.pe", "agente2@agencias.pe", "demo"
BODY = ("Linea de declaracion " * 3 + "\r\n") * 64  # ~4 KB


def message(n: int) -> bytes:
    return f"From: {SENDER}\r\nTo: {RECIPIENT}\r\nSubject: bench {n}\r\n\r\n{BODY}".encode()


async def wait_listening(port: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise TimeoutError(f"nothing listening on {port}")


async def drive(port: int, clients: int, messages: int, *, login: bool) -> float:
    """Send clients x messages; return messages per second."""

    async def one_client(index: int) -> None:
        # Plain SMTP, as the sink speaks it (and the 1997 clients did): no STARTTLS, which
        # aiosmtplib would otherwise start as soon as the node offers it.
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=60)
        async with smtp:
            if login:
                await smtp.login(SENDER, PASSWORD)
            for n in range(messages):
                await smtp.sendmail(SENDER, [RECIPIENT], message(index * messages + n))

    started = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    return clients * messages / (time.perf_counter() - started)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a live process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    command: list[str], port: int, clients: int, messages: int, login: bool
) -> tuple[float, float]:
    """Messages per second, and the server's CPU milliseconds per message while driven."""
    server = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await wait_listening(port)
        cpu_before = process_cpu(server.pid)
        rate = await drive(port, clients, messages, login=login)
        cpu_ms = (process_cpu(server.pid) - cpu_before) * 1000 / (clients * messages)
    finally:
        server.terminate()
        await server.wait()
    return rate, cpu_ms


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        results: dict[str, float] = {"node": 0.0, "sink": 0.0}
        cpu: dict[str, float] = {"node": float("inf"), "sink": float("inf")}
        for attempt in range(args.rounds):  # alternate, keep each one's best
            node_port, sink_port = free_port(), free_port()
            ports = Ports(imap=free_port(), pop3=free_port(), smtp=node_port)
            node = node_command(Path(scratch) / f"node{attempt}", ports, "--demo")
            sink = [
                sys.executable, "-m", "aiosmtpd", "-n",
                "-l", f"127.0.0.1:{sink_port}", "-c", "aiosmtpd.handlers.Sink",
            ]  # fmt: skip
            for name, command, port, login in (
                ("sink", sink, sink_port, False),
                ("node", node, node_port, True),
            ):
                rate, cpu_ms = await measure(command, port, args.clients, args.messages, login)
                results[name] = max(results[name], rate)
                cpu[name] = min(cpu[name], cpu_ms)

    total = args.clients * args.messages
    print(f"{args.clients} clients x {args.messages} messages of {len(message(0))} bytes ({total})")
    print(f"cores: {os.cpu_count()}")
    print(f"best of {args.rounds} alternating rounds; server CPU per message while driven")
    for name, label in (("sink", "bare aiosmtpd sink"), ("node", "node (AUTH, durable store)")):
        print(f"{label:28} {results[name]:7.1f} messages/s  {cpu[name]:.2f} ms CPU")
    print(f"ratio: {results['node'] / results['sink']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
