"""What the POP3 core asks of its adapter.

The core never touches the store, a socket or a clock. When a command needs the outside
world it returns one of these requests from ``Pop3Session.next_event()``; the adapter does
the work and answers with the matching session method before asking for the next event:

=====================  ==================================================================
event                  answer
=====================  ==================================================================
``AuthRequested``      ``auth_succeeded(maildrop)`` / ``auth_rejected()`` /
``ApopRequested``      ``maildrop_in_use()`` / ``request_failed()``
``MessageRequested``   ``message_supplied(raw)`` / ``message_gone()`` / ``request_failed()``
``UpdateRequested``    ``update_committed()`` / ``request_failed()``
``StartTlsRequested``  write out ``data_to_send()``, negotiate TLS, ``tls_started()``; on
                       failure close the connection
``ConnectionClosed``   none: write out ``data_to_send()`` and close the connection
``NEED_DATA``          none: write out ``data_to_send()``, read, ``receive_data(bytes)``
=====================  ==================================================================

"Write out ``data_to_send()``": call it until it returns ``b""``; a large message comes a
piece at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "NEED_DATA",
    "ApopRequested",
    "AuthRequested",
    "ConnectionClosed",
    "Event",
    "MessageRequested",
    "NeedData",
    "StartTlsRequested",
    "UpdateRequested",
]


class NeedData:
    """Sentinel type: no complete command is buffered; read more bytes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()


@dataclass(frozen=True, slots=True)
class AuthRequested:
    """USER/PASS: check this password for this user."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ApopRequested:
    """APOP: check ``digest`` = MD5(greeting timestamp + shared secret), lowercase hex."""

    user: str
    digest: str
    timestamp: str


@dataclass(frozen=True, slots=True)
class MessageRequested:
    """RETR or TOP: supply the raw bytes of the message with this store UID."""

    uid: int


@dataclass(frozen=True, slots=True)
class UpdateRequested:
    """QUIT in TRANSACTION: remove these store UIDs in one transaction, then answer."""

    uids: frozenset[int]


@dataclass(frozen=True, slots=True)
class StartTlsRequested:
    """STLS was accepted: send what is pending, then negotiate TLS on the connection."""


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The session is over (QUIT, peer gone, or too many errors); close the connection."""

    gave_up: str | None = None
    """Why the session sent the client away (too many errors...), for the log; None: it
    said QUIT or went away."""


Event = (
    AuthRequested
    | ApopRequested
    | MessageRequested
    | UpdateRequested
    | StartTlsRequested
    | ConnectionClosed
)
