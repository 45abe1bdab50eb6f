"""The SMTP listener: aiosmtpd's ``SMTP`` protocol, with the node's caps and time limits.

aiosmtpd gives each command ``timeout`` seconds (DATA whole) and then closes in silence; here
the close is preceded by ``421`` (RFC 5321 section 4.5.3.2), a client has ``login_timeout``
seconds from connecting to authenticate, connections over the node's ``ConnectionLimits``
get ``421`` instead of the greeting, and ``aclose`` says ``421`` to every open session before
the node stops (a session inside DATA finishes it first, so its ``250`` still means stored).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import warnings
from typing import AnyStr, Final

from aiosmtpd.smtp import syntax

from gateway.limits import ConnectionLimits, peer_address
from gateway.smtp.error_budget import ErrorBudget
from gateway.smtp.handler import SubmissionHandler
from gateway.smtp.registration import RegistrationAwareSMTP
from gateway.tls.handshake import TlsHandshakes, listen_tls

__all__ = ["DEFAULT_IDLE_TIMEOUT", "DEFAULT_LOGIN_TIMEOUT", "SmtpServer", "start_smtp_server"]

log = logging.getLogger(__name__)

#: RFC 5321 section 4.5.3.2.7: a server waits at least 5 minutes for the next command.
DEFAULT_IDLE_TIMEOUT: Final = 300.0
DEFAULT_LOGIN_TIMEOUT: Final = 60.0


class _DropKnownNoise(logging.Filter):
    """aiosmtpd logs these on every connection; both are about deliberate settings here."""

    NOISE = (
        "auth_required == True but auth_require_tls == False",
        "Session.login_data is deprecated",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.NOISE)


logging.getLogger("mail.log").addFilter(_DropKnownNoise())


class SmtpServer:
    """Serves SMTP submission; owns the live sessions so that shutdown can say ``421``."""

    def __init__(
        self,
        handler: SubmissionHandler,
        *,
        hostname: str,
        max_message_size: int,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        login_timeout: float = DEFAULT_LOGIN_TIMEOUT,
        limits: ConnectionLimits | None = None,
        tls_context: ssl.SSLContext | None = None,
        auth_requires_tls: bool = False,
    ) -> None:
        if idle_timeout <= 0 or login_timeout <= 0:
            raise ValueError("the timeouts must be positive")
        self.tls_context = tls_context
        self.auth_requires_tls = auth_requires_tls
        self.handler = handler
        self.hostname = hostname
        self.max_message_size = max_message_size
        self.idle_timeout = idle_timeout
        self.login_timeout = login_timeout
        self.limits = limits
        self.sessions: set[_Session] = set()
        self._servers: list[asyncio.Server] = []

    async def start(self, *, host: str, port: int, implicit_tls: bool = False) -> asyncio.Server:
        """Listen on ``host:port`` (port 0: any free port) in the running loop; with
        ``implicit_tls``, every connection is TLS from its first byte (RFC 8314)."""
        make = functools.partial(self._protocol, implicit_tls)
        if not implicit_tls:
            server = await asyncio.get_running_loop().create_server(make, host=host, port=port)
        elif self.tls_context is None:
            raise ValueError("implicit TLS needs a TLS context")
        else:
            handshakes = TlsHandshakes("SMTPS", self.tls_context, self.limits, self.login_timeout)
            server = await listen_tls(make, handshakes, host=host, port=port)
        self._servers.append(server)
        return server

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Stop listening; ``421`` to each session, after the DATA it may be in (``grace`` s)."""
        for server in self._servers:
            server.close()
        sessions = list(self.sessions)
        for session in sessions:
            session.shut_down()
        closed = [session.closed for session in sessions]
        if closed:
            _, pending = await asyncio.wait(closed, timeout=grace)
            if pending:
                log.warning("SMTP: %d session(s) still in DATA after %.1f s", len(pending), grace)
                for session in sessions:
                    session.abort()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    def _protocol(self, implicit_tls: bool) -> _Session:
        with warnings.catch_warnings():
            # AUTH without TLS is the deliberate 1997 setting (see below); aiosmtpd warns
            # about it on every connection.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return _Session(
                self,
                self.handler,
                hostname=self.hostname,  # never let aiosmtpd call getfqdn() per connection
                ident="Teledespacho ESMTP",
                data_size_limit=self.max_message_size,
                decode_data=False,
                auth_required=True,
                # 1997 clients spoke plain SMTP over a dial-up line: AUTH in the clear stays
                # available unless the deployment asks for TLS first. On the implicit-TLS
                # port the connection is encrypted before aiosmtpd sees it (it would not know).
                tls_context=None if implicit_tls else self.tls_context,
                auth_require_tls=self.auth_requires_tls and not implicit_tls,
                auth_exclude_mechanism=[],
                timeout=self.idle_timeout,
            )


class _Session(RegistrationAwareSMTP):
    """One SMTP connection: aiosmtpd's protocol, counted, timed and closed with ``421``."""

    def __init__(self, server: SmtpServer, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._server = server
        self._address: str | None = None  # set once admitted (and counted)
        self._login_timer: asyncio.TimerHandle | None = None
        self._in_data = False
        self._shutting_down = False
        self._idle_deadline = 0.0  # loop time; see _reset_timeout
        self._tls_up = False  # a STARTTLS handshake completed
        self._budget = ErrorBudget()
        self.closed: asyncio.Future[None] = self.loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._address is not None:
            # aiosmtpd calls this again when a STARTTLS handshake completes: the same
            # connection, counted once (counting it again leaked one count per STARTTLS
            # session, and an address was refused after 50 of them).
            self._tls_up = True
            super().connection_made(transport)
            return
        server = self._server
        address = peer_address(transport.get_extra_info("peername"))
        if server.limits is not None:
            refusal = server.limits.admit(address)
            if refusal is not None:
                server.limits.log_refusal("SMTP", address, refusal, self.loop.time())
                transport.write(  # type: ignore[attr-defined]
                    b"421 4.7.0 %s %s, try again later\r\n"
                    % (self.hostname.encode(), refusal.value.capitalize().encode())
                )
                transport.close()
                self.closed.set_result(None)
                return
        self._address = address
        server.sessions.add(self)
        self._login_timer = self.loop.call_later(server.login_timeout, self._login_expired)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._address is None:
            return  # refused in connection_made: aiosmtpd never saw this connection
        server = self._server
        if server.limits is not None:
            server.limits.release(self._address)
        self._address = None
        server.sessions.discard(self)
        if self._login_timer is not None:
            self._login_timer.cancel()
        if not self.closed.done():
            self.closed.set_result(None)
        super().connection_lost(error)

    def _goodbye(self, text: str) -> None:
        """``421`` and close (RFC 5321 section 3.8), unless the connection is already gone."""
        transport = self.transport
        if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
            return
        raw = self._original_transport
        if isinstance(raw, asyncio.Transport) and not self._tls_up:
            # In a STARTTLS handshake that never finished: nothing can be said in the clear
            # any more, and asyncio's TLS layer never reports the loss of a connection
            # whose handshake did not finish, so the session ends here or never does.
            raw.abort()
            self.connection_lost(None)
            return
        transport.write(b"421 4.4.2 %s %s\r\n" % (self.hostname.encode(), text.encode()))
        transport.close()

    def _reset_timeout(self, duration: float | None = None) -> None:
        """aiosmtpd's (the client has ``duration`` seconds for its next command) without a
        new timer per command: the timer set stays while it is due no later than the new
        deadline, and when due it looks at the deadline again (``_idle_due``)."""
        deadline = self.loop.time() + (duration or self._timeout_duration)
        self._idle_deadline = deadline
        handle = self._timeout_handle
        if handle is not None and not handle.cancelled():
            if handle.when() <= deadline:
                return
            handle.cancel()
        self._timeout_handle = self.loop.call_at(deadline, self._idle_due)

    def _idle_due(self) -> None:
        if self.loop.time() < self._idle_deadline:  # a command came after the timer was set
            self._timeout_handle = self.loop.call_at(self._idle_deadline, self._idle_due)
            return
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()  # spent: marked so, a later reset sets a new one
        self._timeout_cb()

    def _timeout_cb(self) -> None:
        assert self.session is not None
        log.info("SMTP %s: no command in %.0f s, closing", self._address, self._timeout_duration)
        self._goodbye("Error: timeout exceeded")

    def _login_expired(self) -> None:
        if self.session is not None and self.session.authenticated:
            return
        log.info("SMTP %s: no login in %.0f s, closing", self._address, self._server.login_timeout)
        self._goodbye("Error: too slow to log in")

    def shut_down(self) -> None:
        """The node is stopping: ``421`` now, or as soon as the DATA in progress is answered."""
        self._shutting_down = True
        if not self._in_data:
            self._goodbye("Service shutting down, closing")

    def abort(self) -> None:
        if isinstance(self.transport, asyncio.WriteTransport):
            self.transport.abort()

    # The commands that deliver nothing, counted in the session's ``ErrorBudget``.

    @syntax("NOOP [ignored]")
    async def smtp_NOOP(self, arg: str) -> None:
        self._budget.command("NOOP")
        await super().smtp_NOOP(arg)

    @syntax("RSET")
    async def smtp_RSET(self, arg: str) -> None:
        self._budget.command("RSET")
        await super().smtp_RSET(arg)

    @syntax("VRFY <address>")
    async def smtp_VRFY(self, arg: str) -> None:
        self._budget.command("VRFY")
        await super().smtp_VRFY(arg)

    @syntax("HELP [command]")
    async def smtp_HELP(self, arg: str) -> None:
        self._budget.command("HELP")
        await super().smtp_HELP(arg)

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, arg: str) -> None:
        self._budget.command("EHLO")
        await super().smtp_EHLO(arg)

    @syntax("HELO hostname")
    async def smtp_HELO(self, arg: str) -> None:
        self._budget.command("HELO")
        await super().smtp_HELO(arg)

    async def push(self, status: AnyStr) -> None:
        """Every reply, counted in the session's ``ErrorBudget``: the reply that spends it is
        followed by ``421`` and the close, as Postfix's "too many errors"."""
        await super().push(status)
        if not isinstance(status, str) or self._bare_replies:
            return
        if self._in_data and status.startswith("250"):
            self._budget.delivered()  # DATA's final reply: the message is committed
            return
        self._budget.replied(status)
        transport = self.transport
        if self._budget.spent and transport is not None and not transport.is_closing():
            log.info(
                "SMTP %s: %d errors without a message delivered, closing",
                self._address,
                self._budget.errors,
            )
            self._goodbye("Error: too many errors")

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        self._in_data = True
        try:
            await super().smtp_DATA(arg)
        finally:
            self._in_data = False
            if self._shutting_down:
                self._goodbye("Service shutting down, closing")


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
    AUTH until TLS is up (``538 5.7.11`` if tried). The caller closes the returned server;
    use ``SmtpServer`` directly to also say ``421`` to open sessions at shutdown."""
    server = SmtpServer(
        handler,
        hostname=hostname,
        max_message_size=max_message_size,
        tls_context=tls_context,
        auth_requires_tls=auth_requires_tls,
    )
    return await server.start(host=host, port=port, implicit_tls=implicit_tls)
