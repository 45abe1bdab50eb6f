"""POP3 (RFC 1939 with RFC 2449 CAPA): a sans-IO session core and a thin asyncio server.

``Pop3Session`` is the protocol: bytes in, events and bytes out, no I/O. The adapter in
``gateway.pop3.server`` owns the sockets, the store calls and the maildrop locks.
"""

from gateway.pop3.apop import apop_digest, apop_digest_matches, make_greeting_timestamp
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
from gateway.pop3.maildrop import MaildropEntry
from gateway.pop3.replies import Reply, ResponseCode
from gateway.pop3.session import Pop3Session
from gateway.pop3.state import State

__all__ = [
    "NEED_DATA",
    "ApopRequested",
    "AuthRequested",
    "BadCommand",
    "CommandRefused",
    "ConnectionClosed",
    "Event",
    "MaildropEntry",
    "MessageRequested",
    "NeedData",
    "Pop3Error",
    "Pop3Session",
    "Pop3UsageError",
    "Reply",
    "ResponseCode",
    "StartTlsRequested",
    "State",
    "UpdateRequested",
    "apop_digest",
    "apop_digest_matches",
    "make_greeting_timestamp",
]
