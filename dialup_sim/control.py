"""The simulator's control port: a test rig makes a running modem drop carrier after N bytes.

Why a port of its own: the node (``teledispatch serve``) and the simulator (``teledispatch
modem``) are separate processes, often started by different tools, and the simulator knows
nothing of the node's accounts. So the simulator listens for one-line commands when started
with ``--control HOST:PORT`` (loopback by default, like its modem port), and the node's
chaos endpoint (``PUT /api/admin/chaos`` with ``{"modem": {"drop_after_bytes": N}}``)
forwards the switch to the address its ``chaos_modem_control`` setting names; only a node
whose settings allow chaos (``http_test_rig``) does, and only for an administrator. The
simulator holds the switch and applies it to each call that starts after it is set; the
node records what the simulator confirmed, for its chaos status. A rig without a node can
flip it by hand (``socat - TCP:127.0.0.1:6401``).

The protocol: ASCII lines ending in LF (CR LF taken), one reply line per command.

    DROP-AFTER 300  ->  OK DROP-AFTER 300   each new call loses carrier after 300 bytes
    DROP-AFTER OFF  ->  OK DROP-AFTER OFF   (both directions of the line count)
    STATUS          ->  OK DROP-AFTER 300   (or OFF)
    anything else   ->  ERR <reason>

A line over ``MAX_LINE`` octets is answered ``ERR`` and the connection closed, as is one
idle for ``IDLE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Final, Protocol

from dialup_sim.phonebook import Address

__all__ = [
    "MAX_BYTES",
    "ControlError",
    "ControlServer",
    "DropAfter",
    "Status",
    "format_command",
    "format_state",
    "parse_command",
    "parse_reply",
    "send_control",
]

log = logging.getLogger(__name__)

MAX_LINE: Final = 64
IDLE_SECONDS: Final = 30.0
ANSWER_SECONDS: Final = 5.0  # what a sender waits for the reply
MAX_BYTES: Final = 10**9  # a bound on N, far beyond any call


class ControlError(ValueError):
    """A command or reply that does not parse, or a control port that does not answer."""


@dataclass(frozen=True, slots=True)
class DropAfter:
    after_bytes: int | None  # None: switched off


@dataclass(frozen=True, slots=True)
class Status:
    pass


Command = DropAfter | Status


def parse_command(line: bytes) -> Command:
    words = line.decode("ascii", "replace").split()
    if len(words) == 1 and words[0].upper() == "STATUS":
        return Status()
    if len(words) == 2 and words[0].upper() == "DROP-AFTER":
        return DropAfter(_byte_count(words[1]))
    raise ControlError("expected DROP-AFTER <bytes>|OFF or STATUS")


def format_command(command: Command) -> bytes:
    if isinstance(command, Status):
        return b"STATUS\n"
    return b"DROP-AFTER " + _count_text(command.after_bytes) + b"\n"


def format_state(after_bytes: int | None) -> bytes:
    return b"OK DROP-AFTER " + _count_text(after_bytes) + b"\n"


def parse_reply(line: bytes) -> int | None:
    """The switch's state from an ``OK`` reply; ``ControlError`` with the reason otherwise."""
    words = line.decode("ascii", "replace").split()
    if len(words) == 3 and words[0] == "OK" and words[1] == "DROP-AFTER":
        return _byte_count(words[2])
    raise ControlError(" ".join(words[1:]) if words[:1] == ["ERR"] else f"bad reply {line!r}")


def _byte_count(word: str) -> int | None:
    if word.upper() == "OFF":
        return None
    if not (word.isascii() and word.isdigit()) or not 1 <= int(word) <= MAX_BYTES:
        raise ControlError(f"bytes must be 1 to {MAX_BYTES} or OFF, not {word[:20]!r}")
    return int(word)


def _count_text(after_bytes: int | None) -> bytes:
    return b"OFF" if after_bytes is None else str(after_bytes).encode()


class Switchable(Protocol):
    """What the control port drives (a ``ModemProxy``)."""

    @property
    def carrier_drop(self) -> int | None: ...

    def set_carrier_drop(self, after_bytes: int | None) -> None: ...


class ControlServer:
    """The asyncio listener of the control port, for one proxy."""

    def __init__(self, target: Switchable, listen: Address) -> None:
        self._target = target
        self._listen = listen
        self._server: asyncio.Server | None = None

    async def start(self) -> Address:
        self._server = await asyncio.start_server(
            self._serve, self._listen.host, self._listen.port, limit=MAX_LINE
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        return Address(host, port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                async with asyncio.timeout(IDLE_SECONDS):
                    line = await reader.readline()
                if not line:
                    break
                writer.write(self._answer(line))
                await writer.drain()
        except ValueError:  # the line overran the limit (LimitOverrunError is a ValueError)
            writer.write(b"ERR line too long\n")
        except (TimeoutError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()
                await writer.wait_closed()

    def _answer(self, line: bytes) -> bytes:
        try:
            command = parse_command(line)
        except ControlError as exc:
            return f"ERR {exc}\n".encode("ascii", "replace")
        if isinstance(command, DropAfter):
            self._target.set_carrier_drop(command.after_bytes)
        return format_state(self._target.carrier_drop)


async def send_control(address: Address, command: Command) -> int | None:
    """Send one command to a simulator's control port; the switch's state it confirms.

    Raises:
        ControlError: the port does not answer in time, refuses, or answers ``ERR``.
    """
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            reader, writer = await asyncio.open_connection(address.host, address.port)
            try:
                writer.write(format_command(command))
                await writer.drain()
                reply = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
    except TimeoutError:
        raise ControlError(f"no answer from {address} within {ANSWER_SECONDS:g} s") from None
    except OSError as exc:
        raise ControlError(f"cannot reach {address}: {exc.strerror or exc}") from None
    return parse_reply(reply)
