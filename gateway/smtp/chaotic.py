"""The submission handler with the test rig's faults in front of it (``gateway.chaos``)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.chaos import Chaos, Stage
from gateway.smtp.handler import SubmissionHandler

__all__ = ["ChaoticHandler"]


class ChaoticHandler(SubmissionHandler):
    """Each hook first asks the chaos switches; a 421 also closes the connection (RFC 5321
    §3.8), after the reply is written."""

    def __init__(self, chaos: Chaos, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chaos = chaos

    def _fault(self, server: SMTP, stage: Stage) -> str | None:
        reply = self.chaos.smtp_fault(stage)
        if reply is not None and reply.startswith("421") and server.transport is not None:
            transport = server.transport
            asyncio.get_running_loop().call_soon(transport.close)
        return reply

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        reply = self._fault(server, "helo")
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
        reply = self._fault(server, "mail")
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
        reply = self._fault(server, "rcpt")
        if reply is not None:
            return reply
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self._fault(server, "data")
        if reply is not None:
            return reply
        return await super().handle_DATA(server, session, envelope)
