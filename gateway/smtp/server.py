"""Start the SMTP server in the running event loop (aiosmtpd's SMTP as protocol factory)."""

from __future__ import annotations

import asyncio
import logging
import ssl
import warnings

from gateway.smtp.handler import SubmissionHandler
from gateway.smtp.protocol import SubmissionProtocol

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
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    auth_requires_tls: bool = False,
) -> asyncio.Server:
    """Listen for submission; with ``tls_context``, STARTTLS is offered (RFC 3207), or with
    ``implicit_tls`` the whole connection is TLS (RFC 8314). ``auth_requires_tls`` hides
    AUTH until TLS is up (``538 5.7.11`` if tried)."""
    if implicit_tls and tls_context is None:
        raise ValueError("implicit TLS needs a TLS context")

    def protocol() -> SubmissionProtocol:
        with warnings.catch_warnings():
            # AUTH without TLS is the deliberate 1997 setting (see below); aiosmtpd warns
            # about it on every connection.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return _smtp()

    def _smtp() -> SubmissionProtocol:
        return SubmissionProtocol(
            handler,
            hostname=hostname,  # never let aiosmtpd call getfqdn() per connection
            ident="Teledespacho ESMTP",
            data_size_limit=max_message_size,
            decode_data=False,
            auth_required=True,
            # 1997 clients spoke plain SMTP over a dial-up line: AUTH in the clear stays
            # available unless the deployment asks for TLS first. On the implicit-TLS port
            # the connection is encrypted before aiosmtpd sees it (it would not know).
            tls_context=None if implicit_tls else tls_context,
            auth_require_tls=auth_requires_tls and not implicit_tls,
            auth_exclude_mechanism=[],
        )

    loop = asyncio.get_running_loop()
    return await loop.create_server(
        protocol, host=host, port=port, ssl=tls_context if implicit_tls else None
    )
