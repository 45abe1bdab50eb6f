"""One IMAP connection: pymap's ``IMAPConnection`` with every read bounded in size and time.

pymap reads a command, with its literals, into memory before parsing it, and waits for the
client without a limit. Here, before any byte is buffered:

- a literal is refused when larger than the connection's limit (``Bounds``): a few KB before
  login; after it, the node's message size for APPEND and pymap's own 4 KB for any other
  command; a whole command is bounded too. A synchronizing literal (``{N}``) gets a tagged
  ``BAD [TOOBIG]`` and no continuation, so the client never sends it (RFC 3501 section 7.5)
  and the session goes on; a non-synchronizing one (``{N+}``, RFC 7888) is already on its way,
  so the tagged ``BAD [TOOBIG]`` is followed by ``* BYE`` and the connection is closed
  rather than read and thrown away (RFC 7888 section 4), after a short lingering close so
  that the answer is not lost to a TCP reset;
- after login, a command other than APPEND is bounded as a whole too (64 KiB, literals
  included), and every command in its number of literals: pymap parses a command again from
  its start at each synchronizing literal, and the node looked for a non-synchronizing one
  from the start of everything received. A logged-in ``SEARCH`` sent as endless 4 KB
  literals grew the node's memory without end, and the work for each literal with all
  those before it: after 40 MB, another client waited 1.4 s for its greeting;
- a command nested deeper than ``nesting.MAX_NESTING`` (parentheses, SEARCH's ``OR`` and
  ``NOT``) is answered ``BAD [LIMIT]`` before pymap's recursive parser meets it;
- a number longer than Python converts (a sequence set, a literal's length) is answered
  ``BAD``: pymap's ``int`` raised ``ValueError`` there, and the session ended with
  ``[SERVERBUG]`` and a traceback, before login too;
- a command line longer than the stream's line limit gets ``* BYE`` and a close;
- a literal past ``BYTES_ON_LOOP`` is read a piece at a time, and its command joined and
  parsed in the lane: read whole, it was gathered in the stream's buffer, which grew by
  reallocation (a copy of all of it at each growth), then copied whole three more times on
  the loop (pymap's parse copies each literal), and eight clients appending 19 MB each held
  the others up to 72-134 ms;
- a client has ``Bounds.login_timeout`` seconds from connecting to log in (however slowly
  it trickles bytes), then ``Bounds.idle_timeout`` seconds for each command, IDLE's ``DONE``
  included; on expiry it gets ``* BYE Autologout`` (RFC 3501 section 5.4);
- a client that pipelines commands takes turns on the event loop with the others
  (``gateway.turns``): commands already received never wait for the socket, and 50 000
  ``NOOP`` written at once held every other client 2.7 s;
- a client that stops reading our responses is cut off: before login at the login deadline,
  after it when one response takes longer than the idle timeout to be taken.

Responses go out in few writes: pymap hands each piece of a response (``* 1 FETCH (``, a
literal's prefix, its bytes, ``)``...) to the socket on its own, eight system calls for one
message, and renders every response a second time (``bytes(response)``) for a debug log
that is off; here pieces are gathered up to ``WRITE_CHUNK`` bytes and the second render is
made only when pymap's debug log is on. The timer that cuts off a client not reading our
responses is armed only when a response is left waiting in the transport's buffer.

It also ends IDLE's updates task when a session is cancelled at shutdown (pymap leaves it
running, to query a store being closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, NoReturn

from proxyprotocol.sock import SocketInfo
from pymap.concurrent import Event
from pymap.config import IMAPConfig
from pymap.exceptions import TemporaryFailure
from pymap.imap import IMAPConnection
from pymap.imap.state import ConnectionState
from pymap.parsing import Params
from pymap.parsing.command import Command
from pymap.parsing.command.select import IdleCommand
from pymap.parsing.commands import Commands, InvalidCommand
from pymap.parsing.exceptions import NotParseable
from pymap.parsing.response import (
    CommandResponse,
    Response,
    ResponseBad,
    ResponseBye,
    ResponseCode,
    UntaggedResponse,
)
from pymap.parsing.specials import Tag
from pymap.parsing.state import ExpectContinuation, ParsingInterrupt, ParsingState

from gateway.imap import fast_fetch
from gateway.imap.nesting import MAX_NESTING, nesting
from gateway.imap.slices import SlicedResponse
from gateway.lane import BYTES_ON_LOOP, for_size
from gateway.tls.plaintext import drop_buffered
from gateway.turns import Turns

__all__ = ["BoundedConnection", "Bounds", "LiteralTooBig"]

log = logging.getLogger(__name__)

TOOBIG: Final = ResponseCode.of(b"TOOBIG")
_COMMAND_NAME: Final = re.compile(rb"\S+ +(?:UID +)?([A-Za-z]+)")
_LENGTH_DIGITS: Final = 20
"""Longest literal length read as a number; a longer one is too big for any bound."""
LITERAL_PIECE: Final = 256 * 1024
"""Bytes of a large literal read at a time: what the event loop takes from a socket at once."""

LINGER_SECONDS: Final = 2.0
LINGER_BYTES: Final = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Bounds:
    """What one connection may send and how long it may take (see docs/security.md)."""

    login_timeout: float = 60.0
    """Seconds from connecting to a successful login, however the time is spent."""
    idle_timeout: float = 30 * 60.0
    """Seconds a logged-in client may take for each command (RFC 3501: at least 30 min)."""
    literal_before_login: int = 4096
    """Largest literal before login (a user name or password needs far less)."""
    command_before_login: int = 16 * 1024
    """Largest command before login, literals included."""
    commands_before_login: int = 50
    """Commands before login: a client needs a few (CAPABILITY, STARTTLS, LOGIN or
    AUTHENTICATE). Unbounded, one that never logged in had 5 000 pipelined ``NOOP``s answered
    for as long as its login time, and again on its next connection."""
    literal_after_login: int = 20 * 1024 * 1024
    """Largest APPEND literal after login: the node's message size."""
    command_slack: int = 64 * 1024
    """What a logged-in APPEND may hold besides one largest literal."""
    literal_other: int = 4096
    """Largest literal of any other command (pymap's own limit for them)."""
    command_other: int = 64 * 1024
    """Largest command other than APPEND after login, literals included."""
    literals_other: int = 64
    """Most literals in one command other than APPEND (a LOGIN has two, a SEARCH a few)."""
    literals_append: int = 256
    """Most literals in one APPEND: the messages of a MULTIAPPEND (RFC 3502), and any
    mailbox name sent as one. pymap reads such a command again from its start at each
    synchronizing literal, so the cost of one command grows with the square of this."""
    store_retry: float = 5.0
    """Seconds an IDLE waits, after the store failed, before it looks at the store again."""

    def __post_init__(self) -> None:
        if self.login_timeout <= 0 or self.idle_timeout <= 0 or self.store_retry <= 0:
            raise ValueError("IMAP timeouts must be positive")


class LiteralTooBig(InvalidCommand):
    """A command refused for a literal larger than the connection accepts, or one literal
    more than a command may have: ``BAD [TOOBIG]``."""

    def __init__(
        self, params: Params, parse_exc: NotParseable | None, text: bytes = b"Literal too big."
    ) -> None:
        super().__init__(params, parse_exc)
        self._text = text

    @property
    def message(self) -> bytes:
        return b"[TOOBIG] " + self._text


class NumberOutOfRange(InvalidCommand):
    """A command holding a number longer than Python converts (4 300 digits: pymap reads
    numbers with ``int``, whose ``ValueError`` escaped its parser): ``BAD``. IMAP's numbers
    have at most 20 digits (RFC 3501, RFC 7162's 63-bit mod-sequences)."""

    @property
    def message(self) -> bytes:
        return b"Number out of range."


class NestedTooDeeply(InvalidCommand):
    """A command nested deeper than ``MAX_NESTING``: ``BAD [LIMIT]`` (RFC 5530)."""

    @property
    def message(self) -> bytes:
        return b"[LIMIT] Too deeply nested: at most %d levels of parentheses, OR and NOT." % (
            MAX_NESTING
        )


class BoundedConnection(IMAPConnection):
    """``IMAPConnection`` whose reads and writes are bounded (see the module docstring)."""

    def __init__(
        self,
        commands: Commands,
        config: IMAPConfig,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        sock_info: SocketInfo,
        bounds: Bounds,
        *,
        fast_fetch: bool = True,
    ) -> None:
        super().__init__(commands, config, reader, writer, sock_info)
        self.bounds = bounds
        self.fast_fetch = fast_fetch
        """Whether the usual FETCH lines skip pymap's parser (``gateway.imap.fast_fetch``)."""
        self.peer = writer.get_extra_info("peername")
        self._loop = asyncio.get_running_loop()
        self._login_deadline = self._loop.time() + bounds.login_timeout
        self._command_deadline = self._login_deadline
        self._state: ConnectionState | None = None
        self._said_bye = False
        self._command_bytes = 0  # of the command being read, literals included
        self._command_literals = 0  # literals of the command being read, so far
        self._command_name: bytes | None = None  # APPEND may carry a message
        self._commands_before_login = 0
        self._idle_updates: asyncio.Task[Any] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._reading: asyncio.Task[Any] | None = None  # the task waiting for the client
        self._timed_out = False
        self._turns = Turns()  # pipelined commands never wait for the client

    async def run(self, state: ConnectionState) -> None:
        self._state = state
        await super().run(state)

    @property
    def logged_in(self) -> bool:
        if self._state is None:
            return False
        try:
            _ = self._state.session  # raises until a login succeeded
        except AttributeError:
            return False
        return True

    def _deadline(self) -> float:
        return self._command_deadline if self.logged_in else self._login_deadline

    def _literal_refusal(self, length: int, received: int) -> bytes | None:
        """Why the next literal, of ``length`` bytes ``received`` bytes into the command, is
        refused (the text of its ``BAD [TOOBIG]``); None: it is taken, and counted."""
        bounds = self.bounds
        appending = self._command_name == b"APPEND"
        if self._command_literals >= (
            bounds.literals_append if appending else bounds.literals_other
        ):
            return b"Too many literals in one command."
        if not self.logged_in:
            largest, room = bounds.literal_before_login, bounds.command_before_login - received
        elif appending:
            largest = bounds.literal_after_login
            room = bounds.literal_after_login + bounds.command_slack - received
        else:
            largest, room = bounds.literal_other, bounds.command_other - received
        if length > largest:
            return b"Literal too big."
        if length > room:
            return b"Command too big."
        self._command_literals += 1
        return None

    def _start_command(self) -> None:
        self._command_deadline = self._loop.time() + self.bounds.idle_timeout
        self._command_bytes = 0
        self._command_literals = 0
        self._command_name = None

    async def _timed(self, read: Coroutine[Any, Any, bytes]) -> bytes:
        """Await a read before the deadline; past it, say ``BYE`` and end the session.

        One timer per connection (``_watch``) rather than one per read: a command's
        deadline moves at each command, and the timer, when it fires early, is set again
        for the deadline of the moment (a timer per read cost a twentieth of a FETCH).
        """
        deadline = self._deadline()
        if self._loop.time() >= deadline:
            read.close()
            await self._expire()
        watchdog = self._watchdog
        if watchdog is None or watchdog.when() > deadline:
            if watchdog is not None:
                watchdog.cancel()
            self._watchdog = self._loop.call_at(deadline, self._watch)
        task = self._reading = asyncio.current_task()
        try:
            return await read
        except asyncio.CancelledError:
            if self._timed_out and task is not None and task.uncancel() == 0:
                self._timed_out = False
                await self._expire()
            raise
        finally:
            self._reading = None

    def _watch(self) -> None:
        """The deadline's timer: cut off a read that is still waiting past it."""
        self._watchdog = None
        task = self._reading
        if task is None:
            return  # not waiting for the client: its next read sets the timer again
        deadline = self._deadline()
        if self._loop.time() < deadline:
            self._watchdog = self._loop.call_at(deadline, self._watch)
            return
        self._timed_out = True
        task.cancel()

    async def _expire(self) -> NoReturn:
        log.info("IMAP %s: no complete command in time, closing", self.peer)
        await self._bye(b"Autologout; idle for too long.")
        raise EOFError()

    async def start_tls(self) -> None:
        """pymap's STARTTLS, within what is left of the time to log in (STARTTLS comes
        before login): asyncio alone would give the handshake 60 s, whatever
        ``login_timeout`` says.

        Commands the client pipelined in plain text behind STARTTLS are dropped first: pymap
        read them once TLS was up, as if they had come encrypted (``b NOOP`` sent in the
        same packet as ``a STARTTLS`` was answered after the handshake; CVE-2011-0411).
        Upstream, pymap's ``start_tls`` would empty the reader before upgrading."""
        dropped = drop_buffered(self.reader)
        if dropped:
            log.info(
                "IMAP %s: %d bytes sent after STARTTLS in plain text dropped", self.peer, dropped
            )
        remaining = max(self._login_deadline - self._loop.time(), 0.001)
        await self.writer.start_tls(self.config.ssl_context, ssl_handshake_timeout=remaining)

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        super().close()

    async def readline(self) -> memoryview:
        try:
            line = await self._timed(self.reader.readline())
        except ValueError:  # longer than the stream's line limit
            log.info("IMAP %s: command line too long, closing", self.peer)
            await self._bye(b"Command line too long.", TOOBIG)
            await self._linger()
            raise EOFError() from None
        if self._command_name is None:
            name = _COMMAND_NAME.match(line)
            self._command_name = name.group(1).upper() if name else b""
        # A literal's announcement is looked for in the last line read only. (Upstream,
        # pymap's ``readline`` would do the same: it searches all it has read, again after
        # each literal.)
        pieces: list[bytes | memoryview] = [line]
        size = len(line)
        while True:
            if not line.endswith(b"\n"):
                raise EOFError()
            lit_plus = (
                self._literal_plus.search(line) if line.endswith((b"+}\n", b"+}\r\n")) else None
            )
            if lit_plus is None:
                whole = line if len(pieces) == 1 else await for_size(size, partial(joined, pieces))
                self._print("%s -->| %s", whole)
                self._command_bytes += size
                return memoryview(whole)
            digits = lit_plus.group(1)
            length = int(digits) if len(digits) <= _LENGTH_DIGITS else 1 << 64
            refusal = self._literal_refusal(length, self._command_bytes + size)
            if refusal is not None:
                await self._refuse_nonsync_literal(pieces[0], length, refusal)
            pieces += await self._literal(length)
            line = await self._timed(self.reader.readline())
            pieces.append(line)
            size += length + len(line)

    async def read_continuation(self, literal_length: int) -> memoryview:
        pieces = await self._literal(literal_length)
        self._command_bytes += literal_length
        pieces.append(await self.readline())
        whole = await for_size(literal_length, partial(joined, pieces))
        self._print("%s -->| %s", whole)
        return memoryview(whole)

    async def _literal(self, length: int) -> list[bytes | memoryview]:
        """A literal's bytes, in pieces: past ``BYTES_ON_LOOP``, as they come
        (``LITERAL_PIECE`` at most), so the stream never buffers it whole."""
        if length <= BYTES_ON_LOOP:
            return [await self._timed(self.reader.readexactly(length))]
        pieces: list[bytes | memoryview] = []
        left = length
        while left:
            piece = await self._timed(self.reader.read(min(left, LITERAL_PIECE)))
            if not piece:
                raise asyncio.IncompleteReadError(b"", length)
            pieces.append(piece)
            left -= len(piece)
        return pieces

    async def read_command(self, state: ConnectionState) -> Command:
        await self._turns.step()
        self._start_command()
        if not self.logged_in:
            self._commands_before_login += 1
            if self._commands_before_login > self.bounds.commands_before_login:
                log.info("IMAP %s: too many commands without a login, closing", self.peer)
                await self._bye(b"Too many commands without a login, closing.")
                await self._linger()
                raise EOFError()
        line = await self.readline()
        if self.fast_fetch:
            fast = fast_fetch.parse(line, self.params)
            if fast is not None:
                return fast
        conts: list[memoryview] = []
        while True:
            # APPEND nests no deeper than its flag list, and may carry megabytes of message.
            if self._command_name != b"APPEND" and nesting(b"".join((line, *conts))) > MAX_NESTING:
                log.info("IMAP %s: a command nested too deeply refused", self.peer)
                return NestedTooDeeply(self._params_with_tag(line), None)
            params = self.params.copy(ParsingState(continuations=conts))
            parse = partial(self.commands.parse, line, params)
            try:
                # In the lane when large: pymap copies each literal it parses (19 MB: 5-15 ms)
                cmd, _ = await for_size(self._command_bytes, parse)
            except ValueError:  # a number past what ``int`` converts (pymap's parsers use it)
                log.info("IMAP %s: a command with a number out of range refused", self.peer)
                return NumberOutOfRange(self._params_with_tag(line), None)
            except ParsingInterrupt as interrupt:
                expected = interrupt.expected
                if isinstance(expected, ExpectContinuation):
                    length = expected.literal_length
                    refusal = self._literal_refusal(length, self._command_bytes)
                    if refusal is not None:
                        log.info(
                            "IMAP %s: literal of %d refused: %s",
                            self.peer,
                            length,
                            refusal.decode(),
                        )
                        return LiteralTooBig(self._params_with_tag(line), None, refusal)
                await self._interrupt(state, interrupt, conts)
            else:
                if isinstance(cmd, InvalidCommand) and _too_big(cmd.parse_exc):
                    return LiteralTooBig(self._params_with_tag(line), cmd.parse_exc)
                return cmd

    async def idle(self, state: ConnectionState, cmd: IdleCommand) -> CommandResponse:
        """pymap's IDLE, which leaves its updates task running when the session is cancelled
        (at shutdown): that task would query a store being closed. It is ended here."""
        try:
            return await super().idle(state, cmd)
        finally:
            updates, self._idle_updates = self._idle_updates, None
            if updates is not None and not updates.done():
                updates.cancel()
                await asyncio.gather(updates, return_exceptions=True)

    async def handle_updates(self, state: ConnectionState, done: Event, cmd: IdleCommand) -> None:
        """pymap's loop of IDLE updates, carried on after the store failed (a database
        restarting): in pymap the failure ends the task, and the client, still in IDLE,
        hears of no new mail until it sends ``DONE``. Here the session looks again after
        ``store_retry`` seconds (the failure was logged where it happened).

        Upstream, ``IMAPConnection.handle_updates`` would catch the backend's
        ``ResponseError`` around ``receive_updates`` and wait before the next round,
        rather than let it end the task."""
        self._idle_updates = asyncio.current_task()  # pymap runs this as IDLE's updates task
        while not done.is_set():
            try:
                await super().handle_updates(state, done, cmd)
            except TemporaryFailure:
                await done.wait(timeout=self.bounds.store_retry)

    async def read_idle_done(self, cmd: IdleCommand) -> bool:
        self._start_command()  # an IDLE lasts up to the idle timeout, then BYE
        return await super().read_idle_done(cmd)

    async def write_response(self, resp: Response) -> None:
        if self._said_bye:
            return  # nothing follows our BYE (pymap would add a BYE [SERVERBUG])
        try:
            if isinstance(resp, fast_fetch.PreRendered):
                await self._write_parts(resp.parts)
            elif isinstance(resp, SlicedResponse):
                gathered = _Gathered()
                resp.final = await resp.answer(_SliceSink(self, gathered))
                await resp.final.async_write(gathered)
                await self._write_parts(gathered.take())
            else:
                gathered = _Gathered()
                await resp.async_write(gathered)
                await self._write_parts(gathered.take())
            if self.writer.transport.get_write_buffer_size():
                await self._drain_within_timeout()
        except ConnectionError:
            return
        if _PYMAP_LOG.isEnabledFor(logging.DEBUG):
            self._print("%s <--| %s", bytes(resp))

    async def _write_parts(self, parts: Sequence[bytes]) -> None:
        """A response's parts: small ones joined, ``WRITE_CHUNK`` bytes at a time (pymap
        writes each piece of a response on its own, eight system calls for one message);
        one past ``BUFFERED_BYTES`` (a message's bytes) a slice at a time, each once the
        client has taken the last. Handed over whole, a 19 MB message was copied whole on
        the event loop, into one write and then into the transport's buffer: eight clients
        fetching such messages held the others up to 0.14-0.2 s."""
        run: list[bytes] = []
        size = 0
        for part in parts:
            if len(part) <= BUFFERED_BYTES:
                run.append(part)
                size += len(part)
                if size >= WRITE_CHUNK:
                    self.writer.write(b"".join(run))
                    run, size = [], 0
                continue
            if run:
                self.writer.write(b"".join(run))
                run, size = [], 0
            view = memoryview(part)
            for start in range(0, len(view), BUFFERED_BYTES):
                self.writer.write(view[start : start + BUFFERED_BYTES])
                await self._drain_within_timeout()
                if self._said_bye:  # cut off for not reading
                    return
        if run:
            self.writer.write(b"".join(run))

    async def _drain_within_timeout(self) -> None:
        """Wait until the client has taken what is buffered, or cut it off.

        Only a client that does not read can keep this waiting, so only here is a timer
        armed: a response the socket takes at once (nearly all) costs no timer.
        """
        if self.logged_in:  # each wait (one FETCH item...) gets the idle timeout
            deadline = self._loop.time() + self.bounds.idle_timeout
        else:
            deadline = max(self._login_deadline, self._loop.time() + 5)
        try:
            async with asyncio.timeout_at(deadline):
                await self.writer.drain()
        except TimeoutError:
            log.info("IMAP %s: not reading our responses, closing", self.peer)
            self._said_bye = True
            self.writer.transport.abort()

    async def _refuse_nonsync_literal(
        self, first_line: bytes | memoryview, length: int, refusal: bytes
    ) -> None:
        log.info(
            "IMAP %s: non-synchronizing literal of %d refused, closing: %s",
            self.peer,
            length,
            refusal.decode(),
        )
        tag = self._params_with_tag(memoryview(first_line)).tag
        await self.write_response(ResponseBad(tag, refusal, TOOBIG))
        await self._bye(b"Literal too big, closing.", TOOBIG)
        await self._linger()
        raise EOFError()

    async def _bye(self, text: bytes, code: ResponseCode | None = None) -> None:
        await self.write_response(ResponseBye(text, code))
        self._said_bye = True

    async def _linger(self) -> None:
        """Half-close, then read and drop what is still coming, for a while (never kept).

        Closing a socket with unread input makes the kernel send RST, and the client may
        then lose our last answer. A lingering close, as web servers do, lets it arrive.
        """
        with contextlib.suppress(OSError, TimeoutError):
            if self.writer.can_write_eof():
                self.writer.write_eof()
            dropped = 0
            async with asyncio.timeout(LINGER_SECONDS):
                while dropped < LINGER_BYTES and (chunk := await self.reader.read(64 * 1024)):
                    dropped += len(chunk)

    def _params_with_tag(self, line: memoryview | bytearray) -> Params:
        try:
            tag, _ = Tag.parse(memoryview(line), self.params)
        except NotParseable:
            return self.params.copy(tag=b"*")
        return self.params.copy(tag=tag.value)


def joined(pieces: Sequence[bytes | memoryview]) -> bytes:
    """A command's pieces (lines and literals) as one: in the lane when large."""
    return b"".join(pieces)


WRITE_CHUNK: Final = 64 * 1024
BUFFERED_BYTES: Final = 1024 * 1024
"""What a FETCH may leave waiting for a slow client before it reads the next message: a
FETCH of 40 messages of 2 MB, made whole before it was written, grew the node by 80-260 MB
for a client that read nothing."""
_PYMAP_LOG: Final = logging.getLogger("pymap.imap")


class _SliceSink:
    """Where ``gateway.imap.slices`` sends a slice: written out, the client given the time
    to take it if it is behind (after any message that leaves more than ``BUFFERED_BYTES``
    waiting, and at the slice's end), then the event loop free for the other clients."""

    def __init__(self, connection: BoundedConnection, gathered: _Gathered) -> None:
        self._connection = connection
        self._gathered = gathered

    async def send(self, responses: Sequence[UntaggedResponse]) -> None:
        connection = self._connection
        transport = connection.writer.transport
        gathered = self._gathered
        for response in responses:
            await response.async_write(gathered)
            if gathered.size >= WRITE_CHUNK:  # else gathered with the next responses
                await connection._write_parts(gathered.take())
            if transport.get_write_buffer_size() > BUFFERED_BYTES:
                await self._taken()
        await connection._write_parts(gathered.take())
        await self._taken()
        await asyncio.sleep(0)

    async def _taken(self) -> None:
        """Wait until the client has taken what is buffered; raise if it is gone (or was
        cut off for not reading), so that nothing more is read or made for it."""
        connection = self._connection
        if connection.writer.transport.get_write_buffer_size():
            await connection._drain_within_timeout()
        if connection._said_bye or connection.writer.transport.is_closing():
            raise ConnectionAbortedError("the client is gone")


class _Gathered:
    """A write stream that keeps the pieces pymap writes a response in, for
    ``BoundedConnection._write_parts`` (references: nothing is copied here)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0
        """Bytes kept."""

    def write(self, data: bytes) -> None:
        self._parts.append(data)
        self.size += len(data)

    def take(self) -> list[bytes]:
        parts, self._parts, self.size = self._parts, [], 0
        return parts


def _too_big(exc: NotParseable | None) -> bool:
    return exc is not None and exc.code is not None and bytes(exc.code) == bytes(TOOBIG)
