"""The caller's modem as a sans-IO state machine: AT commands, dialling, the line, ``+++``.

Inputs are method calls carrying the simulated time in seconds; outputs are ``events``
drained with ``poll``. Nothing here reads a clock or touches a socket.

Rules of this file (after h11's ``_state.py``):

1. Every change of ``mode`` goes through ``_enter`` and the ``TRANSITIONS`` table; a move
   the table lacks is a bug in this module and raises ``ModemStateError``.
2. The DTE talks to the modem in COMMAND and ONLINE_COMMAND (with echo), its bytes go to
   the line in ONLINE (watched for ``+++``), and any byte while DIALING aborts the call.
3. Each ``DialRequested`` is answered by exactly one ``CallEnded``, whatever happens, and
   so is each ``Answered`` (an incoming call this modem picked up).
4. An incoming call (``incoming``) rings while the modem is idle in command mode: ``RING``
   every ring period, S1 counting, answered by ``ATA`` or after S0 rings. The answering
   modem does not model the line again (the caller's modem does): once online it relays.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Final

from dialup_sim.at_commands import (
    AtCommand,
    Command,
    Dial,
    ParsedLine,
    ReadRegister,
    SetRegister,
    parse_command_line,
)
from dialup_sim.escape import EscapeDetector
from dialup_sim.events import (
    Answered,
    CallEnded,
    CarrierChanged,
    DialOutcome,
    DialRequested,
    Event,
    ToCallee,
    ToCaller,
)
from dialup_sim.line import Link, LinkParams, MnpLevel
from dialup_sim.noise import NoiseSettings
from dialup_sim.profile import ErrorControl, ModemProfile
from dialup_sim.result_codes import (
    ConnectInfo,
    Result,
    connect_code,
    format_info,
    format_result,
    visible_result,
)
from dialup_sim.sregisters import RING_COUNT_RESET, SRegisterError
from dialup_sim.stats import CallReport
from dialup_sim.timing import CallTiming
from dialup_sim.vendors import (
    DEFAULT_PROFILE,
    IDENTITY_CALL,
    IDENTITY_SETTINGS,
    IDENTITY_STORED,
    VendorProfile,
)

__all__ = ["TRANSITIONS", "Mode", "Modem", "ModemStateError", "Trigger"]

_LF: Final = 0x0A
_SPACE: Final = 0x20
_MAX_RAW_LINE: Final = 255  # characters buffered, spaces included, whatever the vendor's limit
XON: Final = b"\x11"
XOFF: Final = b"\x13"
DTE_BUFFER: Final = 2048
"""Octets the modem buffers from the DTE for the line; more is lost without flow control."""
XON_BELOW: Final = 512
"""With XON/XOFF (``&K4``) the modem sends XOFF when its buffer is full and XON below this."""


class Mode(Enum):
    COMMAND = "command"
    DIALING = "dialing"
    ONLINE = "online"
    ONLINE_COMMAND = "online-command"


class Trigger(Enum):
    DIAL = "dial"  # ATD, ATA
    CONNECT = "connect"  # carrier and link up
    CALL_FAILED = "call failed"  # BUSY, NO ANSWER, NO CARRIER, abort, ';' done
    ESCAPE = "escape"  # +++ with its guard times
    RESUME = "resume"  # ATO
    HANG_UP = "hang up"  # ATH, ATZ, DTE gone
    CARRIER_LOST = "carrier lost"  # far end hung up, line dropped, MNP gave up


TRANSITIONS: Final[dict[Mode, dict[Trigger, Mode]]] = {
    Mode.COMMAND: {Trigger.DIAL: Mode.DIALING, Trigger.HANG_UP: Mode.COMMAND},
    Mode.DIALING: {
        Trigger.CONNECT: Mode.ONLINE,
        Trigger.CALL_FAILED: Mode.COMMAND,
        Trigger.HANG_UP: Mode.COMMAND,
    },
    Mode.ONLINE: {
        Trigger.ESCAPE: Mode.ONLINE_COMMAND,
        Trigger.CARRIER_LOST: Mode.COMMAND,
        Trigger.HANG_UP: Mode.COMMAND,
    },
    Mode.ONLINE_COMMAND: {
        Trigger.RESUME: Mode.ONLINE,
        Trigger.CARRIER_LOST: Mode.COMMAND,
        Trigger.HANG_UP: Mode.COMMAND,
    },
}


class ModemStateError(RuntimeError):
    """A mode change the table does not allow: a bug here, not bad input."""


class _Input(Enum):
    WAIT_A = 0
    WAIT_T = 1
    IN_LINE = 2


class _Step(Enum):
    NEXT = 0
    STOP = 1  # D, A, O took over: no OK
    ERROR = 2


@dataclass(slots=True)
class _Call:
    call_id: int
    networked: bool  # False for ATA and for "ATD...;" (nothing to connect to)
    started: float
    due: float  # when the pending result is reported
    result: Result  # what will be reported at ``due`` unless the network says otherwise
    report: CallReport
    dial_done: float = 0.0
    answered: bool = False
    remote_closed: bool = False
    remote_closed_at: float = 0.0
    stay_in_command: bool = False
    answering: bool = False  # an incoming call this modem answered
    wait_quiet: bool = False  # dialled with "@" (wait for quiet answer)
    remote_mnp: MnpLevel = MnpLevel.MNP5  # what the far modem can do
    early: bytearray = field(default_factory=bytearray)


@dataclass(slots=True)
class _Ringing:
    call_id: int
    remote_mnp: MnpLevel
    next_ring: float
    last_ring: float = -1.0
    ri_off: float | None = None  # when RI drops after the current burst


class Modem:
    """One Hayes-compatible MNP modem attached to one DTE."""

    def __init__(
        self,
        *,
        bps: int = 9600,
        remote_mnp: MnpLevel = MnpLevel.MNP5,
        latency: float = 0.0,
        noise: NoiseSettings | None = None,
        rng: random.Random | None = None,
        timing: CallTiming | None = None,
        profile: ModemProfile | None = None,
        vendor: VendorProfile = DEFAULT_PROFILE,
        dte_bps: int | None = None,
        call_ids: Callable[[], int] | None = None,
    ) -> None:
        self.vendor = vendor
        self._dte_bps = dte_bps  # the locked DTE rate W0 reports; None: the line rate
        self._bps = bps
        self._remote_mnp = remote_mnp
        self._latency = latency
        self._noise = noise or NoiseSettings()
        self._rng = rng or random.Random(0)
        self._timing = timing or CallTiming()
        self._factory = profile.copy() if profile is not None else vendor.factory()
        self._stored = self._factory.copy()
        self.profile = self._stored.copy()
        self.mode = Mode.COMMAND
        self._out: list[Event] = []
        self._input = _Input.WAIT_A
        self._a_char = 0
        self._line = bytearray()
        self._counted = 0  # characters in the line that count against the vendor's limit
        self._overflow = False
        self._last_line = ""
        self._last_number = ""
        self._call_ids = call_ids or itertools.count(1).__next__
        self._call: _Call | None = None
        self._link: Link | None = None
        self._connect_info: ConnectInfo | None = None
        self._escape = EscapeDetector()
        self._ringing: _Ringing | None = None
        self._xoff_sent = False
        self._dtr = True
        self._dcd_reported = self.carrier()
        self._held = bytearray()
        self._hangup_at: float | None = None
        self._hangup_reason = ""
        self._closed = False
        self.last_report: CallReport | None = None

    @property
    def noise(self) -> NoiseSettings:
        """The impairments of this modem's next call (a call under way keeps its own)."""
        return self._noise

    @noise.setter
    def noise(self, noise: NoiseSettings) -> None:
        self._noise = noise

    # Inputs.

    def from_caller(self, data: bytes, now: float) -> None:
        """Bytes typed or sent by the DTE."""
        self._advance(now)
        if self._closed or not data:
            return
        for index, byte in enumerate(data):
            mode = self._current_mode()  # a command earlier in this chunk may have changed it
            if mode is Mode.ONLINE:
                self._online_data(data[index:], now)
                return
            if mode is Mode.DIALING:
                if byte != _LF:
                    self._abort_dial(now)
                continue
            if self.profile.echo:
                self._to_caller(bytes((byte,)))
            self._command_byte(byte, now)

    def from_callee(self, data: bytes, now: float) -> None:
        """Bytes the server wrote, to cross the line towards the DTE."""
        self._advance(now)
        if not data:
            return
        if self._link is not None:
            self._link.send_down(data, now)
        elif self._relaying():
            if self.mode is Mode.ONLINE:
                self._to_caller(data)
            else:
                self._held += data
        elif self._call is not None and self._call.answered:
            self._call.early += data

    def caller_closed(self, now: float) -> None:
        """The DTE went away (over TCP: cable pulled, DTR down): hang up at once."""
        self._advance(now)
        self._closed = True
        if self._call is not None:
            self._end_call(now, "DTE hung up", Trigger.HANG_UP, report_result=False)

    def callee_closed(self, now: float) -> None:
        """The server closed (or the calling modem hung up): the far modem drops the carrier
        once its data is sent; a call still ringing stops ringing."""
        self._advance(now)
        if self._call is None and self._ringing is not None:
            self._stop_ringing()
        if self._call is not None and not self._call.remote_closed:
            self._call.remote_closed = True
            self._call.remote_closed_at = now
        self._check_remote_hangup(now)

    def dtr_changed(self, on: bool, now: float) -> None:
        """The DTE raised or dropped DTR. A drop acts per ``&D``: 0 ignore, 1 online-command
        mode, 2 hang up, 3 hang up and reset to the stored profile (tcpser and DOSBox
        report ``NO CARRIER`` for the hang-up, and so does this modem)."""
        self._advance(now)
        was, self._dtr = self._dtr, on
        if on or not was:
            return
        mode = self.profile.dtr_mode
        if mode == 1 and self.mode is Mode.ONLINE:
            self._enter(Trigger.ESCAPE)
            self._result(Result.OK)
        elif mode in (2, 3):
            if self._ringing is not None:
                self._stop_ringing()
            if self._call is not None:
                self._end_call(now, "DTR dropped", Trigger.HANG_UP, result=Result.NO_CARRIER)
            if mode == 3:
                self.profile = self._stored.copy()

    @property
    def dtr(self) -> bool:
        return self._dtr

    def incoming(self, call_id: int, now: float, remote_mnp: MnpLevel = MnpLevel.MNP5) -> bool:
        """A call for this modem's line; False (the caller hears busy) unless the modem is
        idle, on hook, in command mode."""
        self._advance(now)
        if self._closed or self.mode is not Mode.COMMAND or self._call is not None:
            return False
        if self._ringing is not None:
            return False
        self._ringing = _Ringing(call_id, remote_mnp, now)
        self._advance(now)
        return True

    @property
    def mnp_capability(self) -> MnpLevel:
        """What this modem offers the far end under its current ``\\N`` and ``%C``."""
        if self.profile.error_control in (ErrorControl.NORMAL, ErrorControl.DIRECT):
            return MnpLevel.NONE
        return MnpLevel.MNP5 if self.profile.compression else MnpLevel.MNP4

    def carrier(self) -> bool:
        """DCD as the DTE sees it: on with the carrier (``&C1``) or always (``&C0``)."""
        if self.profile.dcd_mode == 0:
            return True
        return self._connect_info is not None and self.mode in (Mode.ONLINE, Mode.ONLINE_COMMAND)

    def ring_indicator(self, now: float) -> bool:
        """RI: on during each ring burst of an incoming call."""
        ring = self._ringing
        return ring is not None and 0 <= now - ring.last_ring < self._timing.ring_on

    def dial_outcome(
        self,
        call_id: int,
        outcome: DialOutcome,
        now: float,
        *,
        remote_mnp: MnpLevel | None = None,
    ) -> bool:
        """The network's answer to ``DialRequested``; False if that call is already over.
        ``remote_mnp`` is what the answering modem offers, when the network knows it."""
        self._advance(now)
        call = self._call
        if call is None or call.call_id != call_id or self.mode is not Mode.DIALING:
            return False
        if remote_mnp is not None:
            call.remote_mnp = remote_mnp
        registers = self.profile.registers
        deadline = call.started + registers.carrier_wait
        timing = self._timing
        if outcome is DialOutcome.ANSWERED:
            call.answered = True
            handshake = timing.answer_after + self._handshake()
            connect_at = max(call.dial_done + handshake, now)
            if connect_at <= deadline:
                call.due, call.result = connect_at, Result.CONNECT
        elif outcome is DialOutcome.PICKED_UP:
            call.answered = True
            connect_at = max(call.dial_done, now) + self._handshake()
            if connect_at <= deadline:
                call.due, call.result = connect_at, Result.CONNECT
        elif outcome is DialOutcome.BUSY and self.vendor.detects_busy(self.profile.x_level):
            call.due, call.result = max(call.dial_done + timing.busy_detect, now), Result.BUSY
        elif (
            outcome is DialOutcome.RING_NO_ANSWER
            and not call.answered
            and self._says_no_answer(call)
        ):
            call.result = Result.NO_ANSWER
        self._advance(now)
        return True

    def _says_no_answer(self, call: _Call) -> bool:
        """U.S. Robotics: ``NO ANSWER`` only after ``@``; unanswered otherwise is NO CARRIER."""
        return call.wait_quiet or not self.vendor.no_answer_needs_quiet_dial

    def poll(self, now: float) -> list[Event]:
        """Advance to ``now`` and hand over everything the modem wants done."""
        self._advance(now)
        out, self._out = self._out, []
        return out

    def next_deadline(self) -> float | None:
        """The next simulated time at which ``poll`` has something new to do."""
        candidates: list[float] = []
        if self.mode is Mode.DIALING and self._call is not None:
            candidates.append(self._call.due)
        ring = self._ringing
        if ring is not None:
            candidates.append(ring.next_ring)
            if ring.ri_off is not None:
                candidates.append(ring.ri_off)
        if self._link is not None:
            event = self._link.next_event()
            if event is not None:
                candidates.append(event)
        if self.mode is Mode.ONLINE:
            escape = self._escape.deadline(self.profile.registers.guard_time)
            if escape is not None:
                candidates.append(escape)
        if self._hangup_at is not None:
            candidates.append(self._hangup_at)
        return min(candidates) if candidates else None

    def settle_time(self) -> float | None:
        """When everything pending now will have happened (``None``: nothing pending;
        infinity: cannot tell yet). Lets the adapter wake once at the end of a short burst
        instead of at every byte."""
        pending: list[float] = []
        if self.mode is Mode.DIALING and self._call is not None:
            pending.append(self._call.due)
        if self._link is not None:
            settle = self._link.settle_time()
            if settle is not None:
                pending.append(settle)
        if self.mode is Mode.ONLINE:
            escape = self._escape.deadline(self.profile.registers.guard_time)
            if escape is not None:
                pending.append(escape)
        if self._hangup_at is not None:
            pending.append(self._hangup_at)
        return max(pending) if pending else None

    def caller_backlog(self, now: float) -> int:
        """Octets from the DTE waiting for the line (flow control stops the DTE when high)."""
        return self._link.up.backlog(now) if self._link is not None else 0

    def callee_backlog(self, now: float) -> int:
        if self._link is not None:
            return self._link.down.backlog(now) + len(self._held)
        return len(self._call.early) if self._call is not None else 0

    @property
    def connect_info(self) -> ConnectInfo | None:
        return self._connect_info if self.carrier_up else None

    @property
    def in_call(self) -> bool:
        """Off hook: dialling, answering or online."""
        return self._call is not None

    @property
    def carrier_up(self) -> bool:
        return self._link is not None or (self._call is not None and self._relaying())

    def _relaying(self) -> bool:
        """Online on an answered call: bytes pass straight between DTE and far modem."""
        call = self._call
        return (
            call is not None and call.answering and self.mode in (Mode.ONLINE, Mode.ONLINE_COMMAND)
        )

    # Time.

    def _advance(self, now: float) -> None:
        self._ring_until(now)
        call = self._call
        if self.mode is Mode.DIALING and call is not None and now >= call.due:
            self._finish_dial(call, call.due)
        link = self._link
        if link is not None:
            to_callee, to_caller = link.poll(now)
            if to_callee:
                self._out.append(ToCallee(to_callee))
            if to_caller:
                if self.mode is Mode.ONLINE:
                    self._to_caller(to_caller)
                else:
                    self._held += to_caller
            self._flow_out(link, now)
            if link.lost_at is not None and self._hangup_at is None:
                reason = link.loss_reason.value if link.loss_reason is not None else "lost"
                self._schedule_hangup(link.lost_at, reason)
            self._check_remote_hangup(now)
        if self.mode is Mode.ONLINE and self._escape.expired(
            now, self.profile.registers.guard_time
        ):
            self._enter(Trigger.ESCAPE)
            self._result(Result.OK)
        if self._hangup_at is not None and now >= self._hangup_at and self._call is not None:
            self._end_call(self._hangup_at, self._hangup_reason, Trigger.CARRIER_LOST)

    def _ring_until(self, now: float) -> None:
        ring = self._ringing
        registers = self.profile.registers
        if ring is not None and ring.ri_off is not None and ring.ri_off <= now:
            ring.ri_off = None
        timing = self._timing
        while ring is not None and self._ringing is ring and ring.next_ring <= now:
            at = ring.next_ring
            if ring.last_ring >= 0 and at - (ring.last_ring + timing.ring_on) >= RING_COUNT_RESET:
                registers.set(1, 0)  # silence long enough: the count starts again
            ring.last_ring = at
            ring.next_ring += timing.ring_period
            ring.ri_off = at + timing.ring_on if at + timing.ring_on > now else None
            self._result(Result.RING)
            count = min(registers[1] + 1, 255)
            registers.set(1, count)
            if registers[0] and count >= registers[0]:
                self._answer_ringing(ring, at)

    def _stop_ringing(self) -> None:
        self._ringing = None
        self.profile.registers.set(1, 0)

    def _check_remote_hangup(self, now: float) -> None:
        call, link = self._call, self._link
        if call is None or not call.remote_closed or self._hangup_at is not None:
            return
        if link is None:
            if self._relaying():
                self._schedule_hangup(now, "remote hung up")
            return
        if link.down.idle():
            dropped = max(call.remote_closed_at, link.down.last_delivery)
            self._schedule_hangup(min(dropped, now), "remote hung up")

    def _schedule_hangup(self, carrier_gone: float, reason: str) -> None:
        self._hangup_at = carrier_gone + self.profile.registers.lost_carrier_delay
        self._hangup_reason = reason

    # The DTE in command mode.

    def _command_byte(self, byte: int, now: float) -> None:
        registers = self.profile.registers
        state = self._input
        if state is _Input.WAIT_A:
            if byte in (0x41, 0x61):
                self._input, self._a_char = _Input.WAIT_T, byte
        elif state is _Input.WAIT_T:
            if byte == self._a_char + 0x13:  # 'A'->'T', 'a'->'t': same case required
                self._input, self._line, self._overflow = _Input.IN_LINE, bytearray(), False
                self._counted = 0
            elif byte == 0x2F:  # A/ repeats the last line, no CR needed
                self._input = _Input.WAIT_A
                self._execute(self._last_line, now)
            elif byte in (0x41, 0x61):
                self._a_char = byte
            else:
                self._input = _Input.WAIT_A
        elif byte == registers[3]:
            self._input = _Input.WAIT_A
            if self._overflow:
                self._result(Result.ERROR)
            else:
                text = self._line.decode("latin-1")
                self._last_line = text
                self._execute(text, now)
        elif byte == registers.backspace:
            if self._line and self._line.pop() != _SPACE:
                self._counted -= 1
        elif byte >= _SPACE:
            if len(self._line) >= _MAX_RAW_LINE:
                self._overflow = True
            elif byte == _SPACE:  # Hayes modems do not count spaces against the buffer
                self._line.append(byte)
            elif self._counted >= self.vendor.max_line:
                self._overflow = True
            else:
                self._line.append(byte)
                self._counted += 1

    def _execute(self, text: str, now: float) -> None:
        parsed = parse_command_line(text, self.vendor.commands)
        try:
            self._execute_parsed(parsed, now)
        finally:
            self._note_carrier()  # &C, &F, Z may have changed what DCD shows

    def _execute_parsed(self, parsed: ParsedLine, now: float) -> None:
        for command in parsed.commands:
            step = self._run(command, now)
            if step is _Step.ERROR:
                self._result(Result.ERROR)
                return
            if step is _Step.STOP:
                return
        self._result(Result.ERROR if parsed.error is not None else Result.OK)

    def _run(self, command: AtCommand, now: float) -> _Step:
        profile = self.profile
        if isinstance(command, SetRegister):
            try:
                profile.registers.set(command.register, command.value)
            except SRegisterError:
                return _Step.ERROR
            return _Step.NEXT
        if isinstance(command, ReadRegister):
            try:
                value = profile.registers.get(command.register)
            except SRegisterError:
                return _Step.ERROR
            self._info(f"{value:03d}")
            return _Step.NEXT
        if isinstance(command, Dial):
            return self._dial(command, now)
        return self._basic(command, now)

    def _basic(self, command: Command, now: float) -> _Step:
        profile, name, arg = self.profile, command.name, command.arg
        online_command = self.mode is Mode.ONLINE_COMMAND
        match name:
            case "&F":
                self.profile = self._factory.copy()
            case "&W":
                self._stored = profile.copy()
            case "&V":
                self._info(self.vendor.listing(profile))
            case "Z":
                if self._call is not None:
                    self._end_call(now, "reset", Trigger.HANG_UP, report_result=False)
                self.profile = self._stored.copy()
            case "H":
                if self._call is not None:
                    self._end_call(now, "local hang-up", Trigger.HANG_UP, report_result=False)
            case "I":
                return self._identify(arg, now)
            case "O":
                if not online_command:
                    self._result(Result.NO_CARRIER)
                    return _Step.STOP
                self._resume(now)
                return _Step.STOP
            case "A":
                if online_command:
                    return _Step.ERROR
                self._answer(now)
                return _Step.STOP
            case _:
                # Settings: acted on where the vendor gives them a meaning, else stored
                # for AT&V (the parser has already checked the number against the table).
                self.vendor.apply(profile, name, arg)
        return _Step.NEXT

    def _identify(self, arg: int, now: float) -> _Step:
        text = self.vendor.identity.get(arg)
        if text is None:
            return _Step.ERROR
        if text == IDENTITY_CALL:
            text = self._call_diagnostics(now)
        elif text == IDENTITY_SETTINGS:
            text = self.vendor.listing(self.profile)
        elif text == IDENTITY_STORED:
            text = self.vendor.listing(self._stored).replace("ACTIVE", "STORED", 1)
        if text:
            self._info(text)
        return _Step.NEXT

    def _call_diagnostics(self, now: float) -> str:
        """``ATI6``: the call in progress (asked from online-command mode), else the last."""
        call, link = self._call, self._link
        if call is not None and call.report.connected_at is not None:
            report = replace(call.report, ended_at=now, reason="")
            if link is not None:
                report.up, report.down = link.up.stats, link.down.stats
            return report.diagnostics(current=True)
        if self.last_report is not None:
            return self.last_report.diagnostics()
        return "LAST CALL\nNONE"

    # Calls.

    def _dial(self, dial: Dial, now: float) -> _Step:
        if self.mode is not Mode.COMMAND:
            return _Step.ERROR
        number = self._last_number if dial.redial else dial.number
        self._last_number = number
        registers = self.profile.registers
        timing = self._timing
        wait_tone = (
            timing.dial_tone_detect
            if self.vendor.detects_dial_tone(self.profile.x_level)
            else registers.dial_tone_wait
        )
        sending = timing.dial_seconds(
            number,
            pulse=dial.pulse,
            tone_length=registers.dtmf_duration,
            pauses=dial.pauses,
            comma=registers.comma_pause,
        )
        dial_done = now + wait_tone + sending + dial.dial_tone_waits * timing.dial_tone_detect
        call_id = self._call_ids()
        report = CallReport(call_id, number=number, dialed_at=now)
        if dial.stay_in_command:
            call = _Call(call_id, False, now, dial_done, Result.OK, report, dial_done=dial_done)
            call.stay_in_command = True
        else:
            wait = now + registers.carrier_wait
            call = _Call(call_id, True, now, wait, Result.NO_CARRIER, report, dial_done=dial_done)
            call.wait_quiet = dial.wait_quiet
            self._out.append(DialRequested(call_id, number))
        call.remote_mnp = self._remote_mnp
        self._start_call(call)
        return _Step.STOP

    def _handshake(self) -> float:
        """Answer tone and training, plus the MNP link request if this modem tries it."""
        timing = self._timing
        handshake = timing.training
        if self.profile.error_control in (ErrorControl.RELIABLE, ErrorControl.AUTO_RELIABLE):
            handshake += timing.mnp_negotiation
        return handshake

    def _answer_ringing(self, ring: _Ringing, when: float) -> None:
        """Off hook on the ringing call (ATA or S0): answer tone, training, then CONNECT."""
        self._stop_ringing()
        report = CallReport(ring.call_id, number="incoming", dialed_at=when)
        call = _Call(
            ring.call_id,
            True,
            when,
            when + self._handshake(),
            Result.CONNECT,
            report,
            dial_done=when,
            answered=True,
            answering=True,
            remote_mnp=ring.remote_mnp,
        )
        self._out.append(Answered(ring.call_id, self.mnp_capability))
        self._start_call(call)

    def _answer(self, now: float) -> None:
        """ATA: answer the ringing call; with nobody calling, off hook, answer tone, then
        NO CARRIER after S7."""
        if self._ringing is not None:
            self._answer_ringing(self._ringing, now)
            return
        call_id = self._call_ids()
        due = now + self.profile.registers.carrier_wait
        self._start_call(_Call(call_id, False, now, due, Result.NO_CARRIER, CallReport(call_id)))

    def _start_call(self, call: _Call) -> None:
        if self._ringing is not None:  # off hook to dial: the incoming call is not taken
            self._stop_ringing()
        self._call = call
        self._hangup_at = None
        self._enter(Trigger.DIAL)

    def _abort_dial(self, now: float) -> None:
        call = self._call
        assert call is not None
        if call.stay_in_command:
            self._enter(Trigger.CALL_FAILED)
            self._call = None
            self._result(Result.OK)
            return
        self._end_call(now, "aborted by DTE", Trigger.CALL_FAILED, result=Result.NO_CARRIER)

    def _finish_dial(self, call: _Call, when: float) -> None:
        if call.result is Result.OK:  # "ATD...;" done dialling
            self._enter(Trigger.CALL_FAILED)
            self._call = None
            self._result(Result.OK)
            return
        if call.result is not Result.CONNECT:
            self._end_call(when, call.result.value.lower(), Trigger.CALL_FAILED, result=call.result)
            return
        params = self._negotiate(call.remote_mnp)
        if params is None:
            self._end_call(when, "no MNP at far end", Trigger.CALL_FAILED, result=Result.NO_CARRIER)
            return
        if call.remote_closed and not call.early:
            self._end_call(when, "remote hung up", Trigger.CALL_FAILED, result=Result.NO_CARRIER)
            return
        self._connect_info = params.connect_info
        if not call.answering:
            self._link = Link(params, when, self._noise, self._rng)
        call.report.connected_at = when
        call.report.mode = params.connect_info.describe()
        call.report.result = self._connect_text()
        self._escape = EscapeDetector(when)
        self._enter(Trigger.CONNECT)
        self._result(Result.CONNECT)
        if call.early:
            if self._link is not None:
                self._link.send_down(bytes(call.early), when)
            else:
                self._to_caller(bytes(call.early))
            call.early.clear()
        self._check_remote_hangup(when)

    def _negotiate(self, remote: MnpLevel) -> LinkParams | None:
        mode = self.profile.error_control
        if mode is ErrorControl.LAPM:
            return None  # V.42 LAPM only: no simulated modem answers it
        if mode in (ErrorControl.NORMAL, ErrorControl.DIRECT):
            mnp = MnpLevel.NONE
        elif remote is MnpLevel.NONE:
            if mode is ErrorControl.RELIABLE:
                return None
            mnp = MnpLevel.NONE
        elif remote is MnpLevel.MNP5 and self.profile.compression:
            mnp = MnpLevel.MNP5
        else:
            mnp = MnpLevel.MNP4
        return LinkParams(self._bps, mnp, self._latency)

    def _resume(self, now: float) -> None:
        self._enter(Trigger.RESUME)
        self._escape = EscapeDetector(now)
        self._result(Result.CONNECT)
        if self._held:
            self._to_caller(bytes(self._held))
            self._held.clear()

    def _online_data(self, data: bytes, now: float) -> None:
        registers = self.profile.registers
        self._escape.feed(data, now, registers.escape_char, registers.guard_time)
        link = self._link
        if link is not None:
            data = self._flow_in(data, link, now)
            link.send_up(data, now)
        elif self._relaying():
            self._out.append(ToCallee(bytes(data)))

    def _flow_in(self, data: bytes, link: Link, now: float) -> bytes:
        """Without RTS/CTS the DTE is not held back: what overflows the buffer is lost
        (``&K0``), or the modem sends XOFF and hopes the DTE honours it (``&K4``)."""
        control = self.profile.flow_control
        if control == 3 or self._call is None:
            return data  # RTS/CTS: the adapter stops reading the DTE (CTS off) instead
        room = max(DTE_BUFFER - link.up.backlog(now), 0)
        if len(data) > room:
            self._call.report.overrun += len(data) - room
            data = data[:room]
        if control == 4 and not self._xoff_sent and link.up.backlog(now) + len(data) >= DTE_BUFFER:
            self._xoff_sent = True
            self._to_caller(XOFF)
        return data

    def _flow_out(self, link: Link, now: float) -> None:
        if self._xoff_sent and link.up.backlog(now) < XON_BELOW:
            self._xoff_sent = False
            self._to_caller(XON)

    def _end_call(
        self,
        when: float,
        reason: str,
        trigger: Trigger,
        *,
        result: Result | None = None,
        report_result: bool = True,
    ) -> None:
        call = self._call
        assert call is not None
        report = call.report
        report.ended_at = when
        report.reason = reason
        if self._link is not None:
            report.up, report.down = self._link.up.stats, self._link.down.stats
        shown = result
        if shown is None and report_result and trigger is Trigger.CARRIER_LOST:
            shown = Result.NO_CARRIER
        if shown is not None and not report.result:
            report.result = self._result_text(shown)
        self._call = None
        self._link = None
        self._connect_info = None
        self._xoff_sent = False
        self._held.clear()
        self._hangup_at = None
        self._enter(trigger)
        if call.networked or report.connected_at is not None:
            self.last_report = report
        if call.networked:
            self._out.append(CallEnded(call.call_id, report))
        if shown is not None and report_result and not self._closed:
            self._result(shown, answering=call.answering)

    # Output.

    def _current_mode(self) -> Mode:
        return self.mode

    def _enter(self, trigger: Trigger) -> None:
        target = TRANSITIONS[self.mode].get(trigger)
        if target is None:
            raise ModemStateError(f"{trigger.value!r} is not allowed in mode {self.mode.value}")
        self.mode = target
        self._note_carrier()

    def _note_carrier(self) -> None:
        dcd = self.carrier()
        if dcd != self._dcd_reported:
            self._dcd_reported = dcd
            self._out.append(CarrierChanged(dcd))

    def _to_caller(self, data: bytes) -> None:
        if self._closed:
            return
        out = self._out
        if out and isinstance(out[-1], ToCaller):  # one write per burst, not per echoed byte
            out[-1] = ToCaller(out[-1].data + data)
        else:
            out.append(ToCaller(data))

    def _result(self, result: Result, *, answering: bool | None = None) -> None:
        profile = self.profile
        if profile.quiet == 1 or (profile.quiet == 2 and self._answer_mode(result, answering)):
            return
        registers = profile.registers
        self._to_caller(
            format_result(
                result,
                verbose=profile.verbose,
                x_level=profile.x_level,
                cr=registers.cr,
                lf=registers.lf,
                connect=self._reported_connect(),
                rel_codes=profile.rel_codes,
                table=self.vendor.results,
                extended=profile.connect_form == 1,
            )
        )

    def _answer_mode(self, result: Result, answering: bool | None) -> bool:
        """Q2 silences RING, CONNECT and NO CARRIER of incoming calls (DOSBox's reading)."""
        if answering is None:
            call = self._call
            answering = self._ringing is not None or (call is not None and call.answering)
        return answering and result in (Result.RING, Result.CONNECT, Result.NO_CARRIER)

    def _reported_connect(self) -> ConnectInfo | None:
        """The link as CONNECT reports it: W2 gives the line rate, W0 and W1 the DTE's."""
        info = self._connect_info
        if info is None or self._dte_bps is None or self.profile.connect_form == 2:
            return info
        return replace(info, bps=self._dte_bps)

    def _info(self, text: str) -> None:
        registers = self.profile.registers
        self._to_caller(
            format_info(text, verbose=self.profile.verbose, cr=registers.cr, lf=registers.lf)
        )

    def _connect_text(self) -> str:
        info = self._reported_connect()
        assert info is not None
        profile = self.profile
        return connect_code(info, profile.x_level, profile.rel_codes, self.vendor.results)[1]

    def _result_text(self, result: Result) -> str:
        if result is Result.CONNECT:
            return self._connect_text()
        table = self.vendor.results
        return table.basic[visible_result(result, self.profile.x_level, table)][1]
