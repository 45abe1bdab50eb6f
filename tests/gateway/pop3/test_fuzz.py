"""Hypothesis fuzzing of the session core: arbitrary bytes, in arbitrary chunks.

Nothing the peer sends may make the core raise; every outcome is a reply on the wire. The
same input gives the same output whatever the chunking, a session always ends at EOF, and
deletions are only ever requested after a QUIT line.
"""

from __future__ import annotations

import re
from itertools import pairwise

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gateway.pop3 import ConnectionClosed, State, UpdateRequested, apop_digest
from tests.gateway.pop3.peer import (
    APOP_SECRET,
    PASSWORD,
    TIMESTAMP,
    USER,
    InMemoryPeer,
    message,
    new_session,
)

FRAGMENTS = [
    b"USER ",
    b"PASS ",
    b"APOP ",
    USER.encode(),
    PASSWORD.encode(),
    apop_digest(TIMESTAMP, APOP_SECRET).encode(),
    b"STAT",
    b"LIST",
    b"UIDL",
    b"RETR ",
    b"TOP ",
    b"DELE ",
    b"RSET",
    b"NOOP",
    b"QUIT",
    b"CAPA",
    b"quit",
    b"0",
    b"1",
    b"2",
    b"3",
    b"99999999999",
    b" ",
    b"\t",
    b"\r\n",
    b"\n",
    b"\r",
    b".",
    b"\x00",
    b"\xff",
    b"x" * 300,
]

LOGIN_LINES = [
    f"USER {USER}\r\n".encode(),
    f"PASS {PASSWORD}\r\n".encode(),
    f"APOP {USER} {apop_digest(TIMESTAMP, APOP_SECRET)}\r\n".encode(),
]
numbered_command = st.builds(
    lambda keyword, numbers, end: keyword + b"".join(b" " + n for n in numbers) + end,
    st.sampled_from([b"LIST", b"UIDL", b"RETR", b"TOP", b"DELE", b"STAT", b"RSET", b"QUIT"]),
    st.lists(st.sampled_from([b"0", b"1", b"2", b"3", b"4", b"12345678901"]), max_size=2),
    st.sampled_from([b"\r\n", b"\n"]),
)
commandish = st.lists(
    st.one_of(
        st.sampled_from(LOGIN_LINES),
        numbered_command,
        st.sampled_from(FRAGMENTS),
        st.binary(max_size=8),
    ),
    max_size=60,
).map(b"".join)
TRANSACTION_LINES = [
    f"{line}\r\n".encode()
    for line in [
        *("STAT", "LIST", "LIST 1", "UIDL", "UIDL 2", "RETR 1", "RETR 2", "RETR 3", "TOP 1 0"),
        *("TOP 3 1", "DELE 1", "DELE 2", "DELE 3", "RSET", "NOOP", "QUIT", "CAPA"),
    ]
]
# Most random input never gets past AUTHORIZATION: a third of the cases start logged in
# and go on with mostly well-formed commands, so TRANSACTION and UPDATE get fuzzed too.
after_login = st.builds(
    lambda dele, lines, quit_line: b"".join([*LOGIN_LINES[:2], dele, *lines, quit_line]),
    st.sampled_from([b"", b"DELE 1\r\n", b"DELE 3\r\n"]),
    st.lists(
        st.one_of(
            *[st.sampled_from(TRANSACTION_LINES)] * 4,  # weighted towards well-formed commands
            numbered_command,
            st.binary(max_size=4),
        ),
        max_size=30,
    ),
    st.sampled_from([b"", b"QUIT\r\n"]),
)
any_input = st.one_of(st.binary(max_size=600), commandish, after_login)


def fresh_peer() -> InMemoryPeer:
    return InMemoryPeer(
        messages={1: message("a"), 2: b"Subject: b\n\n.\n..\nfin", 7: message("c", ".x\r\n")}
    )


def run(data: bytes, chunks: list[bytes], limit: int) -> tuple[bytes, InMemoryPeer]:
    peer = fresh_peer()
    session = new_session(max_bad_commands=limit, max_auth_failures=limit)
    out = peer.run_chunks(session, [*chunks, b""])
    assert session.state is State.CLOSED, "EOF must always end the session"
    assert isinstance(peer.events[-1], ConnectionClosed)
    return out, peer


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in pairwise(edges) if b > a]


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=any_input, cuts=st.lists(st.integers(min_value=0), max_size=20), lenient=st.booleans())
def test_random_input_never_raises_and_chunking_does_not_matter(
    data: bytes, cuts: list[int], lenient: bool
) -> None:
    limit = 10_000 if lenient else 3
    whole, whole_peer = run(data, [data], limit)
    chunked, chunked_peer = run(data, split(data, cuts), limit)
    one_by_one, bytes_peer = run(data, [data[i : i + 1] for i in range(len(data))], limit)

    assert whole == chunked == one_by_one
    assert whole_peer.events == chunked_peer.events == bytes_peer.events
    assert whole.endswith(b"\r\n")
    assert b"\n" not in whole.replace(b"\r\n", b""), "every line ends in CRLF"
    assert re.match(rb"\+OK |-ERR ", whole)

    # Shown by --hypothesis-show-statistics: how deep into the protocol the inputs get.
    event("logged in" if b"+OK maildrop locked" in whole else "not logged in")
    if any(isinstance(e, UpdateRequested) for e in whole_peer.events):
        event("UPDATE with deletions")
        assert re.search(rb"(?i)quit\r?\n", data), "deletions applied without QUIT"
    else:
        assert whole_peer.expunged == set()
