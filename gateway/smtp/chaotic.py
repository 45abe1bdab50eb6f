"""The submission handler with the test rig's faults in front of it (``gateway.chaos``)."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from aiosmtpd.smtp import SMTP, Session

from gateway.chaos import Chaos, Stage
from gateway.smtp.handler import SubmissionHandler

__all__ = ["ChaoticHandler"]


class ChaoticHandler(SubmissionHandler):
    """Each hook first asks the chaos switches (``refusal_at``); a 421 also closes the
    connection (RFC 5321 §3.8), after the reply is written.

    A fault belongs to a session ("the next N sessions"): the switches are asked once per
    session and stage, and a faulted session gets the fault at every command of that stage
    (each RCPT, EHLO and the HELO a client falls back to), counting once."""

    def __init__(self, chaos: Chaos, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chaos = chaos
        self._decided: weakref.WeakKeyDictionary[Session, dict[Stage, str | None]] = (
            weakref.WeakKeyDictionary()
        )

    def refusal_at(self, server: SMTP, session: Session, stage: Stage) -> str | None:
        decided = self._decided.get(session)  # no new dict and weak reference per command
        if decided is None:
            decided = self._decided[session] = {}
        if stage not in decided:
            decided[stage] = self.chaos.smtp_fault(stage)
        reply = decided[stage]
        if reply is not None and reply.startswith("421") and server.transport is not None:
            transport = server.transport
            asyncio.get_running_loop().call_soon(transport.close)
        return reply
