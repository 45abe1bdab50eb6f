"""The SMTP side of mailbox requests: the one place a session without AUTH gets past MAIL.

aiosmtpd refuses MAIL, RCPT and DATA before AUTH (``auth_required``). When the handler has
a registration desk, this protocol lets those three commands reach the handler, which then
accepts no recipient but the registration address from such a session (every other RCPT is
refused with 530, or 550 for another domain), and caps its DATA at the desk's size limit
while it is read, so nothing larger is ever buffered for a stranger.
"""

from __future__ import annotations

from gateway.smtp.protocol import SubmissionProtocol

__all__ = ["RegistrationAwareSMTP"]

_OPEN_TO_STRANGERS = frozenset({"MAIL", "RCPT", "DATA"})


class RegistrationAwareSMTP(SubmissionProtocol):
    async def check_auth_needed(self, caller_method: str) -> bool:
        if caller_method in _OPEN_TO_STRANGERS and self._desk_limit() is not None:
            return False
        return await super().check_auth_needed(caller_method)

    async def smtp_DATA(self, arg: str) -> None:
        limit, self._full_limit = self._desk_limit(), self.data_size_limit
        authenticated = self.session is not None and self.session.authenticated
        if limit is not None and not authenticated:
            self.data_size_limit = min(limit, self.data_size_limit or limit)
        try:
            await super().smtp_DATA(arg)
        finally:
            self.data_size_limit = self._full_limit

    def _desk_limit(self) -> int | None:
        desk = getattr(self.event_handler, "registration", None)
        limit = getattr(desk, "max_size", None)
        return limit if isinstance(limit, int) else None
