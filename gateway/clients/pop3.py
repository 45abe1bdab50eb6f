"""A POP3 session (RFC 1939) over a connected socket the caller holds.

The agent's line may be a call dialled through the modem simulator: a socket that is
already connected when the session starts. ``poplib`` always connects by itself and has
no public way to take such a socket (only its private ``_create_socket``), so this small
client speaks the few commands a mail reader needs over the socket it is given. What the
server answers is read by ``gateway.clients.responses``; every line is bounded.
"""

from __future__ import annotations

import socket
from typing import Final

from gateway.clients.responses import (
    parse_scan_listing,
    parse_uidl,
    pop3_ends,
    pop3_message,
    pop3_status,
    pop3_unstuff,
)

__all__ = ["MAX_LINE", "MAX_RESPONSE", "Pop3Error", "Pop3Session"]

MAX_LINE: Final = 64 * 1024
"""Longest line taken from the server (RFC 5322 lines are at most 1 000 octets)."""
MAX_RESPONSE: Final = 64 * 1024 * 1024
"""Largest multi-line response (a listing, a message) taken by default."""


class Pop3Error(Exception):
    """The server answered ``-ERR`` (the text says why) or something that is not POP3."""


class Pop3Session:
    """One POP3 session on ``sock``: the caller connected it and closes it."""

    def __init__(self, sock: socket.socket, *, max_response: int = MAX_RESPONSE) -> None:
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._max_response = max_response
        self.welcome = self._status()

    def login(self, user: str, password: str) -> None:
        """USER and PASS (RFC 1939 section 7)."""
        self.command(f"USER {user}")
        self.command(f"PASS {password}")

    def scan_listing(self) -> list[tuple[int, int]]:
        """(message number, size) of every message (LIST)."""
        return parse_scan_listing(self._multiline("LIST"))

    def unique_ids(self) -> dict[int, str]:
        """Message number -> unique id (UIDL); ``Pop3Error`` if the server has none."""
        return parse_uidl(self._multiline("UIDL"))

    def retrieve(self, number: int) -> bytes:
        """The message, CRLF line ends (RETR)."""
        return pop3_message(self._multiline(f"RETR {number}"))

    def delete(self, number: int) -> None:
        """Mark the message for deletion at QUIT (DELE)."""
        self.command(f"DELE {number}")

    def quit(self) -> str:
        try:
            return self.command("QUIT")
        finally:
            self.close()

    def close(self) -> None:
        """Let go of the reader (the socket is the caller's)."""
        self._reader.close()

    def __enter__(self) -> Pop3Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def command(self, line: str) -> str:
        """Send one command; its ``+OK`` text, or ``Pop3Error`` with the server's."""
        if "\r" in line or "\n" in line:
            raise ValueError("a POP3 command is one line")
        self._sock.sendall(line.encode("utf-8") + b"\r\n")
        return self._status()

    def _status(self) -> str:
        status = pop3_status(self._line())
        if not status.ok:
            raise Pop3Error(status.text or "the server refused the command")
        return status.text

    def _multiline(self, command: str) -> list[bytes]:
        self.command(command)
        lines: list[bytes] = []
        taken = 0
        while not pop3_ends(line := self._line()):
            taken += len(line)
            if taken > self._max_response:
                raise Pop3Error(f"{command.split()[0]}: more than {self._max_response} bytes")
            lines.append(pop3_unstuff(line))
        return lines

    def _line(self) -> bytes:
        line = self._reader.readline(MAX_LINE + 1)
        if not line:
            raise ConnectionResetError("the POP3 server closed the connection")
        if len(line) > MAX_LINE:
            raise Pop3Error(f"a line longer than {MAX_LINE} bytes")
        return line
