"""The IMAP listener: pymap's connection handling on our own asyncio server.

pymap's ``IMAPService`` and ``pymap.main`` own their sockets, signals and lifetime; a node
owns those itself, so this module repeats only their start sequence (backend start, then one
connection object per client) and keeps track of the live connections, which an IDLE client
holds open until its idle timeout: ``aclose`` ends them with ``BYE [UNAVAILABLE]`` instead of
leaving them to a store that is being closed.

Each connection has its sizes and times bounded (``gateway.imap.connection``), takes the
commands pymap lacks (``gateway.imap.extensions``) and is counted in the node's
``ConnectionLimits``: over the cap, the greeting is ``* BYE [UNAVAILABLE]`` and the connection
is closed. With a TLS context STARTTLS is offered, and ``start_implicit_tls`` opens a port
that is TLS from the first byte (RFC 8314).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from contextlib import AsyncExitStack, closing
from dataclasses import replace
from typing import Any
from uuid import uuid4

from proxyprotocol.sock import SocketInfoLocal
from pymap.context import connection_exit

from gateway.allowance import SubmissionAllowance
from gateway.imap import extensions
from gateway.imap.backend import Backend, Config
from gateway.imap.connection import BoundedConnection, Bounds
from gateway.limits import ConnectionLimits, peer_address, say_and_close
from gateway.logins import LoginChecks
from gateway.tls.handshake import TlsHandshakes, start_tls_server
from mailboxes.store import Store

__all__ = ["ImapServer", "start_imap_server"]

log = logging.getLogger(__name__)


class _SocketInfo(SocketInfoLocal):
    """pymap lets any loopback peer log in before TLS; here only the settings decide."""

    @property
    def from_localhost(self) -> bool:
        return False


class _Connection(extensions.Connection, BoundedConnection):
    """A bounded connection that also takes an AUTHENTICATE initial response (SASL-IR)."""


class ImapServer:
    """Serves IMAP on the store; owns the backend and the live connections.

    ``auth_requires_tls`` keeps LOGIN and AUTHENTICATE for after STARTTLS (``LOGINDISABLED``
    before). ``fast_fetch=False`` sends every FETCH through pymap's own parser and renderer
    (``gateway.imap.fast_fetch``; the tests compare the two).
    """

    def __init__(
        self,
        store: Store,
        *,
        greeting_name: str,
        share_departments: bool = False,
        idle_poll: float = 5.0,
        max_message_size: int = 20 * 1024 * 1024,
        bounds: Bounds | None = None,
        limits: ConnectionLimits | None = None,
        tls_context: ssl.SSLContext | None = None,
        auth_requires_tls: bool = False,
        logins: LoginChecks | None = None,
        fast_fetch: bool = True,
        allowance: SubmissionAllowance | None = None,
    ) -> None:
        """``allowance``: the bytes each account may add in a day, shared with SMTP and the
        API (``gateway.allowance``); an APPEND counts against its mailbox's owner."""
        common: dict[str, Any] = {
            "host": "",
            "port": 0,
            "greeting_name": greeting_name,
            "share_departments": share_departments,
            "idle_poll": idle_poll,
            "max_append_len": max_message_size,  # APPEND takes no more than SMTP does
            "ssl_context": tls_context,
        }
        self.config = Config.build(
            tls=tls_context is not None, login_before_tls=not auth_requires_tls, **common
        )
        self._implicit_config = Config.build(tls=False, login_before_tls=True, **common)
        self.backend = Backend.for_store(store, self.config, logins=logins, allowance=allowance)
        self.bounds = replace(
            bounds or Bounds(), literal_after_login=max_message_size, store_retry=idle_poll
        )
        self.limits = limits
        self.fast_fetch = fast_fetch
        self._tls_context = tls_context
        self._stack = AsyncExitStack()
        self._server: asyncio.Server | None = None
        self._implicit_server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def start(self, *, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port`` (port 0: any free port) in the running loop."""
        await self.backend.start(self._stack)
        try:
            handle = functools.partial(self._handle, self.config)
            self._server = await asyncio.start_server(handle, host=host, port=port)
        except BaseException:
            await self._stack.aclose()
            raise
        return self._server

    async def start_implicit_tls(self, *, host: str, port: int) -> asyncio.Server:
        """Also listen where the connection is TLS from the start (after ``start``)."""
        if self._tls_context is None or self._server is None:
            raise RuntimeError("implicit TLS needs a TLS context and a started server")
        handle = functools.partial(self._handle, self._implicit_config)
        handshakes = TlsHandshakes(
            "IMAPS", self._tls_context, self.limits, self.bounds.login_timeout
        )
        self._implicit_server = await start_tls_server(handle, handshakes, host=host, port=port)
        return self._implicit_server

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Stop listening and end every session; stragglers are cut off after ``grace``."""
        servers = [s for s in (self._server, self._implicit_server) if s is not None]
        for server in servers:
            server.close()
        connections = set(self._connections)
        for task in connections:
            task.cancel()  # pymap answers a cancelled read or IDLE with BYE [UNAVAILABLE]
        if connections:
            _, pending = await asyncio.wait(connections, timeout=grace)
            if pending:
                log.warning("IMAP: %d session(s) did not end in %.1f s", len(pending), grace)
        await self._stack.aclose()
        for server in servers:
            await server.wait_closed()
        self._server = self._implicit_server = None

    async def _handle(
        self, config: Config, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is None:  # asyncio runs every stream callback in a task of its own
            raise RuntimeError("IMAP connection handler called outside a task")
        address = peer_address(writer.get_extra_info("peername"))
        if self.limits is not None:
            refusal = self.limits.admit(address)
            if refusal is not None:
                self.limits.log_refusal("IMAP", address, refusal, asyncio.get_running_loop().time())
                await say_and_close(
                    writer,
                    b"* BYE [UNAVAILABLE] %s, try again later.\r\n"
                    % (refusal.value.capitalize().encode()),
                )
                return
        self._connections.add(task)
        try:
            await self._serve(config, reader, writer)
        except asyncio.CancelledError:
            # Only aclose() cancels a session; re-raising would make asyncio's stream
            # callback log it as an unhandled error.
            log.info("IMAP session cancelled at shutdown")
        except Exception:
            log.exception("IMAP session failed")
        finally:
            self._connections.discard(task)
            if self.limits is not None:
                self.limits.release(address)
            writer.close()

    async def _serve(
        self, config: Config, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """pymap's ``IMAPServer.__call__``, with our connection and connection state."""
        sock_info = _SocketInfo(writer, unique_id=uuid4().bytes)
        conn = _Connection(
            config.commands,
            config,
            reader,
            writer,
            sock_info,
            self.bounds,
            fast_fetch=self.fast_fetch,
        )
        state = extensions.State(self.backend.login, config)
        async with AsyncExitStack() as stack:
            connection_exit.set(stack)
            stack.enter_context(closing(conn))
            await conn.run(state)


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
