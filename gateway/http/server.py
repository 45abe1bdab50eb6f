"""uvicorn serving the application inside the node's own event loop (a task of the node)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn

from gateway.http.app import create_app
from gateway.http.context import HttpContext

__all__ = ["HttpServer"]

log = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the node owns SIGTERM/SIGINT and stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    def __init__(self, context: HttpContext, *, host: str, port: int) -> None:
        self._address = (host, port)
        config = uvicorn.Config(
            create_app(context),
            lifespan="off",
            log_config=None,  # the node's logging, not uvicorn's own
            access_log=False,
            timeout_graceful_shutdown=2,  # live feeds never end on their own
            limit_concurrency=200,
            h11_max_incomplete_event_size=64 * 1024,
        )
        self._context = context
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        assert self._socket is not None
        return int(self._socket.getsockname()[1])

    async def start(self) -> None:
        """Bind here, so a busy port is an ``OSError`` now, then serve in a task."""
        host, port = self._address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, port), family=family, backlog=128)
        self._task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[self._socket])
        )

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        self._context.close_feeds()
        with contextlib.suppress(Exception):
            await self._task
        self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
