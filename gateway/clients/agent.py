"""The customs agent's reference mail client: submit declarations, fetch the replies.

SMTP (aiosmtplib), POP3 (``gateway.clients.pop3``) and IMAP (``imaplib``) over a socket
that is either a direct TCP connection or a call dialled through the modem simulator
(``dialup_sim.client``), so the same code shows what a 9600-bps line does to a session.
Each library takes the connected socket through a public extension point: aiosmtplib's
``sock=``, ``imaplib.IMAP4.open`` (and the I/O methods it names), and a POP3 session
built on a socket. Progress goes to a
``TransferProgress`` the caller supplies (the CLI draws a rich progress bar); errors are
``ClientError`` with a code the CLI turns into an exit status.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import imaplib
import re
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from enum import Enum
from typing import TYPE_CHECKING, Final, Protocol

import aiosmtplib

from dialup_sim.client import (
    CallSummary,
    CarrierLost,
    CountingSocket,
    DialError,
    ModemLine,
    open_counting_socket,
)
from dialup_sim.phonebook import Address
from gateway.clients.pop3 import Pop3Error, Pop3Session
from gateway.clients.responses import (
    imaplib_lines,
    parse_fetch,
    parse_search,
)

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "ClientError",
    "ErrorKind",
    "FetchResult",
    "FetchedMessage",
    "NoProgress",
    "Route",
    "SendResult",
    "TransferProgress",
    "fetch_messages",
    "send_message",
]


class TransferProgress(Protocol):
    """Receives byte counts of the transfer in progress."""

    def begin(self, description: str, total: int) -> None: ...

    def update(self, completed: int) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    """Progress that shows nothing."""

    def begin(self, description: str, total: int) -> None:
        pass

    def update(self, completed: int) -> None:
        pass

    def end(self) -> None:
        pass


class ErrorKind(Enum):
    DIAL = "dial"  # the modem did not connect (BUSY, NO CARRIER, ...)
    CONNECT = "connect"  # no TCP connection to the server or the modem
    AUTH = "auth"  # the server refused the credentials
    REFUSED = "refused"  # the server refused the message or a recipient
    DISCONNECTED = "disconnected"  # the session ended early (carrier lost, server gone)
    PROTOCOL = "protocol"  # an answer the client cannot use


class ClientError(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Route:
    """How to reach the server: directly, or by dialling ``number`` on a modem proxy."""

    server: Address
    modem: Address | None = None
    number: str = "0800"
    timeout: float = 180.0


@dataclass(slots=True)
class SendResult:
    message_id: str
    size: int
    wall_seconds: float
    connect_message: str = ""
    call: CallSummary | None = None


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    key: str  # UIDL (POP3) or UID (IMAP), or the message number if the server has neither
    data: bytes

    def header(self, name: str) -> str:
        headers = BytesHeaderParser(policy=email.policy.default).parsebytes(self.data)
        return str(headers.get(name, ""))


@dataclass(slots=True)
class FetchResult:
    messages: list[FetchedMessage] = field(default_factory=list)
    wall_seconds: float = 0.0
    connect_message: str = ""
    call: CallSummary | None = None


MAX_IMAP_LINE: Final = 1_000_000
"""Longest line taken from an IMAP server (imaplib's own bound)."""


class _LineIMAP4(imaplib.IMAP4):
    """``imaplib.IMAP4`` on a line we already hold (a dialled call, a counted socket).

    ``open`` is the documented hook the constructor calls to connect; overriding it, and
    the ``read``/``readline``/``send``/``shutdown`` methods it feeds, is how the library
    means to be put on another transport. The line stays the caller's to close.
    """

    def __init__(self, line: socket.socket) -> None:
        self._line = line
        self._reader = line.makefile("rb")
        super().__init__()

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        self.host, self.port = host, port  # the line is connected already

    def read(self, size: int) -> bytes:
        return self._reader.read(size)

    def readline(self) -> bytes:
        line = self._reader.readline(MAX_IMAP_LINE + 1)
        if len(line) > MAX_IMAP_LINE:
            raise self.error(f"a line longer than {MAX_IMAP_LINE} bytes")
        return line

    def send(self, data: ReadableBuffer) -> None:
        self._line.sendall(data)

    def shutdown(self) -> None:
        self._reader.close()

    def socket(self) -> socket.socket:
        return self._line


@dataclass(slots=True)
class _Line:
    sock: CountingSocket
    modem: ModemLine | None
    started: float

    @property
    def connect_message(self) -> str:
        return self.modem.connect_message if self.modem is not None else ""

    def quiet(self) -> None:
        """The session is closing: the modem's NO CARRIER that follows is expected."""
        self.sock.watch_carrier = False

    def finish(self) -> CallSummary | None:
        if self.modem is None:
            return None
        try:
            return self.modem.hang_up()
        except OSError:
            return None  # the report is a courtesy; the transfer itself is done


@contextlib.contextmanager
def _open_line(route: Route) -> Iterator[_Line]:
    started = time.monotonic()
    try:
        if route.modem is None:
            line = _Line(open_counting_socket(route.server, route.timeout), None, started)
        else:
            modem = ModemLine.dial(route.modem, route.number, timeout=route.timeout)
            line = _Line(modem.data_socket(), modem, started)
    except DialError as exc:
        raise ClientError(ErrorKind.DIAL, f"dialling {route.number}: {exc.result}") from exc
    except OSError as exc:
        where = route.modem or route.server
        raise ClientError(ErrorKind.CONNECT, f"cannot reach {where}: {exc}") from exc
    try:
        yield line
    finally:
        line.sock.release()
        if line.modem is not None:
            line.modem.close()


def _disconnected(exc: BaseException) -> ClientError:
    """The session broke off; say NO CARRIER when the modem is why (aiosmtplib wraps it)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, CarrierLost):
            return ClientError(ErrorKind.DISCONNECTED, "NO CARRIER: the line dropped")
        seen = seen.__cause__ or seen.__context__
    return ClientError(ErrorKind.DISCONNECTED, f"the session ended early: {exc}")


def send_message(
    message: bytes,
    *,
    sender: str,
    password: str | None,
    recipients: Sequence[str],
    route: Route,
    progress: TransferProgress | None = None,
    helo: str = "agent.teledespacho",
) -> SendResult:
    """Submit ``message`` over SMTP (AUTH when a password is given).

    Blocking, like the other calls here: from async code, run it in a thread.
    """
    progress = progress or NoProgress()
    message = _crlf(message)  # what was measured and counted is what goes on the wire
    payload = _smtp_payload(message)
    message_id = _message_id(message)
    with _open_line(route) as line:
        submission = _Submission(message, sender, password, recipients, helo, route.timeout)
        try:
            asyncio.run(_submit(line, submission, len(payload), progress))
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise ClientError(ErrorKind.AUTH, f"{exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPConnectResponseError as exc:
            raise ClientError(ErrorKind.PROTOCOL, f"greeting {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            raise ClientError(ErrorKind.REFUSED, f"MAIL FROM: {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise ClientError(
                ErrorKind.REFUSED, f"RCPT {exc.recipient}: {exc.code} {exc.message}"
            ) from exc
        except aiosmtplib.SMTPDataError as exc:
            raise ClientError(ErrorKind.REFUSED, f"DATA: {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise ClientError(ErrorKind.REFUSED, f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as exc:
            raise _disconnected(exc) from exc
        except aiosmtplib.SMTPException as exc:
            raise ClientError(ErrorKind.PROTOCOL, str(exc)) from exc
        wall = time.monotonic() - line.started
        return SendResult(message_id, len(payload), wall, line.connect_message, line.finish())


@dataclass(frozen=True, slots=True)
class _Submission:
    message: bytes
    sender: str
    password: str | None
    recipients: Sequence[str]
    helo: str
    timeout: float


async def _submit(
    line: _Line, submission: _Submission, payload_size: int, progress: TransferProgress
) -> None:
    """One SMTP session on the line: aiosmtplib takes the connected socket (``sock=``)."""
    sock = line.sock
    smtp = aiosmtplib.SMTP(
        sock=sock, local_hostname=submission.helo, timeout=submission.timeout, start_tls=False
    )
    await smtp.connect()
    try:
        await smtp.ehlo()
        if submission.password is not None:
            if not smtp.supports_extension("auth"):
                raise ClientError(ErrorKind.AUTH, "the server offers no AUTH")
            await smtp.login(submission.sender, submission.password)
        await smtp.mail(submission.sender)
        for recipient in submission.recipients:
            await smtp.rcpt(recipient)
        base = sock.sent
        progress.begin("sending", payload_size + len(b"DATA\r\n"))
        sock.on_sent = lambda sent: progress.update(sent - base)
        try:
            await smtp.data(submission.message)
        finally:
            sock.on_sent = None
            progress.end()
        line.quiet()
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
    finally:
        smtp.close()


def fetch_messages(
    *,
    user: str,
    password: str,
    route: Route,
    protocol: str = "pop3",
    delete: bool = False,
    progress: TransferProgress | None = None,
) -> FetchResult:
    """Download every message of the mailbox over POP3 or IMAP."""
    progress = progress or NoProgress()
    with _open_line(route) as line:
        try:
            if protocol == "imap":
                messages = _fetch_imap(line, user, password, delete, progress)
            else:
                messages = _fetch_pop3(line, user, password, delete, progress)
        except (Pop3Error, imaplib.IMAP4.error) as exc:
            text = str(exc)
            kind = ErrorKind.AUTH if _looks_like_auth(text) else ErrorKind.PROTOCOL
            raise ClientError(kind, text) from exc
        except OSError as exc:
            raise _disconnected(exc) from exc
        wall = time.monotonic() - line.started
        return FetchResult(messages, wall, line.connect_message, line.finish())


def _fetch_pop3(
    line: _Line,
    user: str,
    password: str,
    delete: bool,
    progress: TransferProgress,
) -> list[FetchedMessage]:
    sock = line.sock
    pop = Pop3Session(sock)
    try:
        pop.login(user, password)
        sizes = pop.scan_listing()
        try:
            keys = pop.unique_ids()
        except Pop3Error:
            keys = {}  # UIDL is optional (RFC 1939): the message numbers will do
        messages: list[FetchedMessage] = []
        base = sock.received
        progress.begin("fetching", sum(size for _, size in sizes))
        sock.on_received = lambda received: progress.update(received - base)
        try:
            for number, _ in sizes:
                data = pop.retrieve(number)
                messages.append(FetchedMessage(keys.get(number, str(number)), data))
                if delete:
                    pop.delete(number)
        finally:
            sock.on_received = None
            progress.end()
        line.quiet()
        with contextlib.suppress(Pop3Error, OSError):
            pop.quit()
        return messages
    finally:
        pop.close()


def _fetch_imap(
    line: _Line,
    user: str,
    password: str,
    delete: bool,
    progress: TransferProgress,
) -> list[FetchedMessage]:
    sock = line.sock
    imap = _LineIMAP4(sock)
    imap.login(user, password)
    imap.select("INBOX")
    _, found = imap.uid("SEARCH", "ALL")
    uids = parse_search(imaplib_lines(found))
    total = 0
    if uids:
        _, sizes = imap.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
        total = sum(item.size or 0 for item in parse_fetch(imaplib_lines(sizes)))
    messages: list[FetchedMessage] = []
    base = sock.received
    progress.begin("fetching", total)
    sock.on_received = lambda received: progress.update(received - base)
    try:
        for uid in uids:
            _, parts = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
            items = parse_fetch(imaplib_lines(parts))
            body = next((i.literal for i in items if i.uid == uid and i.literal is not None), b"")
            messages.append(FetchedMessage(str(uid), body))
            if delete:
                imap.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
    finally:
        sock.on_received = None
        progress.end()
    if delete:
        imap.expunge()
    line.quiet()
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        imap.logout()
    return messages


def _crlf(message: bytes) -> bytes:
    return re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", message)


def _smtp_payload(message: bytes) -> bytes:
    """What aiosmtplib puts on the wire for DATA: dots doubled, then the end marker."""
    body = re.sub(rb"(?m)^\.", b"..", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _message_id(message: bytes) -> str:
    headers = BytesHeaderParser(policy=email.policy.default).parsebytes(message)
    return str(headers.get("Message-ID", ""))


def _looks_like_auth(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in ("auth", "password", "login", "credentials"))
