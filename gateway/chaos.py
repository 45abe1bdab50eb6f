"""Fault injection for test rigs: the next N SMTP sessions answer a chosen code at a chosen
stage; the pipeline's answers come late; the modem drops carrier after N bytes.

State, no sockets: the SMTP adapter asks ``smtp_fault`` when a session first reaches a
stage and answers what it gets there for the rest of the session; the pipeline awaits
``answer_pause`` before each pass. Switched on and off through the HTTP administration,
only on a node whose settings allow it; each switch is logged.

The modem is another process (``teledispatch modem``): it holds its own carrier-drop switch,
set through its control port (``dialup_sim.control``); the HTTP administration passes the
switch on and records here what the simulator confirmed (``modem_drop_after``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["FAULT_REPLIES", "Chaos", "FaultCode", "SmtpFault", "Stage"]

log = logging.getLogger(__name__)

Stage = Literal["helo", "mail", "rcpt", "data"]
FaultCode = Literal[421, 451, 452, 554]

FAULT_REPLIES: dict[int, str] = {  # SMTP replies are ASCII (RFC 5321 §4.2)
    421: "421 4.3.2 Service not available, closing channel (injected fault)",
    451: "451 4.3.0 Local error in processing, try again later (injected fault)",
    452: "452 4.3.1 Insufficient system storage (injected fault)",
    554: "554 5.3.0 Transaction failed (injected fault)",
}


@dataclass(frozen=True, slots=True)
class SmtpFault:
    """``remaining`` sessions get the fault; or, with ``fraction``, each session does with
    that probability until switched off (``remaining`` then unused)."""

    stage: Stage
    code: FaultCode
    remaining: int
    fraction: float | None = None


class Chaos:
    def __init__(self, draw: Callable[[], float] = random.random) -> None:
        self._draw = draw
        self._smtp: SmtpFault | None = None
        self.answer_delay = 0.0
        """Seconds the pipeline waits before each pass: answers come that much later."""
        self._released = asyncio.Event()
        self.modem_drop_after: int | None = None
        """Bytes after which the modem simulator drops each new call's carrier, as it
        last confirmed (None: off)."""

    @property
    def smtp(self) -> SmtpFault | None:
        return self._smtp

    def set_smtp(self, stage: Stage, code: FaultCode, sessions: int) -> None:
        self._smtp = SmtpFault(stage, code, sessions) if sessions > 0 else None
        log.warning("chaos: next %d SMTP sessions answer %d at %s", sessions, code, stage)

    def set_smtp_fraction(self, stage: Stage, code: FaultCode, fraction: float) -> None:
        self._smtp = SmtpFault(stage, code, 0, min(1.0, max(0.0, fraction)))
        log.warning("chaos: %.0f%% of SMTP sessions answer %d at %s", fraction * 100, code, stage)

    def set_answer_delay(self, seconds: float) -> None:
        self.answer_delay = max(0.0, seconds)
        self._released.set()  # a pause under way ends; the next one uses the new delay
        log.warning("chaos: the pipeline answers %.1f s late", self.answer_delay)

    def set_modem_drop(self, after_bytes: int | None) -> None:
        """Record the simulator's confirmed switch; logged once when set and when cleared."""
        if after_bytes == self.modem_drop_after:
            return
        self.modem_drop_after = after_bytes
        if after_bytes is None:
            log.warning("chaos: the modem carrier holds again")
        else:
            log.warning("chaos: the modem drops each new call after %d bytes", after_bytes)

    def clear(self) -> None:
        """The SMTP and pipeline switches off (the modem's goes through its simulator)."""
        if self._smtp is not None or self.answer_delay:
            log.warning("chaos: switched off")
        self._smtp = None
        self.answer_delay = 0.0
        self._released.set()

    async def answer_pause(self) -> None:
        """The pipeline's wait before a pass (the only place this module touches time)."""
        if self.answer_delay > 0:
            self._released.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.answer_delay):
                    await self._released.wait()

    def smtp_fault(self, stage: Stage) -> str | None:
        """The reply a session reaching ``stage`` for the first time must give instead of its
        own, if any: each call is one session (it takes one of N, or one draw), so the SMTP
        adapter asks once per session and stage and keeps the answer for the session."""
        fault = self._smtp
        if fault is None or fault.stage != stage:
            return None
        if fault.fraction is not None:
            if self._draw() >= fault.fraction:
                return None
            log.info("chaos: answered %d at %s", fault.code, stage)
            return FAULT_REPLIES[fault.code]
        remaining = fault.remaining - 1
        self._smtp = SmtpFault(fault.stage, fault.code, remaining) if remaining > 0 else None
        log.info("chaos: answered %d at %s (%d more)", fault.code, stage, remaining)
        return FAULT_REPLIES[fault.code]
