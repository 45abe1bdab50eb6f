"""An in-memory adapter for driving ``Pop3Session`` without sockets or a store.

It answers the core's requests from a dict of messages and one password, the way the real
adapter answers from the store, and records every request so tests can assert on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.pop3 import (
    NEED_DATA,
    ApopRequested,
    AuthRequested,
    ConnectionClosed,
    Event,
    MaildropEntry,
    MessageRequested,
    NeedData,
    Pop3Session,
    StartTlsRequested,
    State,
    UpdateRequested,
    apop_digest_matches,
)

TIMESTAMP = "<1234.1.abcd@pop.test>"
USER = "agente@example.pe"
PASSWORD = "clave secreta"  # contains a space on purpose: PASS takes the rest of the line
APOP_SECRET = "tanstaaf"


def message(subject: str, body: str = "Hola.\r\n") -> bytes:
    return f"From: a@example.pe\r\nSubject: {subject}\r\n\r\n{body}".encode()


@dataclass
class InMemoryPeer:
    """Plays the adapter: holds the mailbox and answers the session's requests."""

    messages: dict[int, bytes] = field(default_factory=dict)
    in_use: bool = False
    fail_store: bool = False
    throttled: bool = False
    """Too many failed logins lately: every login is refused unchecked."""
    uid_validity: int = 777
    events: list[Event] = field(default_factory=list)
    expunged: set[int] = field(default_factory=set)

    def listing(self) -> list[MaildropEntry]:
        return [
            MaildropEntry(uid, len(raw), f"{self.uid_validity}.{uid}")
            for uid, raw in sorted(self.messages.items())
        ]

    def answer(self, session: Pop3Session, event: Event) -> None:
        self.events.append(event)
        if self.fail_store and not isinstance(event, ConnectionClosed):
            session.request_failed()
        elif isinstance(event, AuthRequested):
            self._answer_auth(session, event.user == USER and event.password == PASSWORD)
        elif isinstance(event, ApopRequested):
            good = event.user == USER and apop_digest_matches(
                event.timestamp, APOP_SECRET, event.digest
            )
            self._answer_auth(session, good)
        elif isinstance(event, MessageRequested):
            raw = self.messages.get(event.uid)
            if raw is None:
                session.message_gone()
            else:
                session.message_supplied(raw)
        elif isinstance(event, StartTlsRequested):
            session.tls_started()  # a handshake that succeeded
        elif isinstance(event, UpdateRequested):
            for uid in event.uids:
                del self.messages[uid]
            self.expunged |= event.uids
            session.update_committed()

    def _answer_auth(self, session: Pop3Session, good: bool) -> None:
        if self.throttled:
            session.auth_throttled()
        elif not good:
            session.auth_rejected()
        elif self.in_use:
            session.maildrop_in_use()
        else:
            session.auth_succeeded(self.listing())

    def run(self, session: Pop3Session, data: bytes, *, byte_at_a_time: bool = False) -> bytes:
        """Feed ``data`` (whole or one byte at a time), process to NEED_DATA or close."""
        chunks = [data[i : i + 1] for i in range(len(data))] if byte_at_a_time else [data]
        return self.run_chunks(session, chunks)

    def run_chunks(self, session: Pop3Session, chunks: Sequence[bytes]) -> bytes:
        """Feed each chunk and process after each one; return everything the server wrote.

        Like the real adapter, it stops feeding once the session has closed.
        """
        out = bytearray(sent(session))
        for chunk in chunks:
            if session.state is State.CLOSED:
                break
            session.receive_data(chunk)
            out += self.drain(session)
        return bytes(out)

    def drain(self, session: Pop3Session) -> bytes:
        out = bytearray()
        while True:
            event = session.next_event()
            if event is NEED_DATA:
                break
            assert not isinstance(event, NeedData)
            self.answer(session, event)
            if isinstance(event, ConnectionClosed):
                break
        out += sent(session)
        return bytes(out)


def sent(session: Pop3Session) -> bytes:
    """All the session has to send, taken as an adapter takes it: until it is empty."""
    out = bytearray()
    while data := session.data_to_send():
        out += data
    return bytes(out)


def new_session(**kwargs: int) -> Pop3Session:
    return Pop3Session(greeting_timestamp=TIMESTAMP, **kwargs)


def login_bytes() -> bytes:
    return f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode()


def reply_lines(output: bytes) -> list[bytes]:
    return output.split(b"\r\n")[:-1]
