"""The DATA stream, read in pieces rather than line by line (sans-IO).

aiosmtpd reads DATA one line at a time, with a Python step and an await per line: a
10 MB mail of three million short lines (a MIME part bomb) took 6 to 15 seconds of the
event loop, 0.2 s read in pieces. Here the
adapter hands over whatever the stream gives up to the next ``.<CRLF>`` (or a large piece
with none), and the decoder works on whole pieces with bytes methods: the end of data,
the size and line limits (RFC 5321 §4.5.3.1), and the dot-unstuffing (§4.5.2), with the
answers aiosmtpd gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final

__all__ = ["DOT_LINE_END", "DataDecoder", "DataRefusal"]

DOT_LINE_END: Final = b".\r\n"
"""What the adapter reads up to: every end of data ends so (most such pieces are only a
line ending in a full stop, and the decoder reads on)."""


class DataRefusal(Enum):
    """Why the mail is refused once its data has been read to the end (aiosmtpd's words)."""

    LINE_TOO_LONG = "500 Line too long (see RFC5321 4.5.3.1.6)"
    TOO_MUCH = "552 Error: Too much mail data"


@dataclass
class DataDecoder:
    """Takes the DATA stream piece by piece until its end; then ``content`` or ``refusal``.

    Past a limit the decoder keeps reading to the end of data (the client is still
    sending) but holds nothing more, so the memory stays within ``max_size``.
    """

    max_size: int | None
    """Most octets of mail data taken (CRLFs counted, the end-of-data line not)."""
    max_line: int
    """Longest line taken, its CRLF counted."""
    refusal: DataRefusal | None = field(default=None, init=False)
    done: bool = field(default=False, init=False)
    _parts: list[bytes] = field(default_factory=list, init=False)
    _size: int = field(default=0, init=False)
    _partial: bytes = field(default=b"", init=False)
    """The line begun and not yet ended (it starts at a line's start, unless cut)."""
    _cut: bool = field(default=False, init=False)
    """``_partial`` lost its start: the line was already too long."""

    def feed(self, piece: bytes) -> bool:
        """Take the next piece of the stream; True once the end of data has been read.

        A piece is at most as long as the stream gives up to a ``.<CRLF>``: nothing the
        stream holds after an end of data reaches the decoder.
        """
        if self.done:
            raise RuntimeError("the end of data was read already")
        data = self._partial + piece
        if data.endswith(DOT_LINE_END):
            dot = len(data) - len(DOT_LINE_END)
            if (dot == 0 and not self._cut) or data[dot - 2 : dot] == b"\r\n":
                self._take(data[:dot])
                self._partial = b""
                self.done = True
                return True
        end = data.rfind(b"\r\n") + 2
        if end >= 2:  # whole lines, and what follows them
            self._take(data[:end])
            data = data[end:]
            self._cut = False
        if len(data) >= self.max_line:  # it cannot end within the limit any more
            self._refuse(DataRefusal.LINE_TOO_LONG)
            data, self._cut = data[-2:], True  # a CR, a CRLF's half, or a line's start
        self._partial = data
        return False

    @property
    def size(self) -> int:
        """Octets of mail data read so far (CRLFs counted)."""
        return self._size

    @property
    def content(self) -> bytes:
        """The mail as sent, its transparency dots removed (RFC 5321 §4.5.2)."""
        if not self.done or self.refusal is not None:
            raise RuntimeError("no content: the data is not read to its end, or refused")
        stuffed = b"".join(self._parts)  # one piece, as most mails come: itself, no copy
        if stuffed.startswith(b"."):
            stuffed = stuffed[1:]
        return stuffed.replace(b"\r\n.", b"\r\n")  # itself when no line is stuffed

    def _take(self, lines: bytes) -> None:
        """Whole lines (each ending in CRLF), the first one perhaps begun in ``_partial``."""
        if not lines:
            return
        size = self._size + len(lines)
        if self.refusal is None:
            too_much = self.max_size is not None and size > self.max_size
            # A piece no longer than a line may be holds no line too long: most pieces, a
            # whole mail, are not cut into lines to find that out.
            if too_much or (len(lines) > self.max_line and self._longest(lines) > self.max_line):
                self._refuse(self._first_limit(lines.split(b"\r\n")[:-1]))
            else:
                self._parts.append(lines)
        self._size = size

    @staticmethod
    def _longest(lines: bytes) -> int:
        """The longest of ``lines``, its CRLF counted."""
        return max(map(len, lines.split(b"\r\n"))) + 2

    def _first_limit(self, lines: list[bytes]) -> DataRefusal:
        """Which limit the lines pass first (only for the piece where one is passed). A
        line is too long as it is read, before it is counted in the size."""
        size = self._size
        for line in lines:
            if len(line) + 2 > self.max_line:
                return DataRefusal.LINE_TOO_LONG
            size += len(line) + 2
            if self.max_size is not None and size > self.max_size:
                return DataRefusal.TOO_MUCH
        raise AssertionError("no limit passed")

    def _refuse(self, refusal: DataRefusal) -> None:
        if self.refusal is None:  # aiosmtpd answers the first limit passed
            self.refusal = refusal
        self._parts.clear()
