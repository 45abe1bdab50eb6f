"""HTTP connections held to the mail ports' limits: counted per address, and given a time to
send each request.

uvicorn counts connections only to answer ``503`` past ``limit_concurrency``, and gives a
connection no time limit until a first response is complete: one client that opened 250
connections and sent half a request line on each made the console and the API answer
``503`` to everyone, for as long as it kept them. Here each connection is admitted by the
node's ``ConnectionLimits`` (the ones SMTP, POP3 and IMAP share, so one address cannot hold
more than ``max_connections_per_address`` of all of them; one over is answered ``503`` and
closed before anything is read), and must send each request whole, headers and body, within
``request_timeout`` of its first byte (or of the connection, for the first): otherwise it is
answered ``408 Request Timeout`` and closed, as Apache's ``RequestReadTimeout`` does.
Between requests uvicorn's own keep-alive timeout closes an idle connection; a request read
whole is never hurried (a live feed lasts as long as its reader).

The protocol is uvicorn's h11 one, extended at the asyncio protocol's own methods
(``connection_made``, ``data_received``, ``connection_lost``); h11 says where the request
stands.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.limits import ConnectionLimits, peer_address

__all__ = [
    "REQUEST_TIMEOUT",
    "TOO_MANY",
    "HttpConnectionRules",
    "LimitedH11Protocol",
    "request_incomplete",
]

log = logging.getLogger(__name__)


def _closing_response(status: int, reason: str, text: str, *headers: str) -> bytes:
    """A whole response for a connection about to close, whatever the client asked."""
    body = text.encode() + b"\n"
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *headers,
    ]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


REQUEST_TIMEOUT: Final = _closing_response(
    408, "Request Timeout", "The request took too long to arrive."
)
"""What a client too slow to send its request reads before the close (RFC 9110 §15.5.9).
Written as bytes, as is ``TOO_MANY``: h11 sends a response only to a request it has read."""
TOO_MANY: Final = _closing_response(
    503, "Service Unavailable", "Too many connections from your address.", "Retry-After: 10"
)
"""What a connection over the limits reads before the close: a browser shows it."""


@dataclass(frozen=True, slots=True)
class HttpConnectionRules:
    """What every HTTP connection of the node is held to."""

    limits: ConnectionLimits
    """The node's connection counts, shared with SMTP, POP3 and IMAP."""
    request_timeout: float
    """Seconds from a request's first byte (a connection's opening, for the first) until
    the whole request, body included, has arrived."""


def request_incomplete(conn: h11.Connection) -> bool:
    """Whether the client has begun a request and not finished sending it: its body, or its
    headers (bytes waiting in h11's buffer, looked at only then: reading them copies it)."""
    state = conn.their_state
    return state is h11.SEND_BODY or (state is h11.IDLE and bool(conn.trailing_data[0]))


class LimitedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the node's connection limits and request timeout."""

    def __init__(self, *args: Any, rules: HttpConnectionRules, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rules = rules
        self._address: str | None = None
        self._request_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        address = peer_address(transport.get_extra_info("peername"))
        refusal = self._rules.limits.admit(address)
        if refusal is not None:
            self._rules.limits.log_refusal("HTTP", address, refusal, self.loop.time())
            transport.write(TOO_MANY)  # before its request: it is not read at all
            transport.close()
            return
        self._address = address
        super().connection_made(transport)
        self._arm()  # the first request counts from the connection

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if request_incomplete(self.conn):
            if self._request_due is None:
                self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._address is None:
            return  # refused in connection_made: uvicorn never saw it
        self._rules.limits.release(self._address)
        self._address = None
        super().connection_lost(exc)

    def _should_upgrade(self) -> bool:
        # The node serves no WebSocket and no other upgrade: the header is ignored (RFC 9110
        # §7.8 lets a server). uvicorn would otherwise hand the connection to a WebSocket
        # protocol, whose end this class would never see (its count never released), or,
        # without one, log two warnings per request a client chooses to send.
        return False

    def _arm(self) -> None:
        self._request_due = self.loop.call_later(self._rules.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._request_due is not None:
            self._request_due.cancel()
            self._request_due = None

    def _too_slow(self) -> None:
        self._request_due = None
        if self.transport.is_closing():
            return
        log.info(
            "HTTP %s: no whole request in %.0f s, closing",
            self._address,
            self._rules.request_timeout,
        )
        if self.conn.our_state is h11.IDLE or self.conn.our_state is h11.SEND_RESPONSE:
            self.transport.write(REQUEST_TIMEOUT)  # no response was begun
        self.transport.close()
