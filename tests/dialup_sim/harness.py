"""A DTE and a telephone network for driving the sans-IO modem with a fake clock."""

from __future__ import annotations

from typing import Any

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
from dialup_sim.modem import Mode, Modem


class ModemHarness:
    """Feeds the modem byte by byte at given simulated times and sorts what comes out."""

    def __init__(self, **options: Any) -> None:
        self.modem = Modem(**options)
        self.now = 0.0
        self.screen = bytearray()  # what the DTE received
        self.line_out = bytearray()  # what reached the server
        self.dials: list[DialRequested] = []
        self.ended: list[CallEnded] = []
        self.answered: list[Answered] = []
        self.dcd: list[bool] = []  # CarrierChanged, in order

    def mode(self) -> Mode:
        return self.modem.mode

    def type(self, text: bytes | str, *, at: float | None = None, gap: float = 0.0) -> bytes:
        """Send ``text`` one byte at a time (``gap`` seconds apart); return the new output."""
        data = text.encode("latin-1") if isinstance(text, str) else text
        if at is not None:
            self.now = at
        mark = len(self.screen)
        for byte in data:
            self.modem.from_caller(bytes((byte,)), self.now)
            self._collect(self.modem.poll(self.now))
            self.now += gap
        return bytes(self.screen[mark:])

    def command(self, line: str, *, at: float | None = None) -> bytes:
        return self.type(line + "\r", at=at)

    def advance(self, until: float) -> bytes:
        """Let simulated time pass, servicing every deadline, up to ``until``."""
        mark = len(self.screen)
        while True:
            deadline = self.modem.next_deadline()
            if deadline is None or deadline > until:
                break
            self.now = max(self.now, deadline)
            self._collect(self.modem.poll(self.now))
        self.now = max(self.now, until)
        self._collect(self.modem.poll(self.now))
        return bytes(self.screen[mark:])

    def answer(self, outcome: DialOutcome, *, at: float | None = None) -> bool:
        if at is not None:
            self.now = at
        accepted = self.modem.dial_outcome(self.dials[-1].call_id, outcome, self.now)
        self._collect(self.modem.poll(self.now))
        return accepted

    def server_sends(self, data: bytes, *, at: float | None = None) -> None:
        if at is not None:
            self.now = at
        self.modem.from_callee(data, self.now)
        self._collect(self.modem.poll(self.now))

    def ring(self, call_id: int = 77, *, at: float) -> bool:
        """An incoming call for this modem's line."""
        self.now = at
        accepted = self.modem.incoming(call_id, at)
        self._collect(self.modem.poll(at))
        return accepted

    def dte_gone(self, *, at: float) -> None:
        self.now = at
        self.modem.caller_closed(at)
        self._collect(self.modem.poll(at))

    def server_gone(self, *, at: float) -> None:
        self.now = at
        self.modem.callee_closed(at)
        self._collect(self.modem.poll(at))

    def dial_and_connect(self, number: str = "0800", *, at: float = 0.0) -> bytes:
        self.command(f"ATDT{number}", at=at)
        self.answer(DialOutcome.ANSWERED)
        return self.advance(self.now + 60.0)

    def _collect(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, ToCaller):
                self.screen += event.data
            elif isinstance(event, ToCallee):
                self.line_out += event.data
            elif isinstance(event, DialRequested):
                self.dials.append(event)
            elif isinstance(event, Answered):
                self.answered.append(event)
            elif isinstance(event, CarrierChanged):
                self.dcd.append(event.on)
            else:
                self.ended.append(event)
