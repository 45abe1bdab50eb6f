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
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib

SENDER, RECIPIENT, PASSWORD = "agente1@agencias.pe", "agente2@agencias.pe", "demo"
BODY = ("Linea de declaracion " * 3 + "\r\n") * 64  # ~4 KB


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        async with smtp:
            if login:
                await smtp.login(SENDER, PASSWORD)
            for n in range(messages):
                await smtp.sendmail(SENDER, [RECIPIENT], message(index * messages + n))

    started = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    return clients * messages / (time.perf_counter() - started)


async def measure(command: list[str], port: int, clients: int, messages: int, login: bool) -> float:
    server = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await wait_listening(port)
        return await drive(port, clients, messages, login=login)
    finally:
        server.terminate()
        await server.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        results: dict[str, float] = {"node": 0.0, "sink": 0.0}
        for attempt in range(2):  # alternate, keep each one's best
            node_port, sink_port = free_port(), free_port()
            node = [
                sys.executable, "-m", "gateway", "serve", "--demo",
                "--data-dir", str(Path(scratch) / f"node{attempt}"),
                "--smtp-port", str(node_port), "--pop3-port", str(free_port()),
                "--imap-port", str(free_port()),
            ]  # fmt: skip
            sink = [
                sys.executable, "-m", "aiosmtpd", "-n",
                "-l", f"127.0.0.1:{sink_port}", "-c", "aiosmtpd.handlers.Sink",
            ]  # fmt: skip
            rate = await measure(sink, sink_port, args.clients, args.messages, login=False)
            results["sink"] = max(results["sink"], rate)
            rate = await measure(node, node_port, args.clients, args.messages, login=True)
            results["node"] = max(results["node"], rate)

    total = args.clients * args.messages
    print(f"{args.clients} clients x {args.messages} messages of {len(message(0))} bytes ({total})")
    print(f"cores: {os.cpu_count()}")
    print(f"bare aiosmtpd sink:        {results['sink']:8.1f} messages/s")
    print(f"node (durable, AUTH, store): {results['node']:6.1f} messages/s")
    print(f"ratio: {results['node'] / results['sink']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
