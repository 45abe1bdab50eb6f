"""The maildrop as one POP3 session sees it, and the bytes RETR and TOP send.

At login the adapter hands the session a snapshot of the mailbox (``MaildropEntry`` per
message, ascending UID). Message numbers are positions in that snapshot and never change
during the session; DELE only *marks* a number, and the marks become an expunge request
only in the UPDATE state.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, overload

from gateway.pop3 import replies
from gateway.pop3.errors import CommandRefused
from mailboxes.line_ends import PIECE, canonical_line_ends, line_pieces

__all__ = [
    "Maildrop",
    "MaildropEntry",
    "StoredListing",
    "dot_stuff",
    "dot_stuffed",
    "normalize_line_endings",
    "top_of_message",
]

# RFC 1939 section 7: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E.
_UNIQUE_ID: Final = re.compile(r"[\x21-\x7e]{1,70}")


@dataclass(frozen=True, slots=True)
class MaildropEntry:
    """One message: its store UID, its size in octets, and the UIDL unique-id."""

    uid: int
    size: int
    unique_id: str

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError("message size cannot be negative")
        if not _UNIQUE_ID.fullmatch(self.unique_id):
            raise ValueError(f"invalid UIDL unique-id {self.unique_id!r}")


class StoredListing(Sequence[MaildropEntry]):
    """A mailbox as the store lists it: ascending UIDs and their sizes, kept as two arrays.

    Entries are made when a command asks for them, so a login costs two arrays, not an
    object per message. Their unique-ids (``<uidvalidity>.<uid>``) are valid and distinct
    by construction.
    """

    def __init__(self, uid_validity: int, uids: Sequence[int], sizes: Sequence[int]) -> None:
        if len(uids) != len(sizes):
            raise ValueError("one size per UID")
        self.uid_validity = uid_validity
        self._uids = array("q", uids)
        self._sizes = array("q", sizes)
        self.octets = sum(self._sizes)

    def __len__(self) -> int:
        return len(self._uids)

    @property
    def uids(self) -> Sequence[int]:
        return self._uids

    @property
    def sizes(self) -> Sequence[int]:
        return self._sizes

    @overload
    def __getitem__(self, index: int) -> MaildropEntry: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[MaildropEntry]: ...
    def __getitem__(self, index: int | slice) -> MaildropEntry | Sequence[MaildropEntry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        uid = self._uids[index]
        return MaildropEntry(uid, self._sizes[index], f"{self.uid_validity}.{uid}")


class Maildrop:
    """The session's snapshot of the mailbox plus its deletion marks."""

    def __init__(self, entries: Sequence[MaildropEntry]) -> None:
        self._entries: Sequence[MaildropEntry]
        if isinstance(entries, StoredListing):
            self._entries = entries
            self._octets = entries.octets
        else:
            self._entries = tuple(entries)
            if len({entry.unique_id for entry in self._entries}) != len(self._entries):
                raise ValueError("UIDL unique-ids must be unique within a maildrop")
            self._octets = sum(entry.size for entry in self._entries)
        self._deleted: set[int] = set()

    def scan_lines(self) -> bytes:
        """LIST's lines (``<number> <size>``) for the messages not marked deleted, made
        from the listing's columns: no entry object per message."""
        if isinstance(self._entries, StoredListing):
            sizes: Sequence[int] = self._entries.sizes
        else:
            sizes = [entry.size for entry in self._entries]
        deleted = self._deleted
        lines = [f"{n} {size}\r\n" for n, size in enumerate(sizes, 1) if n not in deleted]
        return "".join(lines).encode("ascii")

    def unique_id_lines(self) -> bytes:
        """UIDL's lines (``<number> <unique-id>``) for the messages not marked deleted."""
        deleted = self._deleted
        entries = self._entries
        if isinstance(entries, StoredListing):
            validity = entries.uid_validity
            lines = [
                f"{n} {validity}.{uid}\r\n"
                for n, uid in enumerate(entries.uids, 1)
                if n not in deleted
            ]
        else:
            lines = [f"{n} {entry.unique_id}\r\n" for n, entry in self.live()]
        return "".join(lines).encode("ascii")

    def live(self) -> Iterator[tuple[int, MaildropEntry]]:
        """(message number, entry) for every message not marked deleted."""
        for index, entry in enumerate(self._entries):
            if index + 1 not in self._deleted:
                yield index + 1, entry

    @property
    def live_count(self) -> int:
        return len(self._entries) - len(self._deleted)

    @property
    def live_octets(self) -> int:
        return self._octets - sum(self._entries[number - 1].size for number in self._deleted)

    def get(self, number: int) -> MaildropEntry:
        """The entry for a message number that exists and is not marked deleted.

        Raises:
            CommandRefused: no such message, or it is marked deleted.
        """
        if not 1 <= number <= len(self._entries):
            raise CommandRefused(replies.NO_SUCH_MESSAGE)
        if number in self._deleted:
            raise CommandRefused(replies.ALREADY_DELETED)
        return self._entries[number - 1]

    def mark_deleted(self, number: int) -> None:
        self.get(number)
        self._deleted.add(number)

    def unmark_all(self) -> None:
        self._deleted.clear()

    def deleted_uids(self) -> frozenset[int]:
        return frozenset(self._entries[number - 1].uid for number in self._deleted)


def normalize_line_endings(raw: bytes) -> bytes:
    """Every LF becomes CRLF (bare CRs left as they are). The store keeps messages so
    already (``mailboxes.line_ends``); this guards sizes against older rows."""
    return canonical_line_ends(raw)


def dot_stuff(text: bytes) -> bytes:
    """``dot_stuffed`` in one piece: for short listings."""
    return b"".join(dot_stuffed(text))


def dot_stuffed(text: bytes, piece: int = PIECE) -> Iterator[bytes]:
    """Multi-line response body (RFC 1939 section 3): CRLF-terminated, dots doubled, ``.``.

    In pieces of about ``piece`` bytes, each a pass of its own: doubling the dots of a 19 MB
    message was one call of up to 39 ms, holding the interpreter's lock. A piece begins a
    line (``line_pieces``), so a dot it begins with is a line's first. ``text`` must already
    have CRLF line endings.
    """
    for start, end in line_pieces(text, piece):
        part = text[start:end]
        if part.startswith(b"."):
            part = b"." + part
        yield part.replace(b"\r\n.", b"\r\n..")
    if text and not text.endswith(b"\r\n"):
        yield b"\r\n"
    yield b".\r\n"


def top_of_message(text: bytes, body_lines: int) -> bytes:
    """The header, the blank line and the first ``body_lines`` body lines (RFC 1939 TOP).

    ``text`` must already have CRLF line endings. A message without a blank line is all
    header and is returned whole.
    """
    if text.startswith(b"\r\n"):
        header_end = 2
    else:
        blank = text.find(b"\r\n\r\n")
        if blank < 0:
            return text
        header_end = blank + 4
    position = header_end
    for _ in range(body_lines):
        newline = text.find(b"\r\n", position)
        if newline < 0:
            return text
        position = newline + 2
    return text[:position]
