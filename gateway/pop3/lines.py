"""Splitting the client's byte stream into command lines, with a hard length limit.

RFC 2449 section 4 caps a command line at 255 octets including the CRLF. A line that grows
past the cap is not buffered: the reader remembers that it is discarding, drops bytes until
the next LF, and then reports one ``OVERLONG`` line so the session can answer ``-ERR`` and
carry on. Memory use is therefore bounded by the cap plus one ``receive_data`` chunk.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_LINE_OCTETS", "OVERLONG", "LineReader", "Overlong"]

#: Longest acceptable command line, CRLF included (RFC 2449 section 4).
MAX_LINE_OCTETS: Final = 255


class Overlong:
    """Type of ``OVERLONG``, the marker returned in place of a line that exceeded the limit."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OVERLONG"


OVERLONG: Final = Overlong()


class LineReader:
    """Accumulates bytes and hands out complete lines (without their terminator).

    A line ends at LF; one CR before the LF is removed too, so CRLF and bare-LF clients
    both work.
    """

    def __init__(self, max_line_octets: int = MAX_LINE_OCTETS) -> None:
        if max_line_octets < 3:
            raise ValueError("a command line needs room for at least a keyword and CRLF")
        self._max = max_line_octets
        self._buffer = bytearray()
        self._discarding = False
        self._eof = False

    @property
    def max_line_octets(self) -> int:
        return self._max

    @property
    def at_eof(self) -> bool:
        """The peer closed its side (pending complete lines may still be read)."""
        return self._eof

    def feed(self, data: bytes) -> None:
        """Add received bytes; ``b""`` means the peer closed its side."""
        if not data:
            self._eof = True
            return
        if self._eof:
            return  # nothing can follow EOF; ignore rather than mis-frame
        self._buffer += data
        self._drop_overlong_prefix()

    def next_line(self) -> bytes | Overlong | None:
        """The next complete line, ``OVERLONG``, or ``None`` when more bytes are needed."""
        newline = self._buffer.find(b"\n")
        if newline < 0:
            return None
        result: bytes | Overlong
        if self._discarding:
            # _drop_overlong_prefix left exactly the terminating LF of the over-long line.
            self._discarding = False
            del self._buffer[: newline + 1]
            result = OVERLONG
        else:
            line = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            result = line[:-1] if line.endswith(b"\r") else line
        self._drop_overlong_prefix()
        return result

    def _drop_overlong_prefix(self) -> None:
        """If the first buffered line is over-long, keep none of it but its terminator."""
        if not self._discarding:
            if len(self._buffer) < self._max or self._buffer.find(b"\n", 0, self._max) >= 0:
                return
            self._discarding = True
        newline = self._buffer.find(b"\n")
        if newline < 0:
            self._buffer.clear()
        else:
            del self._buffer[:newline]
