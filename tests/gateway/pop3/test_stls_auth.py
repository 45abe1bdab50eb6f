"""STLS (RFC 2595), AUTH PLAIN/LOGIN (RFC 5034), APOP on request, TOP n <huge>: the core."""

from __future__ import annotations

from base64 import b64encode

import pytest

from gateway.pop3 import (
    AuthRequested,
    Pop3Session,
    StartTlsRequested,
    State,
    replies,
)
from tests.gateway.pop3.peer import PASSWORD, TIMESTAMP, USER, InMemoryPeer, message


def b64(text: str) -> str:
    return b64encode(text.encode()).decode()


def plain(authzid: str, user: str, password: str) -> str:
    """An RFC 4616 PLAIN response, base64."""
    return b64("\0".join((authzid, user, password)))


def capa(peer: InMemoryPeer, session: Pop3Session) -> list[bytes]:
    out = peer.run(session, b"CAPA\r\n")
    body = out.split(replies.CAPABILITY_LIST_FOLLOWS.to_bytes(), 1)[1]
    return body.split(b"\r\n")[:-2]


@pytest.fixture
def peer() -> InMemoryPeer:
    return InMemoryPeer(messages={1: message("uno", "l1\r\nl2\r\nl3\r\n")})


def test_greeting_has_no_apop_timestamp_unless_offered(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None)
    assert session.data_to_send() == b"+OK Teledespacho POP3 server ready\r\n"
    out = peer.run(session, f"APOP {USER} {'0' * 32}\r\n".encode())
    assert out == replies.APOP_UNAVAILABLE.to_bytes()
    assert (
        Pop3Session(greeting_timestamp=TIMESTAMP)
        .data_to_send()
        .endswith(f" {TIMESTAMP}\r\n".encode())
    )


def test_capa_offers_stls_and_sasl(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None, tls=True)
    tags = capa(peer, session)
    assert b"STLS" in tags
    assert b"SASL PLAIN LOGIN" in tags
    assert b"USER" in tags


def test_stls_then_the_session_goes_on_encrypted(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None, tls=True)
    session.data_to_send()
    session.receive_data(b"STLS\r\n")
    assert isinstance(session.next_event(), StartTlsRequested)
    assert session.data_to_send() == replies.BEGIN_TLS.to_bytes()
    session.tls_started()
    assert session.secure
    assert b"STLS" not in capa(peer, session)  # RFC 2595 §4: not offered twice
    assert peer.run(session, b"STLS\r\n") == replies.TLS_UNAVAILABLE.to_bytes()


def test_lines_pipelined_after_stls_are_discarded(peer: InMemoryPeer) -> None:
    """RFC 2595 §4 / RFC 3207 §4.2: plain-text lines sent before the handshake are dropped."""
    session = Pop3Session(greeting_timestamp=None, tls=True)
    session.data_to_send()
    session.receive_data(f"STLS\r\nUSER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    assert isinstance(session.next_event(), StartTlsRequested)
    session.tls_started()
    assert peer.drain(session) == replies.BEGIN_TLS.to_bytes()
    assert session.state is State.AUTHORIZATION
    assert not any(isinstance(event, AuthRequested) for event in peer.events)


def test_stls_without_tls_is_refused(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None)
    session.data_to_send()
    assert peer.run(session, b"STLS\r\n") == replies.TLS_UNAVAILABLE.to_bytes()
    assert b"STLS" not in capa(peer, session)


def test_plaintext_login_waits_for_tls_when_required(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None, tls=True, auth_requires_tls=True)
    session.data_to_send()
    tags = capa(peer, session)
    assert b"USER" not in tags
    assert not any(tag.startswith(b"SASL") for tag in tags)
    refused = replies.PLAINTEXT_DISALLOWED.to_bytes()
    assert refused.startswith(b"-ERR [AUTH] ")
    assert peer.run(session, f"USER {USER}\r\n".encode()) == refused
    assert peer.run(session, f"AUTH PLAIN {plain('', USER, PASSWORD)}\r\n".encode()) == refused
    peer.run(session, b"STLS\r\n")
    assert session.secure
    out = peer.run(session, f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    assert out.endswith(replies.maildrop_ready(1, len(peer.messages[1])).to_bytes())


def test_implicit_tls_session_allows_login(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None, tls=True, secure=True, auth_requires_tls=True)
    session.data_to_send()
    assert b"STLS" not in capa(peer, session)
    out = peer.run(session, f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    assert session.state is State.TRANSACTION, out


def test_auth_plain_with_initial_response(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None)
    session.data_to_send()
    peer.run(session, f"AUTH PLAIN {plain('', USER, PASSWORD)}\r\n".encode())
    assert session.state is State.TRANSACTION


def test_auth_plain_with_a_challenge(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None)
    session.data_to_send()
    assert peer.run(session, b"AUTH PLAIN\r\n") == b"+ \r\n"
    peer.run(session, f"{plain(USER, USER, PASSWORD)}\r\n".encode())
    assert session.state is State.TRANSACTION


def test_auth_login_asks_user_then_password(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None)
    session.data_to_send()
    assert peer.run(session, b"AUTH LOGIN\r\n") == f"+ {b64('Username:')}\r\n".encode()
    assert peer.run(session, f"{b64(USER)}\r\n".encode()) == f"+ {b64('Password:')}\r\n".encode()
    peer.run(session, f"{b64(PASSWORD)}\r\n".encode())
    assert session.state is State.TRANSACTION


def test_auth_wrong_password_and_cancel_and_garbage(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None)
    session.data_to_send()
    out = peer.run(session, f"AUTH PLAIN {plain('', USER, 'mala')}\r\n".encode())
    assert out == replies.AUTH_REJECTED.to_bytes()
    peer.run(session, b"AUTH LOGIN\r\n")
    assert peer.run(session, b"*\r\n") == replies.AUTH_CANCELLED.to_bytes()
    peer.run(session, b"AUTH PLAIN\r\n")
    assert peer.run(session, b"%%%\r\n") == replies.AUTH_MALFORMED.to_bytes()
    assert peer.run(session, b"AUTH CRAM-MD5\r\n") == replies.UNKNOWN_MECHANISM.to_bytes()
    assert session.state is State.AUTHORIZATION


def test_bare_auth_lists_the_mechanisms(peer: InMemoryPeer) -> None:
    session = Pop3Session(greeting_timestamp=None)
    session.data_to_send()
    assert (
        peer.run(session, b"AUTH\r\n") == b"+OK SASL mechanisms follow\r\nPLAIN\r\nLOGIN\r\n.\r\n"
    )


@pytest.mark.parametrize("lines", ["3", "4", "4294967296", str(2**63 - 1)])
def test_top_with_more_lines_than_the_body_returns_the_whole_message(
    peer: InMemoryPeer, lines: str
) -> None:
    session = Pop3Session(greeting_timestamp=None)
    session.data_to_send()
    peer.run(session, f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    out = peer.run(session, f"TOP 1 {lines}\r\n".encode())
    assert out == replies.top_follows().to_bytes() + peer.messages[1] + b".\r\n"
