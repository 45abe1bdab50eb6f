"""Small scripted servers on loopback, standing for outside mailboxes that misbehave."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = ["Script", "fake_server", "imap_logged_in", "next_tag", "trickling_imap"]

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def fake_server(script: Script) -> AsyncIterator[int]:
    """A server on a free loopback port running ``script`` for each connection."""
    sessions: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sessions.add(task := asyncio.current_task())  # type: ignore[arg-type]
        try:
            await script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            sessions.discard(task)  # type: ignore[arg-type]
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for session in list(sessions):
            session.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        await server.wait_closed()


async def imap_logged_in(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Greet, answer CAPABILITY and LOGIN as a server would."""
    writer.write(b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n")
    while True:
        tag, _, command = (await reader.readline()).decode().partition(" ")
        if command.upper().startswith("CAPABILITY"):
            writer.write(b"* CAPABILITY IMAP4rev1\r\n%s OK done\r\n" % tag.encode())
        elif command.upper().startswith("LOGIN"):
            writer.write(b"%s OK logged in\r\n" % tag.encode())
            return


async def next_tag(reader: asyncio.StreamReader) -> bytes:
    return (await reader.readline()).split(b" ", 1)[0]


async def trickling_imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Logs in, then answers SELECT with a line every tenth of a second, for ever."""
    await imap_logged_in(reader, writer)
    await next_tag(reader)  # SELECT
    while True:
        writer.write(b"* OK still looking\r\n")
        await writer.drain()
        await asyncio.sleep(0.1)
