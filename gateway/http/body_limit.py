"""Request bodies bounded before the application reads them.

FastAPI reads a request's whole body, and parses it as JSON on the event loop, before it
asks who is calling: an unauthenticated ``PUT /api/admin/clock`` of 15 MB of JSON was held
in memory and parsed on the loop, and every session of the node (SMTP greetings included)
waited 1.1 s for its ``401``, as often as it was sent. Here a body is read before the
application sees it, at most ``limit`` bytes (64 KiB: the largest form or JSON any operation
takes is a few hundred bytes), and a longer one, announced or not, is answered ``413`` with
nothing parsed. A declaration (``POST /api/declarations``) is the one body that may be
large: its operation reads it itself (``api._bounded_body``, up to ``max_message_size``)
once the caller is known, so a stranger never has megabytes held here.

Pure ASGI, as ``SecurityHeaders``: the body read here is handed on as one message, and what
comes after (a disconnect, for the live feed) straight from the server.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.problems import problem_response

__all__ = ["BODY_LIMIT", "BodyLimit"]

BODY_LIMIT: Final = 64 * 1024

_READS_ITS_OWN: Final = frozenset({("POST", "/api/declarations")})
"""Operations that bound their body themselves (``api._bounded_body``)."""


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in _READS_ITS_OWN:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        first: Message | None = None
        while first is None:
            message = await receive()
            if message["type"] != "http.request":  # gone: the application hears it
                first = message
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        async def replay() -> Message:
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            f"el cuerpo de esta solicitud excede {self.limit} bytes",
            instance=scope["path"],
            field="body",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
