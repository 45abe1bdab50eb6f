"""Start the SMTP server in the running event loop (aiosmtpd's SMTP as protocol factory)."""

from __future__ import annotations

import asyncio
import logging
import warnings

from aiosmtpd.smtp import SMTP

from gateway.smtp.handler import SubmissionHandler
from gateway.smtp.registration import RegistrationAwareSMTP

__all__ = ["start_smtp_server"]


class _DropKnownNoise(logging.Filter):
    """aiosmtpd logs these on every connection; both are about deliberate settings here."""

    NOISE = (
        "auth_required == True but auth_require_tls == False",
        "Session.login_data is deprecated",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.NOISE)


logging.getLogger("mail.log").addFilter(_DropKnownNoise())


async def start_smtp_server(
    handler: SubmissionHandler,
    *,
    host: str,
    port: int,
    hostname: str,
    max_message_size: int,
) -> asyncio.Server:
    def protocol() -> SMTP:
        with warnings.catch_warnings():
            # AUTH without TLS is the deliberate 1997 setting (see below); aiosmtpd warns
            # about it on every connection.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return _smtp()

    def _smtp() -> SMTP:
        return RegistrationAwareSMTP(
            handler,
            hostname=hostname,  # never let aiosmtpd call getfqdn() per connection
            ident="Teledespacho ESMTP",
            data_size_limit=max_message_size,
            decode_data=False,
            auth_required=True,
            # 1997 clients spoke plain SMTP over a dial-up line; deployments that want TLS
            # put a terminator in front. Loopback by default.
            auth_require_tls=False,
            auth_exclude_mechanism=[],
        )

    loop = asyncio.get_running_loop()
    return await loop.create_server(protocol, host=host, port=port)
