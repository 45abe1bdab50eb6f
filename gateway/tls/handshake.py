"""Implicit-TLS listeners that count a connection from its first packet, not from the end of
its handshake.

asyncio's ``create_server(ssl=...)`` hands a connection to its protocol only once the TLS
handshake is over, and gives a handshake 60 seconds: until then no limit of the node saw
it. One client opening connections to IMAPS and never starting a handshake held 13 000 of
the node's 20 000 descriptors within two minutes, where ``max_connections`` (1 000) and
``max_connections_per_address`` (50) bound every other connection. Here the listener takes
plain TCP, counts the connection at once against the node's ``ConnectionLimits`` (one over
is reset: nothing can be said before TLS), and runs the handshake itself
(``loop.start_tls``) within ``timeout``. Once it is done, the service's own protocol gets
the connection as if asyncio had made it, and counts it in its turn (the handshake's count
is released first, so a connection counts once), answering a refusal in its own words.

``start_tls`` does not call ``connection_made``, and may deliver data the client sent with
its last handshake message before the caller has the TLS transport: ``_Relay`` holds what
comes before the service's protocol is connected and replays it in order.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from gateway.limits import ConnectionLimits, RateLimitedLog, peer_address

__all__ = ["TlsHandshake", "TlsHandshakes", "listen_tls", "start_tls_server"]

log = logging.getLogger(__name__)

_STREAM_LIMIT: Final = 2**16
"""``asyncio.start_server``'s buffer limit for a stream, kept."""


@dataclass(frozen=True, slots=True)
class TlsHandshakes:
    """What an implicit-TLS listener needs besides its service's protocol."""

    service: str
    """How log lines name the listener: ``IMAPS``, ``HTTPS``."""
    context: ssl.SSLContext
    limits: ConnectionLimits | None
    """The node's connection counts; None counts nothing (a server embedded alone)."""
    timeout: float
    """Seconds a client has, from connecting, to complete the handshake."""
    failures: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(10.0))
    """Failed handshakes, told one line per ten seconds: a client can fail them as fast as
    it connects."""


async def listen_tls(
    make_protocol: Callable[[], asyncio.Protocol],
    handshakes: TlsHandshakes,
    *,
    host: str,
    port: int,
) -> asyncio.Server:
    """``loop.create_server(make_protocol, host, port, ssl=...)``, with each connection
    counted from its first packet and its handshake timed."""
    return await asyncio.get_running_loop().create_server(
        lambda: TlsHandshake(make_protocol, handshakes), host=host, port=port
    )


async def start_tls_server(
    client_connected: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    handshakes: TlsHandshakes,
    *,
    host: str,
    port: int,
) -> asyncio.Server:
    """``asyncio.start_server(client_connected, host, port, ssl=...)``, with each connection
    counted from its first packet and its handshake timed."""

    def streams() -> asyncio.Protocol:
        reader = asyncio.StreamReader(limit=_STREAM_LIMIT)
        return asyncio.StreamReaderProtocol(reader, client_connected)

    return await listen_tls(streams, handshakes, host=host, port=port)


class TlsHandshake(asyncio.Protocol):
    """The raw TCP side of one connection: admits it, then runs its TLS handshake and hands
    the TLS transport to a protocol from ``make_protocol``. A protocol factory for servers
    that make their own listener (uvicorn); ``listen_tls`` for the others."""

    def __init__(self, make_protocol: Callable[[], asyncio.Protocol], rules: TlsHandshakes) -> None:
        self._make_protocol = make_protocol
        self._rules = rules
        self._address: str | None = None
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        address = peer_address(transport.get_extra_info("peername"))
        limits = self._rules.limits
        if limits is not None:
            refusal = limits.admit(address)
            if refusal is not None:
                limits.log_refusal(
                    self._rules.service, address, refusal, asyncio.get_running_loop().time()
                )
                transport.abort()
                return
        self._address = address
        transport.pause_reading()  # the ClientHello is for the TLS layer, not for us
        self._task = asyncio.get_running_loop().create_task(self._handshake(transport))

    def connection_lost(self, exc: Exception | None) -> None:
        # Before start_tls took the transport over: the handshake fails and releases.
        pass

    async def _handshake(self, transport: asyncio.Transport) -> None:
        relay = _Relay(self._make_protocol())
        try:
            tls = await asyncio.get_running_loop().start_tls(
                transport,
                relay,
                self._rules.context,
                server_side=True,
                ssl_handshake_timeout=self._rules.timeout,
            )
        except asyncio.CancelledError:  # the node stopped with the handshake under way
            transport.abort()
            raise
        except Exception as exc:  # too slow, reset, not TLS, no protocol in common
            held = self._rules.failures.due(asyncio.get_running_loop().time())
            if held is not None:
                log.info(
                    "%s %s: no TLS handshake: %s (%d more since the last such line)",
                    self._rules.service,
                    self._address,
                    exc,
                    held,
                )
            transport.abort()
            return
        finally:
            self._release()
        if tls is not None:  # None: the connection ended as the handshake did
            relay.attach(tls)

    def _release(self) -> None:
        if self._address is not None and self._rules.limits is not None:
            self._rules.limits.release(self._address)
        self._address = None


class _Relay(asyncio.Protocol):
    """The service's protocol behind the TLS layer, connected once the handshake is over;
    what the layer delivers before that is replayed in order."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        self._protocol = protocol
        self._attached = False
        self._held: list[Callable[[], object]] = []

    def attach(self, transport: asyncio.Transport) -> None:
        self._protocol.connection_made(transport)
        self._attached = True
        held, self._held = self._held, []
        for call in held:
            call()

    def _forward(self, call: Callable[[], object]) -> None:
        if self._attached:
            call()
        else:
            self._held.append(call)

    def data_received(self, data: bytes) -> None:
        self._forward(lambda: self._protocol.data_received(data))

    def eof_received(self) -> bool | None:
        self._forward(self._protocol.eof_received)
        return None  # ignored over TLS: the layer closes on the client's close_notify

    def connection_lost(self, exc: Exception | None) -> None:
        self._forward(lambda: self._protocol.connection_lost(exc))

    def pause_writing(self) -> None:
        self._forward(self._protocol.pause_writing)

    def resume_writing(self) -> None:
        self._forward(self._protocol.resume_writing)
