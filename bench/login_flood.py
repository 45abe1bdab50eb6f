"""A legitimate client's login latency, with and without a password-guessing flood.

Starts a node (``teledispatch serve --demo``, production Argon2id costs) as its own process.
In alternating rounds, the legitimate client (127.0.0.1) times ``--logins`` fresh
connections each logging in with AUTH PLAIN, first with the node quiet, then while
``--guessers`` connections, each from its own loopback address and a new set each round,
guess passwords as fast as the node answers (``tests/gateway/logins/flood.py``, its own
process). The node's login cache is off unless ``--cache``: every legitimate login then
pays a full Argon2id check, the worst case. Not part of the test suite. The last line is
``ratio: X.XX``: median login latency under the flood divided by the quiet one.

    python bench/login_flood.py [--rounds 4] [--logins 10] [--guessers 100] [--cache]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import Ports, free_port, node_command

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "agente1@agencias.pe", "demo"


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


async def login(port: int) -> float:
    """Seconds from AUTH to its 235, on a fresh connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await reader.readline()
        writer.write(b"EHLO legitimo.example\r\n")
        while (await reader.readline()).startswith(b"250-"):
            pass
        blob = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())
        started = time.perf_counter()
        writer.write(b"AUTH PLAIN " + blob + b"\r\n")
        reply = await reader.readline()
        took = time.perf_counter() - started
        if not reply.startswith(b"235"):
            raise RuntimeError(f"login refused: {reply!r}")
        return took
    finally:
        writer.close()
        await writer.wait_closed()


async def logins(port: int, count: int) -> float:
    return statistics.median([await login(port) for _ in range(count)])


async def flooded(port: int, guessers: int, first: int, count: int) -> float:
    flood = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.gateway.logins.flood", str(port),
        "--connections", str(guessers), "--first", str(first),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert flood.stdout is not None
        async with asyncio.timeout(120):
            await flood.stdout.readline()  # "flooding": every guesser has had an answer
        return await logins(port, count)
    finally:
        flood.terminate()
        await flood.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--logins", type=int, default=10)
    parser.add_argument("--guessers", type=int, default=100)
    parser.add_argument("--cache", action="store_true", help="leave the login cache on")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        ports = Ports(imap=free_port(), pop3=free_port(), smtp=port)
        command = node_command(Path(scratch), ports, "--demo")
        if not args.cache:
            config = Path(scratch) / "node.toml"
            config.write_text("[logins]\ncache_size = 0\n")
            command += ["--config", str(config)]
        node = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await wait_listening(port)
            await login(port)  # warm up
            quiet: list[float] = []
            loaded: list[float] = []
            for n in range(args.rounds):  # alternate: quiet, then flooded
                quiet.append(await logins(port, args.logins))
                loaded.append(await flooded(port, args.guessers, n * args.guessers, args.logins))
                calm, busy = quiet[-1] * 1000, loaded[-1] * 1000
                print(f"round {n + 1}: quiet {calm:7.1f} ms  flood {busy:7.1f} ms")
        finally:
            node.terminate()
            await node.wait()

    print(f"{args.guessers} guessers, {args.logins} logins per phase, cores: {os.cpu_count()}")
    print(f"login cache: {'on' if args.cache else 'off (every login pays Argon2id)'}")
    print(f"median login without flood {statistics.median(quiet) * 1000:7.1f} ms")
    print(f"median login under flood   {statistics.median(loaded) * 1000:7.1f} ms")
    print(f"ratio: {statistics.median(loaded) / statistics.median(quiet):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
