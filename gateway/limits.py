"""How many connections a node holds, in all and per client address.

One ``ConnectionLimits`` is shared by the SMTP, POP3 and IMAP listeners of a node, so a
client cannot take more than its share by spreading over the three ports, and the node never
runs into the file-descriptor limit, where it could no longer answer anybody: the listeners
refuse with their protocol's own words (``421``, ``-ERR [SYS/TEMP]``, ``* BYE``) instead.
The counting is sans-IO; ``say_and_close`` is the one stream helper the listeners share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

__all__ = [
    "FAILURE_LOG_INTERVAL",
    "FD_RESERVE",
    "ConnectionLimits",
    "FullStoreLog",
    "RateLimitedLog",
    "Refusal",
    "fd_bounded_cap",
    "peer_address",
    "quiet_accept_errors",
    "say_and_close",
]

log = logging.getLogger(__name__)

FAILURE_LOG_INTERVAL: Final = 60.0
"""Seconds between two tracebacks of a failure that recurs (the store unreachable, the
descriptor limit): a background pass retries on its poll interval and every client's
command meets it again, but one line a minute says it."""

FD_RESERVE: Final = 64
"""File descriptors kept free of client connections: the store, its WAL, the listeners, logs."""


class Refusal(Enum):
    """Why a connection is refused (each listener words it in its protocol)."""

    NODE_FULL = "too many connections to this node"
    ADDRESS_FULL = "too many connections from your address"


@dataclass
class RateLimitedLog:
    """Decides whether a recurring event is logged now: at most once per ``interval`` seconds.

    The caller passes the time (any monotonic clock) and logs, when told to, how many of the
    events were held back since the last line.
    """

    interval: float
    _last: float | None = field(default=None, init=False)
    _held: int = field(default=0, init=False)

    def due(self, now: float) -> int | None:
        """``None``: stay silent; else log now, with this many events held back before it."""
        if self._last is not None and now - self._last < self.interval:
            self._held += 1
            return None
        held, self._held, self._last = self._held, 0, now
        return held

    def exception(
        self,
        logger: logging.Logger,
        now: float,
        message: str,
        *args: object,
        error: BaseException | None = None,
    ) -> None:
        """Log ``error`` (by default the exception being handled): with its traceback when
        due, else as one ``DEBUG`` line (for whoever follows the node that closely)."""
        error = error or sys.exc_info()[1]
        held = self.due(now)
        if held is None:
            logger.debug(message + ": %s", *args, error)
        else:
            logger.error(
                message + " (%d more since the last such line)", *args, held, exc_info=error
            )


@dataclass
class FullStoreLog:
    """How a store without room is told to the operator: at ``ERROR`` when the refusals
    start and once per ``interval`` while they go on (with how many came between), then
    once when a delivery is taken again. The caller logs each refusal itself, at ``INFO``,
    naming who was refused: clients retrying against a full disk would otherwise fill the
    log, on that same disk, with a line per try.
    """

    what: str
    """What is refused, for the lines: ``SMTP deliveries``, ``API submissions``."""
    interval: float = FAILURE_LOG_INTERVAL
    _gate: RateLimitedLog = field(init=False)
    _refused: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._gate = RateLimitedLog(self.interval)

    def refused(self, logger: logging.Logger, now: float, reason: str) -> None:
        """One more refused for want of room (``reason``: the database's own words)."""
        self._refused += 1
        held = self._gate.due(now)
        if held is not None:
            logger.error(
                "the store is full (%s): %s are refused until there is room"
                " (%d more since the last such line)",
                reason,
                self.what,
                held,
            )

    def taken(self, logger: logging.Logger) -> None:
        """A delivery was written: if some were refused before it, say the store has room."""
        if self._refused:
            logger.warning(
                "the store has room again: %s are taken, after %d refused for want of room",
                self.what,
                self._refused,
            )
            self._refused = 0
            self._gate = RateLimitedLog(self.interval)  # the next shortage is told at once


@dataclass
class ConnectionLimits:
    """Counts open connections; ``admit`` before serving one, ``release`` when it ends."""

    max_connections: int
    max_per_address: int
    refusal_log_interval: float = 10.0
    _by_address: Counter[str] = field(default_factory=Counter, init=False)
    _total: int = field(default=0, init=False)
    _refusals: RateLimitedLog = field(init=False)

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.max_per_address < 1:
            raise ValueError("connection limits must be at least 1")
        self._refusals = RateLimitedLog(self.refusal_log_interval)

    @property
    def total(self) -> int:
        return self._total

    def open_from(self, address: str) -> int:
        return self._by_address[address]

    def admit(self, address: str) -> Refusal | None:
        """Count a new connection from ``address``, or say why it is refused (not counted)."""
        if self._total >= self.max_connections:
            return Refusal.NODE_FULL
        if self._by_address[address] >= self.max_per_address:
            return Refusal.ADDRESS_FULL
        self._total += 1
        self._by_address[address] += 1
        return None

    def log_refusal(self, service: str, address: str, refusal: Refusal, now: float) -> None:
        """One log line per interval however many are refused (a flood must not flood the log)."""
        held = self._refusals.due(now)
        if held is not None:
            log.warning(
                "%s %s refused: %s (%d more refusals held back); open: %d",
                service,
                address,
                refusal.value,
                held,
                self._total,
            )

    def release(self, address: str) -> None:
        """Forget one admitted connection from ``address``."""
        remaining = self._by_address[address] - 1
        if remaining < 0:
            raise RuntimeError(f"release without admit for {address}")
        if remaining:
            self._by_address[address] = remaining
        else:
            del self._by_address[address]
        self._total -= 1


def peer_address(peername: object) -> str:
    """The client's address from a socket's ``peername`` (a tuple for IP, else anything)."""
    if isinstance(peername, tuple) and peername:
        return str(peername[0])
    return str(peername)


def fd_bounded_cap(wanted: int, *, reserve: int = FD_RESERVE) -> int:
    """``wanted``, lowered so that that many connections fit under the soft descriptor limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - reserve))


async def say_and_close(writer: asyncio.StreamWriter, line: bytes, *, grace: float = 5.0) -> None:
    """Write ``line`` and close, giving a client that does not read ``grace`` seconds at most."""
    with contextlib.suppress(OSError, TimeoutError):
        writer.write(line)
        async with asyncio.timeout(grace):
            await writer.drain()
    writer.close()


ACCEPT_ERROR_INTERVAL: Final = 60.0


def quiet_accept_errors(
    loop: asyncio.AbstractEventLoop, *, interval: float = ACCEPT_ERROR_INTERVAL
) -> Callable[[], None]:
    """Log asyncio's accept failures (EMFILE, ENFILE, ENOBUFS, ENOMEM) once per ``interval``.

    At the descriptor limit asyncio retries ``accept`` and reports every failure with a
    traceback (thousands a minute); the pending clients wait in the kernel's backlog and
    get their turn once descriptors are free. One line per interval says it all; the retry
    that finds its listener closed at shutdown says nothing. Other loop errors go to the
    handler in place before. Returns the function that restores it.
    """
    previous = loop.get_exception_handler()
    gate = RateLimitedLog(interval)

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        exception = context.get("exception")
        if isinstance(exception, OSError) and "socket.accept()" in str(context.get("message")):
            held = gate.due(loop.time())
            if held is not None:
                log.error(
                    "cannot accept connections: %s (%d more such failures in the last %.0f s)",
                    exception.strerror or exception,
                    held,
                    interval,
                )
            return
        if isinstance(exception, ValueError) and "_start_serving" in str(context.get("message")):
            # After such a failure asyncio retries ``accept`` a moment later; a listener
            # closed meanwhile (the node stopping) has no descriptor left to retry on.
            log.debug("accept retry on a closed listener skipped: %s", exception)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
    return lambda: loop.set_exception_handler(previous)
