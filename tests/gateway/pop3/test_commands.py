"""Command-line parsing: keywords, arities, numeric arguments, PASS's rest-of-line."""

from __future__ import annotations

import pytest

from gateway.pop3 import BadCommand, replies
from gateway.pop3.commands import Command, parse_command


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"stat", Command("STAT")),
        (b"LIST", Command("LIST")),
        (b"List 12", Command("LIST", ("12",))),
        (b"TOP 1 0", Command("TOP", ("1", "0"))),
        (b"USER  a@b.pe ", Command("USER", ("a@b.pe",))),
        (b"APOP a@b.pe " + b"AB" * 16, Command("APOP", ("a@b.pe", "ab" * 16))),
        (b"UIDL", Command("UIDL")),
    ],
)
def test_valid_commands(line: bytes, expected: Command) -> None:
    assert parse_command(line) == expected


def test_pass_keeps_spaces_and_hides_the_password() -> None:
    command = parse_command(b"PASS  dos  palabras ")
    assert command.args == (" dos  palabras ",)
    assert "palabras" not in repr(command)


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        (b"", replies.EMPTY_COMMAND),
        (b" \t ", replies.EMPTY_COMMAND),
        (b"HELO", replies.UNKNOWN_COMMAND),
        (b"RE", replies.UNKNOWN_COMMAND),
        (b"RETRIEVE 1", replies.UNKNOWN_COMMAND),
        (b"ST4T", replies.UNKNOWN_COMMAND),
        (b"RETR", replies.WRONG_ARGUMENTS),
        (b"RETR 1 2", replies.WRONG_ARGUMENTS),
        (b"RETR one", replies.WRONG_ARGUMENTS),
        (b"RETR -1", replies.WRONG_ARGUMENTS),
        (b"RETR 123456789012345678901", replies.WRONG_ARGUMENTS),
        (b"STAT now", replies.WRONG_ARGUMENTS),
        (b"PASS", replies.WRONG_ARGUMENTS),
        (b"APOP a@b.pe 123", replies.WRONG_ARGUMENTS),
        (b"USER a\x7fb", replies.WRONG_ARGUMENTS),
        (b"USER \xc3", replies.BAD_ENCODING),
    ],
)
def test_malformed_commands_carry_their_reply(line: bytes, reply: replies.Reply) -> None:
    with pytest.raises(BadCommand) as caught:
        parse_command(line)
    assert caught.value.reply == reply
    assert caught.value.counts_as_bad_command


def test_replies_render_rfc_2449_codes() -> None:
    assert replies.MAILDROP_IN_USE.to_bytes().startswith(b"-ERR [IN-USE] ")
    assert replies.NOOP.to_bytes() == b"+OK\r\n"
    with pytest.raises(ValueError):
        replies.Reply(True, "x", replies.ResponseCode.AUTH)
    with pytest.raises(ValueError):
        replies.Reply(False, "two\r\nlines")
