"""The IMAP listener: pymap's connection handling on our own asyncio server.

pymap's ``IMAPService`` and ``pymap.main`` own their sockets, signals and lifetime; a node
owns those itself, so this module repeats only their start sequence (backend start, then one
``IMAPServer`` callback per connection) and keeps track of the live connections, which an
IDLE client holds open for as long as it likes: ``aclose`` ends them with
``BYE [UNAVAILABLE]`` instead of leaving them to a store that is being closed.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from uuid import uuid4

from proxyprotocol.result import ProxyResultLocal
from proxyprotocol.sock import SocketInfo
from pymap.imap import IMAPServer

from gateway.imap.backend import Backend, Config
from gateway.logins import LoginChecks
from mailboxes.store import Store

__all__ = ["ImapServer", "start_imap_server"]

log = logging.getLogger(__name__)


class ImapServer:
    """Serves IMAP on the store; owns the backend and the live connections."""

    def __init__(
        self,
        store: Store,
        *,
        greeting_name: str,
        share_departments: bool = False,
        idle_poll: float = 5.0,
        max_message_size: int = 20 * 1024 * 1024,
        logins: LoginChecks | None = None,
    ) -> None:
        self.config = Config.build(
            host="",
            port=0,
            greeting_name=greeting_name,
            share_departments=share_departments,
            idle_poll=idle_poll,
            max_append_len=max_message_size,  # APPEND takes no more than SMTP does
        )
        self.backend = Backend.for_store(store, self.config, logins=logins)
        self._imap = IMAPServer(self.backend.login, self.config)
        self._stack = AsyncExitStack()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def start(self, *, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port`` (port 0: any free port) in the running loop."""
        await self.backend.start(self._stack)
        try:
            self._server = await asyncio.start_server(self._handle, host=host, port=port)
        except BaseException:
            await self._stack.aclose()
            raise
        return self._server

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Stop listening and end every session; stragglers are cut off after ``grace``."""
        if self._server is not None:
            self._server.close()
        connections = set(self._connections)
        for task in connections:
            task.cancel()  # pymap answers a cancelled read or IDLE with BYE [UNAVAILABLE]
        if connections:
            _, pending = await asyncio.wait(connections, timeout=grace)
            if pending:
                log.warning("IMAP: %d session(s) did not end in %.1f s", len(pending), grace)
        await self._stack.aclose()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None:  # asyncio runs every stream callback in a task of its own
            raise RuntimeError("IMAP connection handler called outside a task")
        self._connections.add(task)
        sock_info = SocketInfo.get(writer, ProxyResultLocal(), unique_id=uuid4().bytes)
        try:
            await self._imap(reader, writer, sock_info)
        except asyncio.CancelledError:
            # Only aclose() cancels a session; re-raising would make asyncio's stream
            # callback log it as an unhandled error.
            log.info("IMAP session cancelled at shutdown")
        except Exception:
            log.exception("IMAP session failed")
        finally:
            self._connections.discard(task)
            writer.close()


async def start_imap_server(
    store: Store,
    *,
    host: str,
    port: int,
    greeting_name: str,
    share_departments: bool = False,
) -> asyncio.Server:
    """Start serving IMAP in the running loop; the caller closes the returned server.

    Use ``ImapServer`` directly to also end open sessions at shutdown (``aclose``).
    """
    server = ImapServer(store, greeting_name=greeting_name, share_departments=share_departments)
    return await server.start(host=host, port=port)
