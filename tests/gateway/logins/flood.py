"""A password-guessing flood against a node's SMTP port, run as its own process.

    python -m tests.gateway.logins.flood PORT [--connections 100] [--account agente2@agencias.pe]

Each connection comes from its own loopback address (127.1.0.1, 127.1.0.2, ...: many
guessers, not one; ``--first`` skips addresses a previous flood used) and sends AUTH PLAIN
with a wrong password again and again, reconnecting whenever the node closes; the node
answers each with 535, or 454 once it refuses to check.
Prints ``flooding`` when every connection has had a first answer, then runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys


def source(index: int) -> str:
    return f"127.{1 + index // 62500}.{index // 250 % 250}.{1 + index % 250}"


async def guess(port: int, index: int, account: str, answered: asyncio.Event) -> None:
    while True:
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source(index), 0)
            )
        except OSError:
            await asyncio.sleep(0.1)  # the node is busy or its connection cap is reached
            continue
        try:
            await reader.readline()
            writer.write(b"EHLO guesser.example\r\n")
            while (line := await reader.readline()).startswith(b"250-"):
                pass
            while line:
                user = account if secrets.randbelow(2) else f"x{secrets.token_hex(3)}@agencias.pe"
                blob = base64.b64encode(f"\0{user}\0{secrets.token_hex(6)}".encode())
                writer.write(b"AUTH PLAIN " + blob + b"\r\n")
                line = await reader.readline()
                answered.set()
        except OSError:
            pass
        finally:
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--account", default="agente2@agencias.pe")
    parser.add_argument("--first", type=int, default=0, help="index of the first address")
    args = parser.parse_args()
    answered = [asyncio.Event() for _ in range(args.connections)]
    tasks = [
        asyncio.create_task(guess(args.port, args.first + n, args.account, answered[n]))
        for n in range(args.connections)
    ]
    await asyncio.gather(*(event.wait() for event in answered))
    print("flooding", flush=True)
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
