"""The POP3 session core, driven byte-for-byte with no sockets and no store."""

from __future__ import annotations

import pytest

from gateway.pop3 import (
    NEED_DATA,
    ApopRequested,
    AuthRequested,
    ConnectionClosed,
    MessageRequested,
    Pop3Session,
    Pop3UsageError,
    State,
    UpdateRequested,
    apop_digest,
    replies,
)
from gateway.pop3.session import MAX_COMMANDS_BEFORE_LOGIN
from tests.gateway.pop3.peer import (
    APOP_SECRET,
    PASSWORD,
    TIMESTAMP,
    USER,
    InMemoryPeer,
    login_bytes,
    message,
    new_session,
)


def ok(reply: replies.Reply) -> bytes:
    return reply.to_bytes()


@pytest.fixture
def peer() -> InMemoryPeer:
    return InMemoryPeer(messages={3: message("uno"), 5: message("dos"), 9: message("tres")})


def logged_in(peer: InMemoryPeer) -> Pop3Session:
    session = new_session()
    out = peer.run(session, login_bytes())
    assert out.endswith(ok(replies.maildrop_ready(3, sum(len(m) for m in peer.messages.values()))))
    assert session.state is State.TRANSACTION
    return session


# --- greeting and AUTHORIZATION ----------------------------------------------------------


def test_greeting_carries_the_apop_timestamp() -> None:
    session = new_session()
    assert (
        session.data_to_send()
        == b"+OK Teledespacho POP3 server ready " + TIMESTAMP.encode() + b"\r\n"
    )
    assert session.next_event() is NEED_DATA
    assert session.state is State.AUTHORIZATION


def test_greeting_timestamp_must_be_angle_bracketed() -> None:
    with pytest.raises(ValueError):
        Pop3Session(greeting_timestamp="1234@host")


def test_user_pass_requests_auth_with_whole_rest_of_line_as_password() -> None:
    session = new_session()
    session.data_to_send()
    session.receive_data(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    event = session.next_event()
    assert event == AuthRequested(user=USER, password=PASSWORD)
    assert PASSWORD not in repr(event)
    assert session.data_to_send() == ok(replies.USER_ACCEPTED)


def test_successful_login_enters_transaction(peer: InMemoryPeer) -> None:
    logged_in(peer)


def test_wrong_password_is_auth_coded_and_user_must_be_resent(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, f"USER {USER}\r\nPASS nope\r\nPASS {PASSWORD}\r\n".encode())
    assert out.endswith(ok(replies.AUTH_REJECTED) + ok(replies.PASS_WITHOUT_USER))
    assert b"-ERR [AUTH] " in ok(replies.AUTH_REJECTED)
    assert session.state is State.AUTHORIZATION


def test_a_throttled_login_is_a_temporary_failure_that_counts_as_a_failure(
    peer: InMemoryPeer,
) -> None:
    peer.throttled = True
    session = new_session(max_auth_failures=3)
    good = f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode()
    out = peer.run(session, good * 3)
    assert out.count(ok(replies.LOGIN_THROTTLED)) == 2
    assert b"-ERR [SYS/TEMP] " in ok(replies.LOGIN_THROTTLED)
    assert out.endswith(ok(replies.TOO_MANY_AUTH_FAILURES))
    assert session.state is State.CLOSED


def test_pass_must_immediately_follow_user(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, f"USER {USER}\r\nCAPA\r\nPASS {PASSWORD}\r\n".encode())
    assert out.endswith(ok(replies.PASS_WITHOUT_USER))
    assert not any(isinstance(e, AuthRequested) for e in peer.events)


def test_too_many_auth_failures_close_the_connection(peer: InMemoryPeer) -> None:
    session = new_session(max_auth_failures=3)
    bad = f"USER {USER}\r\nPASS wrong\r\n".encode()
    out = peer.run(session, bad * 4)
    assert out.count(ok(replies.AUTH_REJECTED)) == 2
    assert out.endswith(ok(replies.TOO_MANY_AUTH_FAILURES))
    assert session.state is State.CLOSED
    assert isinstance(peer.events[-1], ConnectionClosed)
    assert sum(isinstance(e, AuthRequested) for e in peer.events) == 3


def test_maildrop_in_use_is_reported_with_in_use_code(peer: InMemoryPeer) -> None:
    peer.in_use = True
    session = new_session()
    out = peer.run(session, login_bytes())
    assert out.endswith(ok(replies.MAILDROP_IN_USE))
    assert out.endswith(b"-ERR [IN-USE] maildrop is locked by another session\r\n")
    assert session.state is State.AUTHORIZATION


def test_store_failure_at_login_is_sys_temp(peer: InMemoryPeer) -> None:
    peer.fail_store = True
    session = new_session()
    out = peer.run(session, login_bytes())
    assert out.endswith(ok(replies.TEMPORARY_FAILURE))
    assert b"[SYS/TEMP]" in ok(replies.TEMPORARY_FAILURE)
    assert session.state is State.AUTHORIZATION


def test_apop_event_carries_greeting_timestamp_and_lowercased_digest(peer: InMemoryPeer) -> None:
    digest = apop_digest(TIMESTAMP, APOP_SECRET)
    session = new_session()
    session.data_to_send()
    session.receive_data(f"APOP {USER} {digest.upper()}\r\n".encode())
    event = session.next_event()
    assert event == ApopRequested(user=USER, digest=digest, timestamp=TIMESTAMP)


def test_apop_login_with_right_digest(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, f"APOP {USER} {apop_digest(TIMESTAMP, APOP_SECRET)}\r\n".encode())
    assert out.endswith(ok(replies.maildrop_ready(3, sum(len(m) for m in peer.messages.values()))))
    assert session.state is State.TRANSACTION


def test_apop_with_wrong_digest_is_rejected(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, f"APOP {USER} {apop_digest(TIMESTAMP, 'otro')}\r\n".encode())
    assert out.endswith(ok(replies.AUTH_REJECTED))


def test_apop_with_malformed_digest_is_a_syntax_error(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, f"APOP {USER} xyz\r\n".encode())
    assert out.endswith(ok(replies.WRONG_ARGUMENTS))
    assert not peer.events


def test_transaction_commands_are_refused_before_login(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, b"STAT\r\nRETR 1\r\nLIST\r\n")
    assert out.endswith(ok(replies.NOT_IN_THIS_STATE) * 3)


def test_quit_in_authorization_closes_without_update(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, b"QUIT\r\n")
    assert out.endswith(ok(replies.SIGNING_OFF))
    assert session.state is State.CLOSED
    assert peer.events == [ConnectionClosed()]


def test_capa_lists_the_capabilities_in_both_states(peer: InMemoryPeer) -> None:
    expected = (
        ok(replies.CAPABILITY_LIST_FOLLOWS)
        + b"TOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n"
        + b"IMPLEMENTATION Teledespacho\r\nSASL PLAIN LOGIN\r\n.\r\n"
    )
    session = new_session()
    assert peer.run(session, b"CAPA\r\n").endswith(expected)
    peer.run(session, login_bytes())
    assert peer.run(session, b"capa\r\n") == expected


# --- TRANSACTION -------------------------------------------------------------------------


def test_stat_list_and_uidl(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    sizes = [len(peer.messages[uid]) for uid in (3, 5, 9)]
    out = peer.run(session, b"STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\n")
    assert out == (
        ok(replies.stat(3, sum(sizes)))
        + ok(replies.listing_follows(3, sum(sizes)))
        + f"1 {sizes[0]}\r\n2 {sizes[1]}\r\n3 {sizes[2]}\r\n.\r\n".encode()
        + ok(replies.scan_line(2, sizes[1]))
        + ok(replies.uidl_follows())
        + b"1 777.3\r\n2 777.5\r\n3 777.9\r\n.\r\n"
        + ok(replies.unique_id_line(3, "777.9"))
    )
    assert ok(replies.stat(3, 10)) == b"+OK 3 10\r\n"


def test_unknown_message_numbers(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    out = peer.run(session, b"LIST 0\r\nLIST 4\r\nRETR 99\r\nUIDL 4\r\nDELE 4\r\nTOP 7 1\r\n")
    assert out == ok(replies.NO_SUCH_MESSAGE) * 6


def test_retr_dot_stuffs_and_uses_crlf() -> None:
    raw = b"Subject: x\n\n.hidden\nline\r\n..two\n."
    peer = InMemoryPeer(messages={1: raw})
    session = logged_in_single(peer)
    out = peer.run(session, b"RETR 1\r\n")
    assert out == (
        ok(replies.message_follows(len(raw)))
        + b"Subject: x\r\n\r\n..hidden\r\nline\r\n...two\r\n..\r\n.\r\n"
    )
    assert peer.events[-1] == MessageRequested(uid=1)


def logged_in_single(peer: InMemoryPeer) -> Pop3Session:
    session = new_session()
    peer.run(session, login_bytes())
    assert session.state is State.TRANSACTION
    return session


def test_retr_of_an_empty_message_is_just_the_terminator() -> None:
    peer = InMemoryPeer(messages={1: b""})
    session = logged_in_single(peer)
    assert peer.run(session, b"RETR 1\r\n") == ok(replies.message_follows(0)) + b".\r\n"


@pytest.mark.parametrize(
    ("lines", "expected_body"),
    [
        (0, b""),
        (1, b"uno\r\n"),
        (2, b"uno\r\n.dos\r\n"),
        (50, b"uno\r\n.dos\r\ntres\r\n"),
    ],
)
def test_top_sends_header_blank_line_and_n_body_lines(lines: int, expected_body: bytes) -> None:
    peer = InMemoryPeer(messages={1: b"Subject: t\r\nX: y\r\n\r\nuno\r\n.dos\r\ntres\r\n"})
    session = logged_in_single(peer)
    out = peer.run(session, f"TOP 1 {lines}\r\n".encode())
    stuffed = expected_body.replace(b"\r\n.", b"\r\n..")
    assert out == ok(replies.top_follows()) + b"Subject: t\r\nX: y\r\n\r\n" + stuffed + b".\r\n"


def test_top_of_a_message_without_body_sends_the_header() -> None:
    peer = InMemoryPeer(messages={1: b"Subject: t\r\nX: y"})
    session = logged_in_single(peer)
    out = peer.run(session, b"TOP 1 5\r\n")
    assert out == ok(replies.top_follows()) + b"Subject: t\r\nX: y\r\n.\r\n"


def test_top_needs_two_numeric_arguments(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    out = peer.run(session, b"TOP 1\r\nTOP 1 -1\r\nTOP a 1\r\n")
    assert out == ok(replies.WRONG_ARGUMENTS) * 3


def test_dele_marks_and_hides_the_message(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    first = len(peer.messages[3])
    total = sum(len(m) for m in peer.messages.values())
    out = peer.run(session, b"DELE 1\r\nDELE 1\r\nRETR 1\r\nLIST 1\r\nSTAT\r\nLIST\r\nUIDL\r\n")
    size2, size3 = len(peer.messages[5]), len(peer.messages[9])
    assert out == (
        ok(replies.DELETED)
        + ok(replies.ALREADY_DELETED) * 3
        + ok(replies.stat(2, total - first))
        + ok(replies.listing_follows(2, total - first))
        + f"2 {size2}\r\n3 {size3}\r\n.\r\n".encode()
        + ok(replies.uidl_follows())
        + b"2 777.5\r\n3 777.9\r\n.\r\n"
    )
    assert 3 in peer.messages  # nothing applied before UPDATE


def test_rset_unmarks_deletions(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    total = sum(len(m) for m in peer.messages.values())
    out = peer.run(session, b"DELE 1\r\nDELE 3\r\nRSET\r\nQUIT\r\n")
    assert ok(replies.rset_done(3, total)) in out
    assert out.endswith(ok(replies.SIGNING_OFF))
    assert not any(isinstance(e, UpdateRequested) for e in peer.events)
    assert set(peer.messages) == {3, 5, 9}


def test_noop(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    assert peer.run(session, b"NOOP\r\n") == b"+OK\r\n"


def test_authorization_commands_are_refused_in_transaction(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    out = peer.run(session, f"USER {USER}\r\nPASS x\r\nAPOP {USER} {'0' * 32}\r\n".encode())
    assert out == ok(replies.NOT_IN_THIS_STATE) * 3


def test_message_removed_by_another_client_is_reported(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    del peer.messages[5]
    assert peer.run(session, b"RETR 2\r\n") == ok(replies.MESSAGE_GONE)
    assert session.state is State.TRANSACTION


# --- UPDATE ------------------------------------------------------------------------------


def test_quit_applies_deletions_only_in_update(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    peer.run(session, b"DELE 1\r\nDELE 3\r\n")
    assert peer.expunged == set()
    out = peer.run(session, b"QUIT\r\n")
    assert UpdateRequested(uids=frozenset({3, 9})) in peer.events
    assert peer.expunged == {3, 9}
    assert out == ok(replies.SIGNING_OFF)
    assert session.state is State.CLOSED
    assert peer.events[-1] == ConnectionClosed()


def test_update_waits_for_the_store_before_answering(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    session.receive_data(b"DELE 2\r\nQUIT\r\n")
    event = session.next_event()
    assert event == UpdateRequested(uids=frozenset({5}))
    assert session.state is State.UPDATE
    assert session.data_to_send() == ok(replies.DELETED)  # no +OK for QUIT yet
    session.update_committed()
    assert session.data_to_send() == ok(replies.SIGNING_OFF)
    assert session.next_event() == ConnectionClosed()


def test_failed_update_answers_err(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    peer.fail_store = True
    out = peer.run(session, b"DELE 1\r\nQUIT\r\n")
    assert out == ok(replies.DELETED) + ok(replies.UPDATE_FAILED)
    assert ok(replies.UPDATE_FAILED) == b"-ERR [SYS/TEMP] some deleted messages not removed\r\n"
    assert session.state is State.CLOSED


@pytest.mark.parametrize("tail", [b"", b"QUI", b"QUIT"])
def test_dropped_connection_never_applies_deletions(peer: InMemoryPeer, tail: bytes) -> None:
    session = logged_in(peer)
    peer.run(session, b"DELE 1\r\nDELE 2\r\n" + tail)
    session.receive_data(b"")  # the peer is gone (a QUIT without its line end is no QUIT)
    out = peer.drain(session)
    assert out == b""
    assert session.state is State.CLOSED
    assert peer.events[-1] == ConnectionClosed()
    assert not any(isinstance(e, UpdateRequested) for e in peer.events)
    assert set(peer.messages) == {3, 5, 9}


def test_complete_commands_before_eof_are_still_served(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    session.receive_data(b"DELE 1\r\nQUIT\r\n")
    session.receive_data(b"")
    out = peer.drain(session)
    assert out == ok(replies.DELETED) + ok(replies.SIGNING_OFF)
    assert peer.expunged == {3}


def test_input_after_quit_is_ignored(peer: InMemoryPeer) -> None:
    session = logged_in(peer)
    out = peer.run(session, b"QUIT\r\nDELE 1\r\nSTAT\r\n")
    assert out == ok(replies.SIGNING_OFF)
    session.receive_data(b"NOOP\r\n")
    assert session.next_event() == ConnectionClosed()
    assert session.data_to_send() == b""


# --- malformed input ---------------------------------------------------------------------


def test_unknown_empty_and_undecodable_commands(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, b"HELO x\r\n\r\n   \r\nX\r\nUSER \xff\xfe\r\nUSER a\x00b\r\n")
    assert out.endswith(
        ok(replies.UNKNOWN_COMMAND)
        + ok(replies.EMPTY_COMMAND) * 2
        + ok(replies.UNKNOWN_COMMAND)
        + ok(replies.BAD_ENCODING)
        + ok(replies.WRONG_ARGUMENTS)
    )
    assert session.state is State.AUTHORIZATION


def test_keywords_are_case_insensitive_and_bare_lf_is_accepted(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, f"user {USER}\npAsS {PASSWORD}\nstat\n".encode())
    assert session.state is State.TRANSACTION
    assert out.endswith(ok(replies.stat(3, sum(len(m) for m in peer.messages.values()))))


def test_wrong_argument_counts(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, b"USER\r\nUSER a b\r\nQUIT now\r\nPASS\r\n")
    assert out.endswith(ok(replies.WRONG_ARGUMENTS) * 4)


def test_overlong_line_gets_err_and_session_continues(peer: InMemoryPeer) -> None:
    session = new_session()
    out = peer.run(session, b"USER " + b"a" * 400 + b"\r\n" + login_bytes() + b"STAT\r\n")
    assert ok(replies.LINE_TOO_LONG) in out
    assert out.count(b"-ERR") == 1
    assert session.state is State.TRANSACTION


def test_line_limit_is_255_octets_including_crlf(peer: InMemoryPeer) -> None:
    session = new_session()
    fits = b"USER " + b"u" * (255 - len(b"USER \r\n")) + b"\r\n"
    assert len(fits) == 255
    too_long = b"USER " + b"u" * (256 - len(b"USER \r\n")) + b"\r\n"
    out = peer.run(session, fits + too_long)
    assert out.endswith(ok(replies.USER_ACCEPTED) + ok(replies.LINE_TOO_LONG))


def test_overlong_line_is_not_buffered(peer: InMemoryPeer) -> None:
    session = new_session()
    for _ in range(1000):
        session.receive_data(b"x" * 1000)
        assert session.next_event() is NEED_DATA
        assert len(session._lines._buffer) < 256
    out = peer.run(session, b"\r\nCAPA\r\n")
    assert out.startswith(
        session_greeting() + ok(replies.LINE_TOO_LONG) + ok(replies.CAPABILITY_LIST_FOLLOWS)
    )


def session_greeting() -> bytes:
    return ok(replies.greeting(TIMESTAMP))


def test_too_many_bad_commands_close_the_connection(peer: InMemoryPeer) -> None:
    session = new_session(max_bad_commands=4)
    out = peer.run(session, b"BOGUS\r\nNOPE\r\nSTAT\r\nXYZZY\r\nCAPA\r\n")
    assert out.endswith(
        ok(replies.UNKNOWN_COMMAND) * 2
        + ok(replies.NOT_IN_THIS_STATE)
        + ok(replies.TOO_MANY_BAD_COMMANDS)
    )
    assert session.state is State.CLOSED
    assert peer.events == [ConnectionClosed(gave_up="too many bad commands, closing")]


def test_a_session_that_never_logs_in_is_closed_after_its_commands(peer: InMemoryPeer) -> None:
    """Unbounded, a client that never logged in had 5 000 pipelined ``CAPA``s answered, for
    its whole login time; a login within the limit goes on as ever."""
    session = new_session()
    out = peer.run(session, b"CAPA\r\n" * 5_000)
    capa = peer.run(new_session(), b"CAPA\r\n")[len(session_greeting()) :]
    assert out == session_greeting() + capa * MAX_COMMANDS_BEFORE_LOGIN + ok(
        replies.TOO_MANY_COMMANDS_BEFORE_LOGIN
    )
    assert session.state is State.CLOSED
    assert peer.events == [ConnectionClosed(gave_up="too many commands without a login, closing")]

    patient = new_session()
    peer.run(patient, b"CAPA\r\n" * (MAX_COMMANDS_BEFORE_LOGIN - 2) + login_bytes())
    assert patient.state is State.TRANSACTION
    assert peer.run(patient, b"NOOP\r\n" * 100) == b"+OK\r\n" * 100  # logged in: no limit


def test_refusals_do_not_count_as_bad_commands(peer: InMemoryPeer) -> None:
    session = new_session(max_bad_commands=2)
    peer.run(session, login_bytes())
    out = peer.run(session, b"RETR 9\r\n" * 5 + b"NOOP\r\n")
    assert out == ok(replies.NO_SUCH_MESSAGE) * 5 + b"+OK\r\n"
    assert session.state is State.TRANSACTION


# --- pipelining and incremental input ----------------------------------------------------

SCRIPT = (
    b"CAPA\r\nUSER x\r\nPASS y\r\n"
    + login_bytes()
    + b"STAT\r\nLIST\r\nUIDL\r\nTOP 2 0\r\nRETR 1\r\nDELE 3\r\nBAD\r\nLIST 3\r\nRSET\r\n"
    + b"DELE 2\r\nNOOP\r\nQUIT\r\n"
)


def test_pipelined_script_gives_same_output_whole_and_byte_at_a_time() -> None:
    def fresh() -> InMemoryPeer:
        return InMemoryPeer(messages={3: message("uno"), 5: message("dos"), 9: message("tres")})

    whole_peer, bytes_peer = fresh(), fresh()
    whole = whole_peer.run(new_session(), SCRIPT)
    one_by_one = bytes_peer.run(new_session(), SCRIPT, byte_at_a_time=True)
    assert whole == one_by_one
    assert whole_peer.events == bytes_peer.events
    assert whole_peer.expunged == bytes_peer.expunged == {5}
    assert whole.endswith(ok(replies.SIGNING_OFF))
    # one status line for the greeting and for each of the 17 commands
    assert whole.count(b"\r\n+OK") + whole.count(b"\r\n-ERR") + 1 == 18


# --- API misuse by the adapter -----------------------------------------------------------


def test_next_event_before_answering_is_a_usage_error() -> None:
    session = new_session()
    session.receive_data(login_bytes())
    assert isinstance(session.next_event(), AuthRequested)
    with pytest.raises(Pop3UsageError):
        session.next_event()


def test_answers_out_of_turn_are_usage_errors(peer: InMemoryPeer) -> None:
    session = new_session()
    with pytest.raises(Pop3UsageError):
        session.auth_succeeded([])
    with pytest.raises(Pop3UsageError):
        session.request_failed()
    session.receive_data(login_bytes())
    session.next_event()
    with pytest.raises(Pop3UsageError):
        session.message_supplied(b"x")
    with pytest.raises(Pop3UsageError):
        session.update_committed()
    session.auth_succeeded(peer.listing())
    assert session.state is State.TRANSACTION
