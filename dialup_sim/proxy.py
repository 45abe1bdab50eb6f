"""The asyncio adapter: a TCP proxy that puts a modem and a line between clients and a server.

All the behaviour is in the sans-IO engines (``Modem`` for ``--hayes``, ``DirectCall`` for
``--direct``); this module moves bytes between sockets and engines, turns the event loop's
clock into simulated time (the one place that reads a clock), keeps each number's hunt group
of lines,
and applies flow control (stops reading a socket while the modem's buffer is full).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from dialup_sim.comport import ComPort, Lines
from dialup_sim.direct import DirectCall
from dialup_sim.events import (
    Answered,
    CallEnded,
    CallEngine,
    CarrierChanged,
    DialOutcome,
    DialRequested,
    Event,
    ToCallee,
    ToCaller,
)
from dialup_sim.line import LinkParams, MnpLevel
from dialup_sim.modem import Modem
from dialup_sim.noise import NoiseSettings
from dialup_sim.phonebook import Address, Phonebook, normalize_number
from dialup_sim.pty_port import PtyTransport, open_pty
from dialup_sim.stats import CallReport
from dialup_sim.timing import CallTiming
from dialup_sim.vendors import DEFAULT_PROFILE, VendorProfile

__all__ = ["LinePool", "ModemProxy", "ProxySettings", "SimClock"]

log = logging.getLogger(__name__)

BUSY_MESSAGE = b"\r\nBUSY\r\n"


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """Everything ``teledispatch modem`` can be told."""

    listen: Address
    target: Address
    hayes: bool = False  # False: --direct
    bps: int = 9600
    mnp: MnpLevel | None = None  # None: MNP 5 at the far end (--hayes), none (--direct)
    latency: float = 0.0  # one-way, seconds
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    lines: int = 8
    time_scale: float = 1.0
    phonebook: Phonebook = field(default_factory=Phonebook)
    access_number: str = "0800"  # the number that reaches ``target`` in --hayes mode
    seed: int | None = None
    tick: float = 0.01  # wall seconds between two services of one busy call
    timing: CallTiming = field(default_factory=CallTiming)
    high_water: int = 2048  # stop reading a side once this many octets wait for the line
    low_water: int = 512
    receive_buffer: int = 4096  # SO_RCVBUF of accepted sockets, so clients feel the line
    profile: VendorProfile = DEFAULT_PROFILE  # which modem the --hayes DTEs talk to
    dte_bps: int | None = None  # the DTE rate W0 reports (None: the line rate)
    rfc2217: bool = False  # TCP DTEs speak RFC 2217: DCD/RI out, DTR in
    answer: Mapping[str, Address] = field(default_factory=dict)  # number -> where its
    # answering modems' DTEs (the node side) connect; calls to the number ring them

    def __post_init__(self) -> None:
        LinkParams(self.bps, self.error_control, self.latency)  # validates rate and latency
        if self.lines < 1:
            raise ValueError("the pool needs at least one line")
        if self.time_scale <= 0:
            raise ValueError("time scale must be positive")

    @property
    def error_control(self) -> MnpLevel:
        """The link's error control (--direct), or what the answering modem can do (--hayes)."""
        if self.mnp is not None:
            return self.mnp
        return MnpLevel.MNP5 if self.hayes else MnpLevel.NONE

    def resolve(self, number: str) -> Address | None:
        found = self.phonebook.lookup(number)
        if found is not None:
            return found
        book = Phonebook({self.access_number: self.target})
        return book.lookup(number)


class SimClock:
    """Simulated seconds since start: the event loop's clock times ``scale``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, scale: float) -> None:
        self._loop = loop
        self._origin = loop.time()
        self.scale = scale

    def now(self) -> float:
        return (self._loop.time() - self._origin) * self.scale

    def wall(self, simulated: float) -> float:
        """The loop time at which ``simulated`` is reached."""
        return self._origin + simulated / self.scale


class LinePool:
    """The answering side's lines: a caller who finds them all in use gets BUSY."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_use = 0

    def try_acquire(self) -> bool:
        if self.in_use >= self.capacity:
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        if self.in_use <= 0:
            raise RuntimeError("released a line that was not taken")
        self.in_use -= 1


class ModemProxy:
    """Listens for DTEs (TCP clients) and runs one call engine per connection."""

    def __init__(
        self,
        settings: ProxySettings,
        *,
        on_report: Callable[[CallReport], None] | None = None,
    ) -> None:
        self.settings = settings
        self._pools: dict[str, LinePool] = {}
        self.pool = self.pool_for(settings.access_number)  # the access number's (--direct)
        self.reports: list[CallReport] = []
        self._on_report = on_report
        self._call_ids = itertools.count(1).__next__
        self._session_ids = itertools.count(1).__next__
        self._sessions: set[_Session] = set()
        self._server: asyncio.Server | None = None
        self._clock: SimClock | None = None
        self._ptys: list[PtyTransport] = []
        self._answer_servers: list[asyncio.Server] = []
        self._answerers: dict[str, list[_Session]] = {}
        self.noise = settings.noise
        """The impairments of calls that start from now on: the settings' noise, plus the
        carrier-drop switch (``set_carrier_drop``)."""

    @property
    def carrier_drop(self) -> int | None:
        """Bytes after which each new call loses its carrier (None: switched off)."""
        return self.noise.drop_after_bytes

    def set_carrier_drop(self, after_bytes: int | None) -> None:
        """Make every call that starts from now on drop its carrier once ``after_bytes``
        bytes have crossed the line (``None``: switch off). Calls under way keep theirs."""
        if after_bytes == self.carrier_drop:
            return
        self.noise = replace(self.noise, drop_after_bytes=after_bytes)
        for session in self._sessions:
            session.noise_changed(self.noise)
        if after_bytes is None:
            log.warning("chaos: carrier drop switched off")
        else:
            log.warning("chaos: each new call drops carrier after %d bytes", after_bytes)

    def pool_for(self, number: str) -> LinePool:
        """The hunt group of ``number``: its own ``--lines`` lines, busy only when all of
        them are in use, whatever the other numbers are doing."""
        key = normalize_number(number)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = LinePool(self.settings.lines)
        return pool

    @property
    def clock(self) -> SimClock:
        if self._clock is None:
            raise RuntimeError("the proxy is not started")
        return self._clock

    @property
    def address(self) -> Address:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return Address(host, port)

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    async def start(self) -> Address:
        loop = asyncio.get_running_loop()
        self._clock = SimClock(loop, self.settings.time_scale)
        listen = self.settings.listen
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            listen.host, listen.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Inherited by accepted sockets: keeps a client's writes close to the line.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.settings.receive_buffer)
            sock.bind(sockaddr)
        except OSError:
            sock.close()
            raise
        self._server = await loop.create_server(lambda: _Session(self), sock=sock, backlog=4096)
        for number, where in self.settings.answer.items():
            server = await loop.create_server(
                self._answerer_factory(number), where.host, where.port
            )
            self._answer_servers.append(server)
        return self.address

    def _answerer_factory(self, number: str) -> Callable[[], _Session]:
        return lambda: _Session(self, answer_number=number)

    def answer_address(self, index: int = 0) -> Address:
        """Where the node-side modems of the ``index``-th ``answer`` number listen."""
        host, port = self._answer_servers[index].sockets[0].getsockname()[:2]
        return Address(host, port)

    def open_pty(self, answer_number: str | None = None) -> str:
        """Serve one more modem on a pseudo-terminal (an answering one on ``answer_number``
        if given); returns the device path for programs."""
        if self._clock is None:
            raise RuntimeError("the proxy is not started")
        session = _Session(self, answer_number=answer_number)
        transport: PtyTransport = open_pty(asyncio.get_running_loop(), session)
        transport.watch_dtr(session.dtr_changed)
        self._ptys.append(transport)
        return transport.slave_path

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for server in self._answer_servers:
            server.close()
        self._answer_servers.clear()
        for port in self._ptys:
            port.close()
        self._ptys.clear()
        for session in list(self._sessions):
            session.shutdown()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> ModemProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # Used by sessions.

    def new_call_id(self) -> int:
        return self._call_ids()

    def new_session_id(self) -> int:
        return self._session_ids()

    def rng(self, key: int) -> random.Random:
        """The random source of one call or session: reproducible when a seed is set."""
        seed = self.settings.seed
        return random.Random(None if seed is None else seed * 1_000_003 + key)

    def report(self, report: CallReport) -> None:
        self.reports.append(report)
        if len(self.reports) > 10_000:
            del self.reports[:5_000]
        if self._on_report is not None:
            self._on_report(report)

    def register(self, session: _Session) -> None:
        self._sessions.add(session)
        if session.answer_number is not None:
            key = normalize_number(session.answer_number)
            self._answerers.setdefault(key, []).append(session)

    def unregister(self, session: _Session) -> None:
        self._sessions.discard(session)
        for group in self._answerers.values():
            if session in group:
                group.remove(session)

    def answer_group(self, number: str) -> list[_Session] | None:
        """The modems that answer ``number`` (None: the number is not a modem bank)."""
        key = normalize_number(number)
        if key not in self._answerers and all(
            normalize_number(n) != key for n in self.settings.answer
        ):
            return None
        return self._answerers.get(key, [])


class _CalleeSide(Protocol):
    """Where a call's bytes go: a socket to a server, or the answering modem's session."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class _PeerLink:
    """One end of a modem-to-modem call inside the proxy: writes become the other
    session's ``callee_data``, closing is its ``callee_lost``."""

    def __init__(self, peer: _Session, call_id: int) -> None:
        self._peer: _Session | None = peer
        self._call_id = call_id

    def write(self, data: bytes) -> None:
        if self._peer is not None:
            self._peer.callee_data(self._call_id, data)

    def close(self) -> None:
        peer, self._peer = self._peer, None
        if peer is not None:
            asyncio.get_running_loop().call_soon(peer.callee_lost, self._call_id)

    def pause_reading(self) -> None:
        if self._peer is not None:
            self._peer.pause_dte(True)

    def resume_reading(self) -> None:
        if self._peer is not None:
            self._peer.pause_dte(False)


class _Callee(asyncio.Protocol):
    """The proxy's connection to the server, for one call."""

    def __init__(self, session: _Session, call_id: int) -> None:
        self._session = session
        self._call_id = call_id

    def data_received(self, data: bytes) -> None:
        self._session.callee_data(self._call_id, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._session.callee_lost(self._call_id)


class _Session(asyncio.Protocol):
    """One DTE connection and its engine."""

    def __init__(self, proxy: ModemProxy, *, answer_number: str | None = None) -> None:
        self._proxy = proxy
        self.answer_number = answer_number  # a node-side modem on this number's line
        self._settings = proxy.settings
        self._clock = proxy.clock
        self._loop = asyncio.get_running_loop()
        self._caller: asyncio.Transport | None = None
        self._engine: CallEngine | None = None
        self._call_id = 0  # the call the callee connection belongs to
        self._callee: _CalleeSide | None = None
        self._callee_pending = bytearray()
        self._connecting: asyncio.Task[None] | None = None
        self._line_held: LinePool | None = None  # the hunt group a line is taken from
        self._caller_paused = False
        self._callee_paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._last_service = -1.0
        self._closed = False
        self._comport: ComPort | None = None
        self._dcd = False  # as last reported by the modem
        self._pty_hangup = False  # DCD fell on a pty: hang it up after this service

    # Caller side (asyncio.Protocol).

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._caller = transport
        self._proxy.register(self)
        settings = self._settings
        now = self._clock.now()
        if settings.rfc2217 and not isinstance(transport, PtyTransport):
            self._comport = ComPort(transport.write, self._lines, self.dtr_changed)
        if settings.hayes or self.answer_number is not None:
            self._engine = Modem(
                bps=settings.bps,
                remote_mnp=settings.error_control,
                latency=settings.latency,
                noise=self._proxy.noise,
                rng=self._proxy.rng(self._proxy.new_session_id()),
                timing=settings.timing,
                vendor=settings.profile,
                dte_bps=settings.dte_bps,
                call_ids=self._proxy.new_call_id,
            )
            self._dcd = self._engine.carrier()
            return
        if not self._proxy.pool.try_acquire():
            log.info("direct caller refused: all %d lines busy", settings.lines)
            transport.write(BUSY_MESSAGE)
            transport.close()
            return
        self._line_held = self._proxy.pool
        call_id = self._proxy.new_call_id()
        self._call_id = call_id
        params = LinkParams(settings.bps, settings.error_control, settings.latency)
        self._engine = DirectCall(
            call_id, params, now, noise=self._proxy.noise, rng=self._proxy.rng(call_id)
        )
        self._connect(call_id, settings.target)

    def _lines(self) -> Lines:
        engine = self._engine
        if not isinstance(engine, Modem):
            return Lines(dcd=self._call_id != 0, ri=False, cts=not self._caller_paused)
        now = self._clock.now()
        dsr = self._dcd if engine.profile.options.get("&S") == 1 else True  # &S1: with carrier
        return Lines(self._dcd, engine.ring_indicator(now), cts=not self._caller_paused, dsr=dsr)

    def noise_changed(self, noise: NoiseSettings) -> None:
        """The proxy's impairments changed: this DTE's modem uses them from its next call."""
        if isinstance(self._engine, Modem):
            self._engine.noise = noise

    def dtr_changed(self, on: bool) -> None:
        """The DTE raised or dropped DTR (RFC 2217 SET-CONTROL, or B0 on the pty)."""
        engine = self._engine
        if isinstance(engine, Modem):
            engine.dtr_changed(on, self._clock.now())
            self._loop.call_soon(self._service)  # not inside the Telnet parser

    def _write_caller(self, data: bytes) -> None:
        if self._caller is None or self._closed:
            return
        if self._comport is not None:
            data = self._comport.encode(data)
        self._caller.write(data)

    def data_received(self, data: bytes) -> None:
        if self._comport is not None:
            data = self._comport.decode(data)
        if self._engine is None or not data:
            return
        self._engine.from_caller(data, self._clock.now())
        self._service()

    def eof_received(self) -> bool:
        return False  # the DTE is gone: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._engine is not None:
            self._engine.caller_closed(self._clock.now())
            self._service()
        self._cleanup()

    def shutdown(self) -> None:
        """Proxy closing: drop everything this session holds."""
        if self._caller is not None:
            self._caller.abort()
        self._cleanup()

    def pause_dte(self, paused: bool) -> None:
        """The far modem's buffer is full (or drained): stop (resume) reading our DTE."""
        if self._caller is None or self._closed or paused == self._caller_paused:
            return
        if paused:
            self._caller.pause_reading()
        else:
            self._caller.resume_reading()
        self._caller_paused = paused

    def ring(self, call_id: int, caller: _Session, remote_mnp: MnpLevel) -> bool:
        """An incoming call from ``caller``'s modem; False if this modem cannot take it."""
        engine = self._engine
        if not isinstance(engine, Modem) or self._call_id:
            return False
        if not engine.incoming(call_id, self._clock.now(), remote_mnp):
            return False
        self._call_id = call_id
        self._callee = _PeerLink(caller, call_id)
        self._service()
        return True

    # Callee side.

    def callee_data(self, call_id: int, data: bytes) -> None:
        if call_id != self._call_id or self._engine is None:
            return
        self._engine.from_callee(data, self._clock.now())
        self._service()

    def callee_lost(self, call_id: int) -> None:
        if call_id != self._call_id or self._engine is None:
            return
        self._callee = None
        self._engine.callee_closed(self._clock.now())
        self._service()
        engine = self._engine
        if self.answer_number is not None and isinstance(engine, Modem) and not engine.in_call:
            self._call_id = 0  # the caller gave up while it rang: the modem is free again

    def _connect(self, call_id: int, address: Address) -> None:
        self._call_id = call_id
        self._connecting = self._loop.create_task(self._open_callee(call_id, address))

    async def _open_callee(self, call_id: int, address: Address) -> None:
        try:
            transport, _ = await self._loop.create_connection(
                lambda: _Callee(self, call_id), address.host, address.port
            )
        except OSError as exc:
            log.info("call %d: %s does not answer (%s)", call_id, address, exc)
            self._connecting = None
            self._callee_failed(call_id)
            return
        self._connecting = None
        if call_id != self._call_id or self._closed:
            transport.close()
            return
        self._callee = transport
        if self._callee_pending:
            transport.write(bytes(self._callee_pending))
            self._callee_pending.clear()
        if self._settings.hayes and self._engine is not None:
            self._engine.dial_outcome(call_id, DialOutcome.ANSWERED, self._clock.now())
        self._service()

    def _callee_failed(self, call_id: int) -> None:
        if call_id != self._call_id:
            return
        if self._settings.hayes and self._engine is not None:
            self._release_line()
            self._engine.dial_outcome(call_id, DialOutcome.RING_NO_ANSWER, self._clock.now())
            self._service()
            return
        # --direct: the number was "already dialled" and nobody is there.
        if isinstance(self._engine, DirectCall):
            self._engine.unreachable(self._clock.now())
            self._service()

    # The engine.

    def _service(self) -> None:
        engine = self._engine
        if engine is None:
            return
        self._last_service = self._loop.time()
        now = self._clock.now()
        for _ in range(8):  # dial outcomes may produce more events at the same instant
            events = engine.poll(now)
            if not events:
                break
            for event in events:
                self._dispatch(event, now)
        if self._pty_hangup:
            self._pty_hangup = False
            if isinstance(self._caller, PtyTransport) and not self._closed:
                self._caller.carrier_lost()
        self._flow_control(engine, now)
        if self._comport is not None and not self._closed:
            self._comport.update()
        self._schedule(engine)

    def _dispatch(self, event: Event, now: float) -> None:
        engine = self._engine
        assert engine is not None
        if isinstance(event, ToCaller):
            self._write_caller(event.data)
        elif isinstance(event, ToCallee):
            if self._callee is not None:
                self._callee.write(event.data)
            else:
                self._callee_pending += event.data
        elif isinstance(event, DialRequested):
            self._call_id = event.call_id
            answerers = self._proxy.answer_group(event.number)
            if answerers is not None:
                self._ring(event, answerers, now)
                return
            address = self._settings.resolve(event.number)
            if address is None:
                engine.dial_outcome(event.call_id, DialOutcome.NOT_IN_SERVICE, now)
            elif not self._proxy.pool_for(event.number).try_acquire():
                engine.dial_outcome(event.call_id, DialOutcome.BUSY, now)
            else:
                self._line_held = self._proxy.pool_for(event.number)
                self._connect(event.call_id, address)
        elif isinstance(event, Answered):
            peer = self._callee
            if isinstance(peer, _PeerLink) and peer._peer is not None:
                caller = peer._peer
                if caller._engine is not None:
                    caller._engine.dial_outcome(
                        event.call_id, DialOutcome.PICKED_UP, now, remote_mnp=event.mnp
                    )
                    caller._service()
        elif isinstance(event, CallEnded):
            self._end_call(event)
        elif isinstance(event, CarrierChanged):
            self._dcd = event.on
            if self._comport is not None and not self._closed:
                self._comport.update()  # in order with the result codes around it
            if not event.on and isinstance(self._caller, PtyTransport):
                self._pty_hangup = True  # once the results of this instant are written

    def _ring(self, event: DialRequested, answerers: list[_Session], now: float) -> None:
        """Ring the first idle modem of the number's bank; BUSY when none is idle."""
        engine = self._engine
        assert isinstance(engine, Modem)
        for answerer in list(answerers):
            if answerer is not self and answerer.ring(event.call_id, self, engine.mnp_capability):
                self._callee = _PeerLink(answerer, event.call_id)
                engine.dial_outcome(event.call_id, DialOutcome.RING_NO_ANSWER, now)
                return
        engine.dial_outcome(event.call_id, DialOutcome.BUSY, now)

    def _end_call(self, event: CallEnded) -> None:
        if event.call_id == self._call_id:
            self._call_id = 0
            if self._connecting is not None:
                self._connecting.cancel()
                self._connecting = None
            if self._callee is not None:
                self._callee.close()
                self._callee = None
            self._callee_pending.clear()
            self._callee_paused = False
            self._release_line()
        self._proxy.report(event.report)
        if not self._settings.hayes and self.answer_number is None and self._caller is not None:
            self._caller.close()

    def _flow_control(self, engine: CallEngine, now: float) -> None:
        settings = self._settings
        caller_backlog = engine.caller_backlog(now)
        # Only RTS/CTS (&K3) holds the DTE back; without it the modem's buffer overflows.
        holds_back = not isinstance(engine, Modem) or engine.profile.flow_control == 3
        if self._caller is not None and not self._closed and (holds_back or self._caller_paused):
            if not self._caller_paused and caller_backlog > settings.high_water:
                self._caller.pause_reading()
                self._caller_paused = True
            elif self._caller_paused and caller_backlog < settings.low_water:
                self._caller.resume_reading()
                self._caller_paused = False
        callee_backlog = engine.callee_backlog(now)
        if self._callee is not None:
            if not self._callee_paused and callee_backlog > settings.high_water:
                self._callee.pause_reading()
                self._callee_paused = True
            elif self._callee_paused and callee_backlog < settings.low_water:
                self._callee.resume_reading()
                self._callee_paused = False

    def _schedule(self, engine: CallEngine) -> None:
        """Wake at the engine's next deadline, but at most once a tick for a busy call;
        when a short burst will be over within the tick, wake right at its end instead."""
        deadline = engine.next_deadline()
        if deadline is None or self._closed:
            self._cancel_timer()
            return
        when = self._clock.wall(deadline)
        earliest = self._last_service + self._settings.tick
        if when < earliest:
            settle = engine.settle_time()
            when = earliest if settle is None else min(earliest, self._clock.wall(settle))
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._on_timer)
        self._timer_at = when

    def _on_timer(self) -> None:
        self._timer = None
        self._service()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _release_line(self) -> None:
        if self._line_held is not None:
            self._line_held.release()
            self._line_held = None

    def _cleanup(self) -> None:
        self._closed = True
        self._cancel_timer()
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        if self._callee is not None:
            with contextlib.suppress(Exception):
                self._callee.close()
            self._callee = None
        self._release_line()
        self._proxy.unregister(self)
