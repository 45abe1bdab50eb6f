"""The SMTP path parsing fast path gives what aiosmtpd's own parsing gives, for every input."""

from __future__ import annotations

import random

import pytest
from aiosmtpd.smtp import SMTP

from gateway.smtp.protocol import SubmissionProtocol

CASES = [
    "",
    "<>",
    "<a@b.pe>",
    "<agente1@bench.pe> SIZE=1234",
    "<agente1@bench.pe>  SIZE=1234 BODY=8BITMIME ",
    "<a.b+c@d-e.f.pe>\tBODY=8BITMIME",
    "<a@b.pe>x",
    "<a@b.pe> (comment) SIZE=1",
    "<a@b.pe>(comment)",
    "<.a@b.pe>",
    "<a.@b.pe>",
    "<a..b@c.pe>",
    "<a@b..pe>",
    "<a@-b.pe>",
    "<a@[127.0.0.1]>",
    '<"quoted local"@b.pe>',
    "<@relay.pe:a@b.pe>",
    " <a@b.pe>",
    "a@b.pe",
    "<a@b.pe",
    "<a b@c.pe>",
    "<á@b.pe>",
    "<" + "x" * 64 + "@b.pe>",
    "<" + "x" * 65 + "@b.pe>",
]

ALPHABET = 'ab.@<>() \t"[]:-+=_xyz1'


def protocols(limit: int) -> tuple[SubmissionProtocol, SMTP]:
    ours = SubmissionProtocol.__new__(SubmissionProtocol)
    theirs = SMTP.__new__(SMTP)
    ours.local_part_limit = theirs.local_part_limit = limit
    return ours, theirs


def parsed(protocol: SMTP, arg: str) -> object:
    """What ``_getaddr`` returns, or the exception it raises (aiosmtpd's parsing raises
    IndexError on some malformed paths: the fast path must not change that either)."""
    try:
        return protocol._getaddr(arg)
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize("limit", [0, 64])
@pytest.mark.parametrize("arg", CASES)
def test_the_same_as_aiosmtpd_for_known_shapes(arg: str, limit: int) -> None:
    ours, theirs = protocols(limit)
    assert parsed(ours, arg) == parsed(theirs, arg)


def test_the_same_as_aiosmtpd_for_random_paths() -> None:
    ours, theirs = protocols(64)
    draw = random.Random(13)
    for _ in range(5000):
        inner = "".join(draw.choice(ALPHABET) for _ in range(draw.randint(0, 12)))
        arg = f"<{inner}>" if draw.random() < 0.7 else inner
        arg += draw.choice(["", " SIZE=1", "x", "  (c) BODY=7BIT", "\t"])
        assert parsed(ours, arg) == parsed(theirs, arg), arg
