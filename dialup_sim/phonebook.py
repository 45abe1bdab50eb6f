"""Phone numbers to TCP addresses: which server answers when a number is dialled.

A phonebook file has one entry a line, ``NUMBER HOST:PORT`` (or ``NUMBER=HOST:PORT``);
``#`` starts a comment. Numbers are compared on their dialable characters only, so
``0-800 123`` and ``0800123`` are the same entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Address", "Phonebook", "PhonebookError", "normalize_number", "parse_address"]

_DIALABLE = frozenset("0123456789*#ABCD")


class PhonebookError(ValueError):
    """A phonebook entry or address that cannot be read."""


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_address(text: str, *, any_port: bool = False) -> Address:
    """``HOST:PORT`` (``[v6]:PORT`` too) into an ``Address``; port 0 only if ``any_port``."""
    host, sep, port = text.strip().rpartition(":")
    lowest = 0 if any_port else 1
    if (
        not sep
        or not host
        or not (port.isascii() and port.isdigit())
        or not lowest <= int(port) < 65536
    ):
        raise PhonebookError(f"expected HOST:PORT, got {text!r}")
    return Address(host.strip("[]"), int(port))


def normalize_number(number: str) -> str:
    return "".join(c for c in number.upper() if c in _DIALABLE)


class Phonebook:
    """Number → address. Unknown numbers are not in service."""

    def __init__(self, entries: Mapping[str, Address] | None = None) -> None:
        self._entries: dict[str, Address] = {}
        for number, address in (entries or {}).items():
            self.add(number, address)

    def add(self, number: str, address: Address) -> None:
        key = normalize_number(number)
        if not key:
            raise PhonebookError(f"{number!r} has no digits to dial")
        self._entries[key] = address

    def lookup(self, number: str) -> Address | None:
        return self._entries.get(normalize_number(number))

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, Address]]:
        return sorted(self._entries.items())

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Phonebook:
        book = cls()
        for lineno, raw in enumerate(lines, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            number, _, address = line.replace("=", " ", 1).partition(" ")
            try:
                book.add(number, parse_address(address))
            except PhonebookError as exc:
                raise PhonebookError(f"line {lineno}: {exc}") from exc
        return book

    @classmethod
    def load(cls, path: Path) -> Phonebook:
        return cls.parse(path.read_text(encoding="utf-8").splitlines())
