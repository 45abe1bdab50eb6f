"""Phonebook files and addresses."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialup_sim.phonebook import Address, Phonebook, PhonebookError, parse_address


def test_parse_entries_with_comments_and_both_separators(tmp_path: Path) -> None:
    path = tmp_path / "phonebook.txt"
    path.write_text(
        "# INFOVIA and the agents' association\n"
        "0-800 127.0.0.1:2525\n"
        "4411234=mail.example:110  # POP3\n\n",
        encoding="utf-8",
    )
    book = Phonebook.load(path)
    assert len(book) == 2
    assert book.lookup("0800") == Address("127.0.0.1", 2525)
    assert book.lookup("441-1234") == Address("mail.example", 110)
    assert book.lookup("999") is None


def test_bad_lines_name_their_line_number() -> None:
    with pytest.raises(PhonebookError, match="line 2"):
        Phonebook.parse(["1 a:1", "2 nohostport"])


@pytest.mark.parametrize("text", ["host", "host:", ":25", "host:0", "host:70000", "h:x"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(PhonebookError):
        parse_address(text)


def test_port_zero_only_when_asked_and_ipv6_brackets() -> None:
    assert parse_address("127.0.0.1:0", any_port=True) == Address("127.0.0.1", 0)
    assert parse_address("[::1]:25") == Address("::1", 25)


def test_a_number_needs_digits() -> None:
    with pytest.raises(PhonebookError):
        Phonebook({"--": Address("h", 1)})
