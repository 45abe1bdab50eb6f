"""Dialling through a ``--hayes`` proxy from a client program, as a 1997 dialer did.

``ModemLine.dial`` connects to the modem (a TCP connection stands for the serial cable),
sets it up, dials and waits for ``CONNECT``. ``data_socket`` then gives a real socket on
the same connection that a protocol client takes as its own through a public entry point
(aiosmtplib's ``sock=``, ``imaplib.IMAP4.open``); it counts bytes for progress bars and
turns ``NO CARRIER`` from the modem into a ``CarrierLost`` error, since over TCP there is no
DCD line to watch. ``hang_up`` waits for the far end to hang up (or escapes with ``+++``
and sends ``ATH``), then reads the modem's last-call report (``ATI6``) for the simulated
time spent on the line.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from dialup_sim.phonebook import Address

__all__ = [
    "FINAL_RESULTS",
    "CallSummary",
    "CarrierLost",
    "CountingSocket",
    "DialError",
    "ModemLine",
    "open_counting_socket",
]

FINAL_RESULTS: Final = ("OK", "ERROR", "BUSY", "NO CARRIER", "NO ANSWER", "NO DIALTONE")
NO_CARRIER: Final = b"\r\nNO CARRIER\r\n"
SEND_CHUNK: Final = 1024
SEND_BUFFER: Final = 4096
INIT: Final = "AT E0 V1 Q0 X4"
GUARD_WALL: Final = 1.2  # seconds of silence around "+++"; covers S12 = 1 s at any time scale


class DialError(Exception):
    """The call did not connect; ``result`` is what the modem said (``BUSY``, ...)."""

    def __init__(self, result: str) -> None:
        super().__init__(f"modem answered {result}")
        self.result = result


class CarrierLost(ConnectionAbortedError):
    """The modem reported ``NO CARRIER`` while a session was using the line."""

    def __init__(self) -> None:
        super().__init__("NO CARRIER: the line dropped")


@dataclass(frozen=True, slots=True)
class CallSummary:
    """The modem's ``ATI6`` report of the last call (simulated seconds)."""

    fields: dict[str, str]

    def _number(self, name: str) -> float:
        value = self.fields.get(name, "0").split()[0]
        try:
            return float(value)
        except ValueError:
            return 0.0

    @property
    def online_seconds(self) -> float:
        return self._number("ONLINE")

    @property
    def dialing_seconds(self) -> float:
        return self._number("DIALING")

    @property
    def sent(self) -> int:
        return int(self._number("SENT"))

    @property
    def received(self) -> int:
        return int(self._number("RECEIVED"))

    @property
    def retransmissions(self) -> int:
        return int(self._number("RETRANSMISSIONS"))

    @property
    def result(self) -> str:
        return self.fields.get("RESULT", "")

    @property
    def ended(self) -> str:
        return self.fields.get("ENDED", "")

    @classmethod
    def parse(cls, lines: Iterable[str]) -> CallSummary:
        fields: dict[str, str] = {}
        for line in lines:
            name, _, value = line.strip().partition(" ")
            if name and name not in ("LAST", "OK"):
                fields[name] = value.strip()
        return cls(fields)


class CountingSocket(socket.socket):
    """A socket that counts what passes and notices the modem's ``NO CARRIER``."""

    sent: int
    received: int
    on_sent: Callable[[int], None] | None
    on_received: Callable[[int], None] | None
    watch_carrier: bool
    carrier_lost: bool
    shares_connection: bool
    _tail: bytes
    _files: list[Any]

    def _setup_counting(self, watch_carrier: bool, shares_connection: bool) -> None:
        self.sent = 0
        self.received = 0
        self.on_sent = None
        self.on_received = None
        self.watch_carrier = watch_carrier
        self.carrier_lost = False
        self.shares_connection = shares_connection
        self._tail = b""
        self._files = []

    def makefile(self, *args: Any, **kwargs: Any) -> Any:
        file = super().makefile(*args, **kwargs)
        self._files.append(file)
        return file

    def release(self) -> None:
        """Close the socket and any file a protocol library made from it and left open
        (they hold the descriptor open after ``close`` when a session fails midway)."""
        for file in self._files:
            file.close()
        self._files.clear()
        self.close()

    def shutdown(self, how: int, /) -> None:
        """poplib and imaplib shut the socket down on QUIT; on a modem line that would cut
        the connection to the modem too, which must stay up to read its report."""
        if not self.shares_connection:
            super().shutdown(how)

    def sendall(self, data: Any, flags: int = 0, /) -> None:
        # Small pieces, so a progress bar moves as the line drains rather than all at once.
        view = memoryview(data).cast("B")
        for start in range(0, len(view), SEND_CHUNK):
            piece = view[start : start + SEND_CHUNK]
            super().sendall(piece, flags)
            self.sent += len(piece)
            if self.on_sent is not None:
                self.on_sent(self.sent)

    def send(self, data: Any, flags: int = 0, /) -> int:
        count = super().send(data, flags)
        self.sent += count
        if self.on_sent is not None:
            self.on_sent(self.sent)
        return count

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0, /) -> int:
        count = super().recv_into(buffer, nbytes, flags)
        self._account(bytes(memoryview(buffer)[:count]))
        return count

    def recv(self, bufsize: int, flags: int = 0, /) -> bytes:
        data = super().recv(bufsize, flags)
        self._account(data)
        return data

    def _account(self, data: bytes) -> None:
        if not data:
            return
        self.received += len(data)
        window = self._tail + data
        self._tail = window[-(len(NO_CARRIER) - 1) :]
        if NO_CARRIER in window:
            self.carrier_lost = True
            if self.watch_carrier:
                raise CarrierLost()
        if self.on_received is not None:
            self.on_received(self.received)


def _counting_from(
    sock: socket.socket, *, watch_carrier: bool, shares_connection: bool
) -> CountingSocket:
    wrapped = CountingSocket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
    wrapped._setup_counting(watch_carrier, shares_connection)
    wrapped.settimeout(sock.gettimeout())
    return wrapped


def open_counting_socket(address: Address, timeout: float) -> CountingSocket:
    """A plain TCP connection (no modem) with the same counting, for progress bars."""
    plain = socket.create_connection((address.host, address.port), timeout=timeout)
    try:
        return _counting_from(plain, watch_carrier=False, shares_connection=False)
    finally:
        plain.close()


class ModemLine:
    """A connection to a ``--hayes`` modem proxy, from ``AT`` to the last-call report."""

    def __init__(self, control: socket.socket, timeout: float) -> None:
        self._control = control
        self._timeout = timeout
        self._data: CountingSocket | None = None
        self.connect_message = ""

    @classmethod
    def dial(
        cls,
        modem: Address,
        number: str,
        *,
        timeout: float = 180.0,
        init: str = INIT,
    ) -> ModemLine:
        """Set the modem up, dial ``number``, return once ``CONNECT`` is in.

        Raises ``DialError`` with the modem's result if the call does not connect.
        """
        control = socket.create_connection((modem.host, modem.port), timeout=timeout)
        control.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        line = cls(control, timeout)
        try:
            if line.command(init) != "OK":
                raise DialError("ERROR")
            result = line.command(f"ATDT{number}")
            if not result.startswith("CONNECT"):
                raise DialError(result)
        except BaseException:
            control.close()
            raise
        line.connect_message = result
        return line

    def command(self, text: str) -> str:
        """Send one command line, return its final result (information lines skipped)."""
        self._control.sendall(text.encode("ascii") + b"\r")
        return self._final_result()

    def data_socket(self, *, watch_carrier: bool = True) -> CountingSocket:
        """The line as a socket for a protocol library (a second descriptor, same call)."""
        if self._data is None:
            self._data = _counting_from(
                self._control, watch_carrier=watch_carrier, shares_connection=True
            )
        return self._data

    def hang_up(self, wait_for_remote: float = 5.0) -> CallSummary:
        """End the call and return the modem's report of it.

        After a protocol's QUIT the server closes and the modem says ``NO CARRIER``; if
        that does not come within ``wait_for_remote`` seconds, escape with ``+++`` and
        hang up with ``ATH``.
        """
        data = self._data
        seen = data is not None and data.carrier_lost
        if not seen:
            seen = self._wait_for(NO_CARRIER, wait_for_remote)
        if not seen:
            time.sleep(GUARD_WALL)
            self._control.sendall(b"+++")
            time.sleep(GUARD_WALL)
            self._wait_for(b"OK\r\n", self._timeout)
            self.command("ATH")
        self._control.sendall(b"ATI6\r")
        lines = self._lines_until_final()
        return CallSummary.parse(lines)

    def close(self) -> None:
        if self._data is not None:
            self._data.release()
        self._control.close()

    def __enter__(self) -> ModemLine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Reading the modem's answers, one byte at a time so nothing after CONNECT is taken.

    def _read_line(self) -> str:
        raw = bytearray()
        while True:
            byte = self._control.recv(1)
            if not byte:
                raise ConnectionResetError("the modem closed the connection")
            if byte == b"\n":
                return raw.decode("latin-1").strip("\r")
            raw += byte

    def _lines_until_final(self) -> list[str]:
        lines: list[str] = []
        while True:
            line = self._read_line().strip()
            if not line:
                continue
            if line in FINAL_RESULTS or line.startswith("CONNECT"):
                lines.append(line)
                return lines
            lines.append(line)

    def _final_result(self) -> str:
        return self._lines_until_final()[-1]

    def _wait_for(self, marker: bytes, seconds: float) -> bool:
        control = self._control
        seen = b""
        deadline = time.monotonic() + seconds
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                control.settimeout(left)
                try:
                    chunk = control.recv(256)
                except TimeoutError:
                    return False
                if not chunk:
                    return False
                seen = (seen + chunk)[-64:]
                if marker.lstrip(b"\r\n") in seen:
                    return True
        finally:
            control.settimeout(self._timeout)
