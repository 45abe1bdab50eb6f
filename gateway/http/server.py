"""uvicorn serving the application inside the node's own event loop (a task of the node).

One application, one or two listeners: plain HTTP on ``http_port`` and, when configured,
HTTPS on ``https_port`` with the SSL context the mail ports use (the same certificate, so a
client that trusts the node's CA for IMAPS trusts the console too). uvicorn takes one SSL
setting per server, so each listener is its own ``uvicorn.Server`` over the shared app:
sessions, CSRF tokens and live feeds are the same whichever port a browser uses.

The TLS port runs its handshakes itself (``gateway.tls.handshake``), as the mail ports do:
each connection is counted from its first packet and has ``http_request_timeout`` to finish
its handshake. A client that speaks plain HTTP to it fails the handshake before uvicorn
sees a connection: it is closed, and the failures are told one line per ten seconds, never
a traceback per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import uvicorn
from fastapi import FastAPI

from gateway.http.app import create_app
from gateway.http.connections import HttpConnectionRules, LimitedH11Protocol
from gateway.http.context import HttpContext
from gateway.limits import RateLimitedLog
from gateway.tls.handshake import TlsHandshake, TlsHandshakes

__all__ = ["HttpListenError", "HttpServer"]

log = logging.getLogger(__name__)


class _InvalidRequestsOncePerInterval(logging.Filter):
    """uvicorn says "Invalid HTTP request received." at ``WARNING`` for every request it
    cannot read (and answers it ``400``): a client sending garbage on connection after
    connection wrote a line to the log each time. One such line passes per ``interval``
    seconds, saying how many were held back since the last, as refusals are told."""

    MESSAGE = "Invalid HTTP request received."

    def __init__(self, interval: float = 10.0) -> None:
        super().__init__()
        self._gate = RateLimitedLog(interval)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != self.MESSAGE:
            return True
        held = self._gate.due(time.monotonic())
        if held is None:
            return False
        if held:
            record.msg, record.args = "%s (%d more since the last such line)", (self.MESSAGE, held)
        return True


logging.getLogger("uvicorn.error").addFilter(_InvalidRequestsOncePerInterval())


class HttpListenError(Exception):
    """A listener cannot bind (busy port, address not here); the message is one line."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the node owns SIGTERM/SIGINT and stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Listener:
    """One uvicorn server on one socket bound here (a busy port is an ``OSError`` now)."""

    def __init__(
        self,
        app: FastAPI,
        host: str,
        port: int,
        tls_context: ssl.SSLContext | None,
        rules: HttpConnectionRules,
    ) -> None:
        # uvicorn calls its protocol "class" with keywords only; a partial carries the rules.
        protocol: Callable[..., asyncio.Protocol] = functools.partial(
            LimitedH11Protocol, rules=rules
        )
        if tls_context is not None:  # the handshake counted and timed like the mail ports'
            handshakes = TlsHandshakes("HTTPS", tls_context, rules.limits, rules.request_timeout)
            protocol = functools.partial(_after_handshake, protocol, handshakes)
        config = uvicorn.Config(
            app,
            http=cast("type[asyncio.Protocol]", protocol),
            lifespan="off",
            log_config=None,  # the node's logging, not uvicorn's own
            access_log=False,
            timeout_graceful_shutdown=2,  # live feeds never end on their own
            limit_concurrency=200,
            h11_max_incomplete_event_size=64 * 1024,
        )
        # uvicorn's own TLS (``config.ssl``) stays off: ``TlsHandshake`` runs it.
        config.load()
        self.server = _EmbeddedServer(config)
        self.socket = _listening_socket(host, port)
        self.task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.server.serve([self.socket]))

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
            self.task = None
        self.socket.close()


def _listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port``, made as TCP by name (``IPPROTO_TCP``).

    asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on a connection whose socket
    says TCP, and ``socket.create_server`` makes its socket with protocol 0, which the
    connections it accepts inherit. With Nagle on, every response on a kept-alive connection
    after the first waited 40 ms for the client's delayed acknowledgement, since uvicorn
    writes a response's head and body apart. (Upstream, asyncio's ``_set_nodelay`` would
    take protocol 0 for a stream socket of an internet family as TCP.)
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


def _after_handshake(
    protocol: Callable[..., asyncio.Protocol], handshakes: TlsHandshakes, **uvicorn_args: Any
) -> asyncio.Protocol:
    """What uvicorn's listener makes for each HTTPS connection: the TLS handshake, then
    uvicorn's protocol (made with uvicorn's arguments) on the TLS transport."""
    return TlsHandshake(lambda: protocol(**uvicorn_args), handshakes)


class HttpServer:
    def __init__(
        self,
        context: HttpContext,
        *,
        host: str,
        port: int,
        rules: HttpConnectionRules,
        https_port: int | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if https_port is not None and tls_context is None:
            raise ValueError("an HTTPS port needs the node's TLS context")
        self._rules = rules
        self._host = host
        self._ports = (port, https_port)
        self._tls_context = tls_context
        self._context = context
        self._app = create_app(context)
        self._plain: _Listener | None = None
        self._tls: _Listener | None = None

    @property
    def port(self) -> int:
        assert self._plain is not None
        return self._plain.port

    @property
    def https_port(self) -> int | None:
        """The HTTPS listener's port, ``None`` when HTTPS is off."""
        return self._tls.port if self._tls is not None else None

    async def start(self) -> None:
        """Bind every listener first, so a busy port is an ``OSError`` before any serves."""
        port, https_port = self._ports
        self._plain = await self._bind("HTTP", port, None)
        if https_port is not None:
            self._tls = await self._bind("HTTPS", https_port, self._tls_context)
        self._plain.start()
        if self._tls is not None:
            self._tls.start()

    async def _bind(self, name: str, port: int, tls: ssl.SSLContext | None) -> _Listener:
        try:
            return _Listener(self._app, self._host, port, tls, self._rules)
        except OSError as exc:
            await self.stop()
            where = f"{self._host}:{port}"
            raise HttpListenError(
                f"cannot listen for {name} on {where}: {exc.strerror or exc}"
            ) from exc

    async def stop(self) -> None:
        listeners = [listener for listener in (self._plain, self._tls) if listener is not None]
        if not listeners:
            return
        for listener in listeners:
            listener.server.should_exit = True
        self._context.close_feeds()
        for listener in listeners:
            await listener.stop()
        self._plain = self._tls = None
