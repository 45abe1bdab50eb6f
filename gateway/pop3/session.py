"""The POP3 server session: a sans-IO state machine (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS,
RFC 5034 AUTH).

Bytes go in with ``receive_data``; ``next_event`` returns ``NEED_DATA`` or a request for the
adapter (see ``gateway.pop3.events``); replies accumulate for ``data_to_send``. No socket, no
clock and no store are touched here, so the whole protocol is testable by feeding bytes.

Every reply to a bad or impossible command is written here; nothing the peer sends makes
``next_event`` raise. ``Pop3UsageError`` is raised only when the adapter calls out of turn.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode, b64encode
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, TypeVar

from gateway.pop3 import replies
from gateway.pop3.commands import Command, parse_command
from gateway.pop3.errors import BadCommand, CommandRefused, Pop3Error, Pop3UsageError
from gateway.pop3.events import (
    NEED_DATA,
    ApopRequested,
    AuthRequested,
    ConnectionClosed,
    Event,
    MessageRequested,
    NeedData,
    StartTlsRequested,
    UpdateRequested,
)
from gateway.pop3.lines import MAX_LINE_OCTETS, LineReader, Overlong
from gateway.pop3.maildrop import (
    Maildrop,
    MaildropEntry,
    dot_stuff,
    dot_stuffed,
    normalize_line_endings,
    top_of_message,
)
from gateway.pop3.replies import Reply
from gateway.pop3.state import HANDLERS, State, Trigger, next_state

__all__ = [
    "DEFAULT_MAX_AUTH_FAILURES",
    "DEFAULT_MAX_BAD_COMMANDS",
    "MAX_COMMANDS_BEFORE_LOGIN",
    "Pop3Session",
]

DEFAULT_MAX_BAD_COMMANDS: Final = 10
DEFAULT_MAX_AUTH_FAILURES: Final = 3
MAX_COMMANDS_BEFORE_LOGIN: Final = 50
"""Commands a session may send before it logs in: a client needs a few (CAPA, STLS, CAPA
again, USER and PASS or AUTH). Unbounded, one that never logged in had 5 000 pipelined
``CAPA``s answered (55 000 lines) for as long as its login time, and again on its next
connection."""
OUTPUT_PIECE: Final = 1024 * 1024
"""Bytes that ``data_to_send`` hands out at most at a time (but for a longer piece)."""

# RFC 1939 section 7 / RFC 822 msg-id: "<" printable characters other than angle brackets ">".
_TIMESTAMP: Final = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+>")

_Handler = Callable[[Command], Event | None]


@dataclass(frozen=True, slots=True)
class _AwaitingAuth:
    """USER/PASS or APOP was handed to the adapter."""

    what: ClassVar[str] = "credentials check"


@dataclass(frozen=True, slots=True)
class _AwaitingMessage:
    """RETR (``body_lines`` None) or TOP n was handed to the adapter."""

    what: ClassVar[str] = "message content"
    entry: MaildropEntry
    body_lines: int | None


@dataclass(frozen=True, slots=True)
class _AwaitingUpdate:
    """QUIT's expunge was handed to the adapter."""

    what: ClassVar[str] = "expunge"


@dataclass(frozen=True, slots=True)
class _AwaitingTls:
    """STLS was answered ``+OK``; the adapter is negotiating TLS."""

    what: ClassVar[str] = "TLS negotiation"


_Pending = _AwaitingAuth | _AwaitingMessage | _AwaitingUpdate | _AwaitingTls
_PendingT = TypeVar("_PendingT", _AwaitingAuth, _AwaitingMessage, _AwaitingUpdate, _AwaitingTls)

#: RFC 5034 mechanisms, in the order CAPA and a bare AUTH list them.
SASL_MECHANISMS: Final = ("PLAIN", "LOGIN")


@dataclass(slots=True)
class _SaslExchange:
    """An AUTH in progress: the mechanism and what the client has sent so far."""

    mechanism: str
    user: str | None = None


class Pop3Session:
    """One client connection's POP3 state, from greeting to close.

    ``greeting_timestamp`` offers APOP (``None``: no timestamp, APOP refused). ``tls``
    says whether STLS can be offered; ``secure`` that the connection is already TLS
    (implicit TLS); ``auth_requires_tls`` refuses USER/PASS and AUTH until it is.
    """

    def __init__(
        self,
        *,
        greeting_timestamp: str | None,
        max_bad_commands: int = DEFAULT_MAX_BAD_COMMANDS,
        max_auth_failures: int = DEFAULT_MAX_AUTH_FAILURES,
        max_line_octets: int = MAX_LINE_OCTETS,
        tls: bool = False,
        secure: bool = False,
        auth_requires_tls: bool = False,
    ) -> None:
        if greeting_timestamp is not None and not _TIMESTAMP.fullmatch(greeting_timestamp):
            raise ValueError(f"greeting timestamp {greeting_timestamp!r} is not <...>")
        if max_bad_commands < 1 or max_auth_failures < 1:
            raise ValueError("error limits must be at least 1")
        self._timestamp = greeting_timestamp
        self._tls = tls
        self._secure = secure
        self._auth_requires_tls = auth_requires_tls
        self._sasl: _SaslExchange | None = None
        self._max_bad_commands = max_bad_commands
        self._max_auth_failures = max_auth_failures
        self._lines = LineReader(max_line_octets)
        self._state = State.AUTHORIZATION
        self._outgoing: deque[bytes] = deque([replies.greeting(greeting_timestamp).to_bytes()])
        self._pending_user: str | None = None  # set by USER, consumed by the PASS right after it
        self._maildrop: Maildrop | None = None
        self._pending: _Pending | None = None
        self._bad_commands = 0
        self._auth_failures = 0
        self._commands_before_login = 0
        self._gave_up: str | None = None  # why the session sent the client away

    # --- the sans-IO surface ---------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def secure(self) -> bool:
        """The connection is encrypted (implicit TLS, or after STLS)."""
        return self._secure

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer; ``b""`` means the peer closed its side."""
        if self._state is not State.CLOSED:
            self._lines.feed(data)

    def data_to_send(self) -> bytes:
        """What was written since the last call (greeting, replies, message bodies), up to
        ``OUTPUT_PIECE`` bytes of it (or one piece of a message, if longer): call again
        until it is empty. A message of megabytes is handed out a piece at a time, so that
        it is written, and taken by the client, in steps: whole, it was copied whole on the
        event loop, then again into the socket's buffer."""
        out: list[bytes] = []
        size = 0
        while self._outgoing:
            if out and size + len(self._outgoing[0]) > OUTPUT_PIECE:
                break
            piece = self._outgoing.popleft()
            out.append(piece)
            size += len(piece)
        return b"".join(out)

    def next_event(self) -> Event | NeedData:
        """Process buffered commands until one needs the adapter, more bytes, or the end.

        Raises:
            Pop3UsageError: a request returned earlier has not been answered yet.
        """
        if self._pending is not None:
            raise Pop3UsageError(f"answer the pending {self._pending.what} first")
        while True:
            if self._state is State.CLOSED:
                return ConnectionClosed(self._gave_up)
            line = self._lines.next_line()
            if line is None:
                if self._lines.at_eof:
                    # Dropped mid-session: straight to CLOSED, DELE marks are forgotten.
                    self._transition(Trigger.PEER_GONE)
                    continue
                return NEED_DATA
            event = self._sasl_response(line) if self._sasl is not None else self._run_line(line)
            if event is not None:
                return event

    # --- answers from the adapter ----------------------------------------------------------

    def auth_succeeded(self, maildrop: Sequence[MaildropEntry]) -> None:
        """Credentials good and maildrop locked: ``maildrop`` is its listing, ascending UID."""
        self._take_pending(_AwaitingAuth)
        self._maildrop = Maildrop(maildrop)
        self._transition(Trigger.AUTH_ACCEPTED)
        self._reply(replies.maildrop_ready(self._maildrop.live_count, self._maildrop.live_octets))

    def auth_rejected(self) -> None:
        """Unknown user, wrong password, bad digest or no APOP secret: all look the same."""
        self._take_pending(_AwaitingAuth)
        self._auth_failures += 1
        if self._auth_failures >= self._max_auth_failures:
            self._give_up(replies.TOO_MANY_AUTH_FAILURES)
        else:
            self._reply(replies.AUTH_REJECTED)

    def auth_throttled(self) -> None:
        """Not checked: too many failed logins lately (from this client or on this account).
        Counts as a failure, so a guesser is still sent away after a few."""
        self._take_pending(_AwaitingAuth)
        self._auth_failures += 1
        if self._auth_failures >= self._max_auth_failures:
            self._give_up(replies.TOO_MANY_AUTH_FAILURES)
        else:
            self._reply(replies.LOGIN_THROTTLED)

    def maildrop_in_use(self) -> None:
        """Credentials good, but another session holds the maildrop lock."""
        self._take_pending(_AwaitingAuth)
        self._reply(replies.MAILDROP_IN_USE)

    def tls_started(self) -> None:
        """The TLS handshake after STLS succeeded; the session goes on, encrypted."""
        self._take_pending(_AwaitingTls)
        self._secure = True

    def message_supplied(self, raw: bytes) -> None:
        """The raw message for the pending RETR or TOP."""
        pending = self._take_pending(_AwaitingMessage)
        text = normalize_line_endings(raw)
        if pending.body_lines is None:
            self._reply(replies.message_follows(pending.entry.size))
        else:
            self._reply(replies.top_follows())
            text = top_of_message(text, pending.body_lines)
        self._outgoing.extend(dot_stuffed(text))

    def message_gone(self) -> None:
        """The store no longer has the message (removed by another protocol meanwhile)."""
        self._take_pending(_AwaitingMessage)
        self._reply(replies.MESSAGE_GONE)

    def update_committed(self) -> None:
        """The store removed every UID of the ``UpdateRequested`` in one transaction."""
        self._take_pending(_AwaitingUpdate)
        self._reply(replies.SIGNING_OFF)
        self._transition(Trigger.UPDATE_FINISHED)

    def request_failed(self) -> None:
        """The store failed while serving the pending request: a temporary ``-ERR``."""
        pending, self._pending = self._pending, None
        if pending is None:
            raise Pop3UsageError("no request is pending")
        if isinstance(pending, _AwaitingUpdate):
            self._reply(replies.UPDATE_FAILED)
            self._transition(Trigger.UPDATE_FINISHED)
        else:
            self._reply(replies.TEMPORARY_FAILURE)

    # --- command dispatch ------------------------------------------------------------------

    def _run_line(self, line: bytes | Overlong) -> Event | None:
        """Run one command line; every ``Pop3Error`` becomes its ``-ERR`` reply here."""
        user, self._pending_user = self._pending_user, None  # PASS must come right after USER
        if self._state is State.AUTHORIZATION:
            self._commands_before_login += 1
            if self._commands_before_login > MAX_COMMANDS_BEFORE_LOGIN:
                self._give_up(replies.TOO_MANY_COMMANDS_BEFORE_LOGIN)
                return None
        try:
            if isinstance(line, Overlong):
                raise BadCommand(replies.LINE_TOO_LONG)
            command = parse_command(line)
            handler_name = HANDLERS[self._state].get(command.keyword)
            if handler_name is None:
                raise BadCommand(replies.NOT_IN_THIS_STATE)
            if command.keyword == "PASS":
                self._pending_user = user
            handler: _Handler = getattr(self, handler_name)
            return handler(command)
        except Pop3Error as exc:
            self._pending_user = None
            if exc.counts_as_bad_command:
                self._bad_commands += 1
                if self._bad_commands >= self._max_bad_commands:
                    self._give_up(replies.TOO_MANY_BAD_COMMANDS)
                    return None
            self._reply(exc.reply)
            return None

    # AUTHORIZATION

    @property
    def _plaintext_allowed(self) -> bool:
        return self._secure or not self._auth_requires_tls

    def _cmd_user(self, command: Command) -> None:
        if not self._plaintext_allowed:
            raise CommandRefused(replies.PLAINTEXT_DISALLOWED)
        self._pending_user = command.args[0]
        self._reply(replies.USER_ACCEPTED)

    def _cmd_pass(self, command: Command) -> AuthRequested:
        if not self._plaintext_allowed:
            raise CommandRefused(replies.PLAINTEXT_DISALLOWED)
        if self._pending_user is None:
            raise BadCommand(replies.PASS_WITHOUT_USER)
        user, self._pending_user = self._pending_user, None
        self._pending = _AwaitingAuth()
        return AuthRequested(user=user, password=command.args[0])

    def _cmd_apop(self, command: Command) -> ApopRequested:
        if self._timestamp is None:
            raise CommandRefused(replies.APOP_UNAVAILABLE)
        self._pending = _AwaitingAuth()
        user, digest = command.args
        return ApopRequested(user=user, digest=digest, timestamp=self._timestamp)

    def _cmd_stls(self, command: Command) -> StartTlsRequested:
        if not self._tls or self._secure:
            raise CommandRefused(replies.TLS_UNAVAILABLE)
        self._reply(replies.BEGIN_TLS)
        # RFC 2595 §4 (as RFC 3207 §4.2): nothing sent before the handshake may be taken as
        # a command after it; a client that pipelined past STLS loses those lines.
        self._lines = LineReader(self._lines.max_line_octets)
        self._pending = _AwaitingTls()
        return StartTlsRequested()

    def _cmd_auth(self, command: Command) -> AuthRequested | None:
        if not command.args:  # the pre-RFC 5034 form clients still send: list mechanisms
            self._reply(replies.MECHANISMS_FOLLOW)
            self._outgoing.append(dot_stuff("".join(f"{m}\r\n" for m in SASL_MECHANISMS).encode()))
            return None
        if not self._plaintext_allowed:
            raise CommandRefused(replies.PLAINTEXT_DISALLOWED)
        mechanism = command.args[0].upper()
        if mechanism not in SASL_MECHANISMS:
            raise CommandRefused(replies.UNKNOWN_MECHANISM)
        self._sasl = _SaslExchange(mechanism)
        if len(command.args) == 2:
            return self._sasl_response(command.args[1].encode("ascii"))
        self._sasl_challenge(b"Username:" if mechanism == "LOGIN" else b"")
        return None

    def _sasl_challenge(self, challenge: bytes) -> None:
        self._outgoing.append(b"+ " + b64encode(challenge) + b"\r\n")

    def _sasl_response(self, line: bytes | Overlong) -> AuthRequested | None:
        """One client line of an AUTH exchange (RFC 5034 §4): ``*`` cancels it."""
        exchange = self._sasl
        assert exchange is not None
        if isinstance(line, Overlong):
            self._sasl = None
            self._reply(replies.LINE_TOO_LONG)
            return None
        if line.strip() == b"*":
            self._sasl = None
            self._reply(replies.AUTH_CANCELLED)
            return None
        try:
            decoded = b64decode(line.strip(), validate=True) if line.strip() != b"=" else b""
            text = decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            self._sasl = None
            self._reply(replies.AUTH_MALFORMED)
            return None
        if exchange.mechanism == "LOGIN" and exchange.user is None:
            exchange.user = text
            self._sasl_challenge(b"Password:")
            return None
        self._sasl = None
        if exchange.mechanism == "LOGIN":
            assert exchange.user is not None
            user, password = exchange.user, text
        else:
            parts = text.split("\x00")
            if len(parts) != 3 or (parts[0] and parts[0] != parts[1]):
                self._reply(replies.AUTH_MALFORMED)  # a malformed or a proxy login
                return None
            user, password = parts[1], parts[2]
        self._pending = _AwaitingAuth()
        return AuthRequested(user=user, password=password)

    def _cmd_quit_authorization(self, command: Command) -> None:
        self._reply(replies.SIGNING_OFF)
        self._transition(Trigger.QUIT)

    def _cmd_capa(self, command: Command) -> None:
        self._reply(replies.CAPABILITY_LIST_FOLLOWS)
        tags = list(replies.CAPABILITIES)
        if self._plaintext_allowed:
            tags.insert(2, "USER")
            tags.append("SASL " + " ".join(SASL_MECHANISMS))
        if self._state is State.AUTHORIZATION and self._tls and not self._secure:
            tags.append("STLS")
        lines = "".join(f"{tag}\r\n" for tag in tags)
        self._outgoing.append(dot_stuff(lines.encode("ascii")))

    # TRANSACTION

    def _cmd_stat(self, command: Command) -> None:
        maildrop = self._current_maildrop()
        self._reply(replies.stat(maildrop.live_count, maildrop.live_octets))

    def _cmd_list(self, command: Command) -> None:
        maildrop = self._current_maildrop()
        if command.args:
            number = command.number(0)
            self._reply(replies.scan_line(number, maildrop.get(number).size))
            return
        self._reply(replies.listing_follows(maildrop.live_count, maildrop.live_octets))
        self._outgoing.append(dot_stuff(maildrop.scan_lines()))

    def _cmd_uidl(self, command: Command) -> None:
        maildrop = self._current_maildrop()
        if command.args:
            number = command.number(0)
            self._reply(replies.unique_id_line(number, maildrop.get(number).unique_id))
            return
        self._reply(replies.uidl_follows())
        self._outgoing.append(dot_stuff(maildrop.unique_id_lines()))

    def _cmd_retr(self, command: Command) -> MessageRequested:
        entry = self._current_maildrop().get(command.number(0))
        self._pending = _AwaitingMessage(entry=entry, body_lines=None)
        return MessageRequested(uid=entry.uid)

    def _cmd_top(self, command: Command) -> MessageRequested:
        entry = self._current_maildrop().get(command.number(0))
        self._pending = _AwaitingMessage(entry=entry, body_lines=command.number(1))
        return MessageRequested(uid=entry.uid)

    def _cmd_dele(self, command: Command) -> None:
        self._current_maildrop().mark_deleted(command.number(0))
        self._reply(replies.DELETED)

    def _cmd_noop(self, command: Command) -> None:
        self._reply(replies.NOOP)

    def _cmd_rset(self, command: Command) -> None:
        maildrop = self._current_maildrop()
        maildrop.unmark_all()
        self._reply(replies.rset_done(maildrop.live_count, maildrop.live_octets))

    def _cmd_quit_transaction(self, command: Command) -> UpdateRequested | None:
        uids = self._current_maildrop().deleted_uids()
        self._transition(Trigger.QUIT)
        if not uids:
            self._reply(replies.SIGNING_OFF)
            self._transition(Trigger.UPDATE_FINISHED)
            return None
        self._pending = _AwaitingUpdate()
        return UpdateRequested(uids=uids)

    # --- helpers ---------------------------------------------------------------------------

    def _reply(self, reply: Reply) -> None:
        self._outgoing.append(reply.to_bytes())

    def _transition(self, trigger: Trigger) -> None:
        self._state = next_state(self._state, trigger)

    def _give_up(self, reply: Reply) -> None:
        """Send the client away with ``reply``, whose text the log gives as the reason."""
        self._reply(reply)
        self._gave_up = reply.text
        self._transition(Trigger.GIVE_UP)

    def _take_pending(self, kind: type[_PendingT]) -> _PendingT:
        pending = self._pending
        if not isinstance(pending, kind):
            waiting = "nothing" if pending is None else pending.what
            raise Pop3UsageError(f"got an answer for {kind.what} while awaiting {waiting}")
        self._pending = None
        return pending

    def _current_maildrop(self) -> Maildrop:
        if self._maildrop is None:
            raise Pop3UsageError("TRANSACTION state without a maildrop")
        return self._maildrop
