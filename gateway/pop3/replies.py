"""Every reply line the POP3 server can send, as named constants.

Tests and the session compare against these values, never against ad-hoc strings, so a
reply's wording lives in exactly one place. Replies that carry numbers (sizes, counts) are
built by the small functions at the end of the module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "ALREADY_DELETED",
    "APOP_UNAVAILABLE",
    "AUTH_CANCELLED",
    "AUTH_MALFORMED",
    "AUTH_REJECTED",
    "BAD_ENCODING",
    "BEGIN_TLS",
    "CAPABILITIES",
    "CAPABILITY_LIST_FOLLOWS",
    "DELETED",
    "EMPTY_COMMAND",
    "LINE_TOO_LONG",
    "LOGIN_THROTTLED",
    "MAILDROP_IN_USE",
    "MECHANISMS_FOLLOW",
    "MESSAGE_GONE",
    "NOOP",
    "NOT_IN_THIS_STATE",
    "NO_SUCH_MESSAGE",
    "PASS_WITHOUT_USER",
    "PLAINTEXT_DISALLOWED",
    "SERVER_ERROR",
    "SIGNING_OFF",
    "TEMPORARY_FAILURE",
    "TLS_UNAVAILABLE",
    "TOO_MANY_AUTH_FAILURES",
    "TOO_MANY_BAD_COMMANDS",
    "TOO_MANY_COMMANDS_BEFORE_LOGIN",
    "UNKNOWN_COMMAND",
    "UNKNOWN_MECHANISM",
    "UPDATE_FAILED",
    "USER_ACCEPTED",
    "WRONG_ARGUMENTS",
    "Reply",
    "ResponseCode",
    "greeting",
    "listing_follows",
    "maildrop_ready",
    "message_follows",
    "rset_done",
    "scan_line",
    "stat",
    "too_busy",
    "top_follows",
    "uidl_follows",
    "unique_id_line",
]


class ResponseCode(StrEnum):
    """RFC 2449 section 8 extended response codes (plus AUTH from RFC 3206)."""

    IN_USE = "IN-USE"
    LOGIN_DELAY = "LOGIN-DELAY"
    SYS_TEMP = "SYS/TEMP"
    SYS_PERM = "SYS/PERM"
    AUTH = "AUTH"


@dataclass(frozen=True, slots=True)
class Reply:
    """One status line: ``+OK text`` or ``-ERR [CODE] text``."""

    ok: bool
    text: str
    code: ResponseCode | None = None

    def __post_init__(self) -> None:
        if "\r" in self.text or "\n" in self.text:
            raise ValueError("a reply is a single line")
        if self.ok and self.code is not None:
            raise ValueError("response codes belong to -ERR replies")

    def to_bytes(self) -> bytes:
        status = "+OK" if self.ok else "-ERR"
        code = f" [{self.code}]" if self.code is not None else ""
        text = f" {self.text}" if self.text else ""
        return f"{status}{code}{text}\r\n".encode("ascii")


# --- AUTHORIZATION -----------------------------------------------------------------------
USER_ACCEPTED: Final = Reply(True, "send PASS")
PASS_WITHOUT_USER: Final = Reply(False, "send USER first")
AUTH_REJECTED: Final = Reply(False, "invalid user name or password", ResponseCode.AUTH)
TOO_MANY_AUTH_FAILURES: Final = Reply(False, "too many failed logins, closing", ResponseCode.AUTH)
MAILDROP_IN_USE: Final = Reply(False, "maildrop is locked by another session", ResponseCode.IN_USE)
# Dovecot's wording; RFC 2595 §4 leaves it to the server.
PLAINTEXT_DISALLOWED: Final = Reply(
    False,
    "Plaintext authentication disallowed on non-secure (SSL/TLS) connections",
    ResponseCode.AUTH,
)
APOP_UNAVAILABLE: Final = Reply(False, "APOP is not offered here")
MECHANISMS_FOLLOW: Final = Reply(True, "SASL mechanisms follow")
UNKNOWN_MECHANISM: Final = Reply(False, "unsupported authentication mechanism")
AUTH_CANCELLED: Final = Reply(False, "authentication cancelled")
AUTH_MALFORMED: Final = Reply(False, "cannot decode the credentials")

# --- STLS (RFC 2595 section 4) -----------------------------------------------------------
BEGIN_TLS: Final = Reply(True, "Begin TLS negotiation now")
TLS_UNAVAILABLE: Final = Reply(False, "TLS is not available now")
LOGIN_THROTTLED: Final = Reply(
    False, "too many failed logins lately, try again later", ResponseCode.SYS_TEMP
)

# --- command syntax ----------------------------------------------------------------------
UNKNOWN_COMMAND: Final = Reply(False, "unknown command")
NOT_IN_THIS_STATE: Final = Reply(False, "command not valid in this state")
WRONG_ARGUMENTS: Final = Reply(False, "invalid arguments")
EMPTY_COMMAND: Final = Reply(False, "empty command")
LINE_TOO_LONG: Final = Reply(False, "command line too long")
BAD_ENCODING: Final = Reply(False, "command line is not valid UTF-8 text")
TOO_MANY_BAD_COMMANDS: Final = Reply(False, "too many bad commands, closing")
TOO_MANY_COMMANDS_BEFORE_LOGIN: Final = Reply(False, "too many commands without a login, closing")

# --- TRANSACTION -------------------------------------------------------------------------
NO_SUCH_MESSAGE: Final = Reply(False, "no such message")
ALREADY_DELETED: Final = Reply(False, "message already deleted")
MESSAGE_GONE: Final = Reply(False, "message was removed by another client")
DELETED: Final = Reply(True, "message deleted")
NOOP: Final = Reply(True, "")
CAPABILITY_LIST_FOLLOWS: Final = Reply(True, "capability list follows")

# --- store trouble and UPDATE ------------------------------------------------------------
TEMPORARY_FAILURE: Final = Reply(False, "temporary failure, try again later", ResponseCode.SYS_TEMP)
SERVER_ERROR: Final = Reply(False, "internal server error, closing", ResponseCode.SYS_TEMP)
UPDATE_FAILED: Final = Reply(False, "some deleted messages not removed", ResponseCode.SYS_TEMP)
SIGNING_OFF: Final = Reply(True, "Teledespacho POP3 server signing off")

#: RFC 2449 capability tags CAPA always lists; the session adds STLS, USER and SASL when
#: they can be used (RFC 2595 §4, RFC 5034 §3).
CAPABILITIES: Final[tuple[str, ...]] = (
    "TOP",
    "UIDL",
    "RESP-CODES",
    "PIPELINING",
    "AUTH-RESP-CODE",
    "IMPLEMENTATION Teledespacho",
)


def greeting(timestamp: str | None) -> Reply:
    """The banner; its ``<...>`` timestamp, when APOP is offered, is what digests cover."""
    if timestamp is None:
        return Reply(True, "Teledespacho POP3 server ready")
    return Reply(True, f"Teledespacho POP3 server ready {timestamp}")


def maildrop_ready(count: int, octets: int) -> Reply:
    return Reply(True, f"maildrop locked and ready, {count} messages ({octets} octets)")


def stat(count: int, octets: int) -> Reply:
    """RFC 1939 drop listing: exactly ``+OK nn mm``."""
    return Reply(True, f"{count} {octets}")


def scan_line(number: int, size: int) -> Reply:
    """RFC 1939 scan listing for ``LIST msg``: exactly ``+OK msg size``."""
    return Reply(True, f"{number} {size}")


def unique_id_line(number: int, unique_id: str) -> Reply:
    return Reply(True, f"{number} {unique_id}")


def listing_follows(count: int, octets: int) -> Reply:
    return Reply(True, f"{count} messages ({octets} octets)")


def uidl_follows() -> Reply:
    return Reply(True, "unique-id listing follows")


def message_follows(octets: int) -> Reply:
    return Reply(True, f"{octets} octets")


def top_follows() -> Reply:
    return Reply(True, "top of message follows")


def too_busy(reason: str) -> Reply:
    """The greeting that refuses a connection over the node's caps (then the server closes)."""
    return Reply(False, f"{reason}, try again later", ResponseCode.SYS_TEMP)


def rset_done(count: int, octets: int) -> Reply:
    return Reply(True, f"maildrop has {count} messages ({octets} octets)")
