"""RFC 2217 (Telnet COM-Port Control) on a DTE's TCP connection: the modem's lines on the wire.

A TCP socket has no DCD or DTR, so a dialer cannot see carrier and closing its port does not
hang up. With RFC 2217, as ser2net and tcpser users know it, the server reports DCD, RI,
DSR and CTS in NOTIFY-MODEMSTATE and the client sets DTR with SET-CONTROL. The Telnet and
RFC 2217 state machine is pyserial's own server side (``serial.rfc2217.PortManager``); this
module gives it a "serial port" made of the modem's lines, and keeps the data stream
8-bit clean (IAC doubled out, undoubled in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from serial import rfc2217

__all__ = ["ComPort", "Lines"]

_IAC = b"\xff"


@dataclass(frozen=True, slots=True)
class Lines:
    """The modem's outputs as the DTE's RS-232 port sees them."""

    dcd: bool
    ri: bool
    cts: bool = True
    dsr: bool = True


class _ModemAsPort:
    """The attributes ``PortManager`` reads and sets on a serial port. Rate, framing and
    RTS are accepted and echoed back (the DTE side of the line is not modelled); DTR goes
    to the modem; the status lines come from it."""

    def __init__(self, lines: Callable[[], Lines], on_dtr: Callable[[bool], None]) -> None:
        self._lines = lines
        self._on_dtr = on_dtr
        self._dtr = True
        self.baudrate = 38400
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1
        self.xonxoff = False
        self.rtscts = True
        self.rts = True
        self.break_condition = False

    @property
    def dtr(self) -> bool:
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = bool(value)
        self._on_dtr(self._dtr)

    @property
    def cd(self) -> bool:
        return self._lines().dcd

    @property
    def ri(self) -> bool:
        return self._lines().ri

    @property
    def cts(self) -> bool:
        return self._lines().cts

    @property
    def dsr(self) -> bool:
        return self._lines().dsr

    def reset_input_buffer(self) -> None:
        """PURGE-DATA: nothing is buffered on this side of the modem."""

    def reset_output_buffer(self) -> None:
        """PURGE-DATA: nothing is buffered on this side of the modem."""


class _Writer:
    def __init__(self, write: Callable[[bytes], None]) -> None:
        self.write = write


class ComPort:
    """One client's RFC 2217 session: ``decode`` what it sent, ``encode`` what it gets, and
    ``update`` after every change so DCD and RI reach it as NOTIFY-MODEMSTATE."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        lines: Callable[[], Lines],
        on_dtr: Callable[[bool], None],
    ) -> None:
        self._manager = rfc2217.PortManager(_ModemAsPort(lines, on_dtr), _Writer(write))

    def decode(self, data: bytes) -> bytes:
        """The client's data with the Telnet commands taken out (and acted on)."""
        return b"".join(self._manager.filter(data))

    @staticmethod
    def encode(data: bytes) -> bytes:
        return data.replace(_IAC, _IAC + _IAC)

    def update(self) -> None:
        self._manager.check_modem_lines()
