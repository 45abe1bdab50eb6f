"""The submission handler with the test rig's faults in front of it (``gateway.chaos``)."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.chaos import Chaos, Stage
from gateway.smtp.handler import SubmissionHandler

__all__ = ["ChaoticHandler"]


class ChaoticHandler(SubmissionHandler):
    """Each hook first asks the chaos switches; a 421 also closes the connection (RFC 5321
    §3.8), after the reply is written.

    A fault belongs to a session ("the next N sessions"): the switches are asked once per
    session and stage, and a faulted session gets the fault at every command of that stage
    (each RCPT, EHLO and the HELO a client falls back to), counting once."""

    def __init__(self, chaos: Chaos, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chaos = chaos
        self._decided: weakref.WeakKeyDictionary[Session, dict[Stage, str | None]] = (
            weakref.WeakKeyDictionary()
        )

    def _fault(self, server: SMTP, session: Session, stage: Stage) -> str | None:
        decided = self._decided.setdefault(session, {})
        if stage not in decided:
            decided[stage] = self.chaos.smtp_fault(stage)
        reply = decided[stage]
        if reply is not None and reply.startswith("421") and server.transport is not None:
            transport = server.transport
            asyncio.get_running_loop().call_soon(transport.close)
        return reply

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        """aiosmtpd's own HELO, behind the greeting's fault."""
        reply = self._fault(server, session, "helo")
        if reply is not None:
            return reply
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        reply = self._fault(server, session, "helo")
        if reply is not None:
            return [reply]
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        reply = self._fault(server, session, "mail")
        if reply is not None:
            return reply
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self._fault(server, session, "rcpt")
        if reply is not None:
            return reply
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self._fault(server, session, "data")
        if reply is not None:
            return reply
        return await super().handle_DATA(server, session, envelope)
