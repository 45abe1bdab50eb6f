"""A pseudo-terminal as the modem's serial port, for programs that want a tty device.

The proxy keeps the master side and one descriptor of the slave side open, so a program
can open and close the device (``/dev/pts/N``) as often as it likes without the master
seeing a hang-up: like a modem that stays powered while terminal programs come and go.
The slave starts in raw mode, 8 bits, no echo, no CR/LF translation.

A pty has no modem-control lines, so both follow the POSIX conventions of a terminal line:

- DTR: a program that sets the output speed to 0 (``B0``, what ``stty 0`` and
  ``cfsetospeed(B0)`` do, and what pppd and minicom fall back to) drops DTR, and any other
  speed raises it again. The transport reads the slave's settings every ``LINE_POLL``
  seconds.
- DCD: ``TIOCMGET`` is refused on a pty, so a program cannot read DCD; it learns of the
  carrier the way Unix programs learn of it on a serial line. The slave starts with
  ``CLOCAL`` set, as Linux serial ports do: the line ignores the carrier, and programs see
  ``CONNECT`` and ``NO CARRIER`` only. A program that clears ``CLOCAL`` (getty, cu, pppd's
  ``modem``) asks for modem control, and when DCD falls the line is hung up as the kernel
  hangs up a serial line: ``SIGHUP`` to the session whose controlling terminal it is, end
  of file on reads and ``EIO`` on writes until the device is opened again. The line's
  settings survive, as on a serial port (a pty hang-up would reset them). Hanging up a pty
  from outside takes ``TIOCVHANGUP``, which needs ``CAP_SYS_ADMIN``; without it the
  simulator says so once and the line behaves as under ``CLOCAL``.

Packet mode (``TIOCPKT``) is not used: it tells the master about the slave's flow control
and flushes, and carries nothing towards the slave, so it cannot show DCD.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import pty
import termios
import tty
from collections.abc import Callable
from typing import Any, Final

__all__ = ["PtyTransport", "open_pty"]

log = logging.getLogger(__name__)

_READ_SIZE = 4096
LINE_POLL: Final = 0.05  # seconds between two looks at the slave's speed (DTR)
_CFLAG: Final = 2  # indices in termios.tcgetattr's list
_OSPEED: Final = 5
TIOCVHANGUP: Final = 0x5437  # Linux <asm-generic/ioctls.h>; Python's termios does not name it


class PtyTransport(asyncio.Transport):
    """The master side of a pty, as an asyncio transport for a protocol."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        master: int,
        slave: int,
        protocol: asyncio.Protocol,
    ) -> None:
        super().__init__({"slave_path": os.ttyname(slave)})
        self._loop = loop
        self._master = master
        self._slave = slave  # ours, so the line stays up while programs come and go
        self._hangup_refused = False
        self._protocol = protocol
        self._pending = bytearray()
        self._reading = False
        self._closing = False
        self._on_dtr: Callable[[bool], None] | None = None
        self._dtr = True
        self._poller: asyncio.TimerHandle | None = None
        os.set_blocking(master, False)
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self.resume_reading)

    @property
    def slave_path(self) -> str:
        path: str = self.get_extra_info("slave_path")
        return path

    def watch_dtr(self, on_dtr: Callable[[bool], None]) -> None:
        """Call ``on_dtr`` whenever the program on the slave drops or raises DTR (B0)."""
        self._on_dtr = on_dtr
        self._poll_lines()

    def _poll_lines(self) -> None:
        self._poller = None
        if self._closing:
            return
        attrs = self._line_settings()
        dtr = self._dtr if attrs is None else attrs[_OSPEED] != termios.B0
        if dtr != self._dtr:
            self._dtr = dtr
            if self._on_dtr is not None:
                self._on_dtr(dtr)
        self._poller = self._loop.call_later(LINE_POLL, self._poll_lines)

    def carrier_lost(self) -> bool:
        """DCD fell: hang the line up if the program asked for modem control (``CLOCAL``
        off), as the kernel hangs up a serial line. True if it was hung up."""
        attrs = self._line_settings()
        if attrs is None or attrs[_CFLAG] & termios.CLOCAL or self._closing:
            return False
        try:
            fcntl.ioctl(self._slave, TIOCVHANGUP)
        except OSError as exc:
            if not self._hangup_refused:
                self._hangup_refused = True
                log.warning(
                    "cannot hang up %s when the carrier drops (%s): programs there see "
                    "NO CARRIER only",
                    self.slave_path,
                    exc.strerror,
                )
            return False
        if self._reopen_slave():  # the hang-up took our descriptor too, and reset the line
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        return True

    def _line_settings(self) -> list[Any] | None:
        """The slave's termios, through our descriptor (opened again if a hang-up, ours or a
        program's such as getty's ``vhangup``, has made it useless)."""
        for _ in range(2):
            try:
                return termios.tcgetattr(self._slave)
            except termios.error:
                if not self._reopen_slave():
                    return None
        return None

    def _reopen_slave(self) -> bool:
        try:
            fresh = os.open(self.slave_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return False
        with contextlib.suppress(OSError):
            os.close(self._slave)
        self._slave = fresh
        return True

    def get_protocol(self) -> Any:
        return self._protocol

    def is_reading(self) -> bool:
        return self._reading

    def pause_reading(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._master)
            self._reading = False

    def resume_reading(self) -> None:
        if not self._reading and not self._closing:
            self._loop.add_reader(self._master, self._read_ready)
            self._reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        had_pending = bool(self._pending)
        self._pending += data
        if not had_pending:
            self._write_ready()

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._poller is not None:
            self._poller.cancel()
        self.pause_reading()
        self._loop.remove_writer(self._master)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def _read_ready(self) -> None:
        try:
            data = os.read(self._master, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # no program has the device open right now: nothing to read
        if data:
            self._protocol.data_received(data)

    def _write_ready(self) -> None:
        try:
            written = os.write(self._master, self._pending)
        except (BlockingIOError, InterruptedError):
            written = 0
        except OSError:
            self._pending.clear()  # nobody is reading the device: the bytes are lost
            written = 0
        del self._pending[:written]
        if self._pending:
            self._loop.add_writer(self._master, self._write_ready)
        else:
            self._loop.remove_writer(self._master)


def open_pty(loop: asyncio.AbstractEventLoop, protocol: asyncio.Protocol) -> PtyTransport:
    """Open a pty pair, put the slave in raw mode with ``CLOCAL`` and serve ``protocol`` on
    the master."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    attrs = termios.tcgetattr(slave)
    attrs[_CFLAG] |= termios.CLOCAL  # as a Linux serial port starts: carrier ignored
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return PtyTransport(loop, master, slave, protocol)
