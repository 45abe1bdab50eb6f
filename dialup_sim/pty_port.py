"""A pseudo-terminal as the modem's serial port, for programs that want a tty device.

The proxy keeps the master side; programs open and close the slave (``/dev/pts/N``) as
often as they like, and the modem stays powered between them, as a real one does. The
slave starts as a Linux serial port starts: raw, 8 bits, no echo, ``CLOCAL`` (ignore the
carrier) and ``HUPCL`` (drop DTR on the last close). Its settings persist between opens.

A pty has no modem-control lines, so both follow the POSIX conventions of a terminal line:

- DTR is on while a program has the device open at a speed other than 0. Setting the
  output speed to 0 (``B0``, what ``stty 0`` and ``cfsetospeed(B0)`` do, and what pppd and
  minicom fall back to) drops it; so does the last close under ``HUPCL``, while under
  ``-hupcl`` DTR stays up with nobody on the device. The transport looks every
  ``LINE_POLL`` seconds (the master reports the last close as a hang-up, and the speed
  through its own ``tcgetattr``). What the modem writes while nobody has the device open
  is lost, as a closed serial port loses it.
- DCD: ``TIOCMGET`` is refused on a pty, so a program cannot read DCD; it learns of the
  carrier the way Unix programs learn of it on a serial line. Under ``CLOCAL`` the line
  ignores the carrier, and programs see ``CONNECT`` and ``NO CARRIER`` only. A program that
  clears ``CLOCAL`` (getty, cu, pppd's ``modem``) asks for modem control, and when DCD falls
  the line is hung up as the kernel hangs up a serial line: ``SIGHUP`` to the session whose
  controlling terminal it is, end of file on reads and ``EIO`` on writes until the device
  is opened again. The line's settings survive, as on a serial port (a pty hang-up would
  reset them). Hanging up a pty from outside takes ``TIOCVHANGUP``, which needs
  ``CAP_SYS_ADMIN``; without it the simulator says so once and the line behaves as under
  ``CLOCAL``.

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
import select
import termios
import tty
from collections.abc import Callable
from typing import Any, Final

__all__ = ["PtyTransport", "open_pty"]

log = logging.getLogger(__name__)

_READ_SIZE = 4096
LINE_POLL: Final = 0.05  # seconds between two looks at the device (open, speed: DTR)
_CFLAG: Final = 2  # indices in termios.tcgetattr's list
_OSPEED: Final = 5
TIOCVHANGUP: Final = 0x5437  # Linux <asm-generic/ioctls.h>; Python's termios does not name it


class PtyTransport(asyncio.Transport):
    """The master side of a pty, as an asyncio transport for a protocol."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        master: int,
        slave_path: str,
        protocol: asyncio.Protocol,
    ) -> None:
        super().__init__({"slave_path": slave_path})
        self._loop = loop
        self._master = master
        self._hangup_refused = False
        self._protocol = protocol
        self._pending = bytearray()
        self._registered = False  # the master's reader is in the loop
        self._paused = False  # the protocol asked us to stop reading (CTS off)
        self._in_use = False  # a program has the device open
        self._closing = False
        self._on_dtr: Callable[[bool], None] | None = None
        self._dtr = True
        self._poller: asyncio.TimerHandle | None = None
        os.set_blocking(master, False)
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self._poll_lines)

    @property
    def slave_path(self) -> str:
        path: str = self.get_extra_info("slave_path")
        return path

    def watch_dtr(self, on_dtr: Callable[[bool], None]) -> None:
        """Call ``on_dtr`` whenever the program on the slave drops or raises DTR."""
        self._on_dtr = on_dtr

    def _poll_lines(self) -> None:
        self._poller = None
        if self._closing:
            return
        in_use = not self._nobody_on_the_device()
        attrs = self._line_settings()
        if in_use != self._in_use:
            self._in_use = in_use
            self._update_reader()
        if attrs is None:
            dtr = self._dtr
        elif in_use:
            dtr = attrs[_OSPEED] != termios.B0
        else:  # the last close: HUPCL drops DTR, -hupcl leaves it as it was
            dtr = self._dtr and not attrs[_CFLAG] & termios.HUPCL
        if dtr != self._dtr:
            self._dtr = dtr
            if self._on_dtr is not None:
                self._on_dtr(dtr)
        self._poller = self._loop.call_later(LINE_POLL, self._poll_lines)

    def _nobody_on_the_device(self) -> bool:
        """The master reports a hang-up while no program has the slave open."""
        probe = select.poll()
        probe.register(self._master, select.POLLIN)
        return any(flags & select.POLLHUP for _, flags in probe.poll(0))

    def carrier_lost(self) -> bool:
        """DCD fell: hang the line up if the program asked for modem control (``CLOCAL``
        off), as the kernel hangs up a serial line. True if it was hung up."""
        attrs = self._line_settings()
        if attrs is None or attrs[_CFLAG] & termios.CLOCAL or self._closing:
            return False
        if self._nobody_on_the_device():
            return False  # nobody to hang up
        try:
            slave = os.open(self.slave_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return False
        try:
            fcntl.ioctl(slave, TIOCVHANGUP)
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
        finally:
            os.close(slave)
        with contextlib.suppress(termios.error):  # the hang-up reset the line: put it back
            termios.tcsetattr(self._master, termios.TCSANOW, attrs)
        return True

    def _line_settings(self) -> list[Any] | None:
        """The slave's termios (the master's ``tcgetattr`` reads the slave's)."""
        try:
            return termios.tcgetattr(self._master)
        except termios.error:
            return None

    def get_protocol(self) -> Any:
        return self._protocol

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        self._paused = True
        self._update_reader()

    def resume_reading(self) -> None:
        self._paused = False
        self._update_reader()

    def _update_reader(self) -> None:
        """Read the master while a program is on the device and the protocol wants data
        (with nobody on it, the master would report a hang-up on every turn of the loop)."""
        wanted = self._in_use and not self._paused and not self._closing
        if wanted and not self._registered:
            self._loop.add_reader(self._master, self._read_ready)
        elif not wanted and self._registered:
            self._loop.remove_reader(self._master)
        self._registered = wanted

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        if self._nobody_on_the_device():
            return  # a closed port: nobody to receive it
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
        self._update_reader()
        self._loop.remove_writer(self._master)
        with contextlib.suppress(OSError):
            os.close(self._master)
        self._loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def _read_ready(self) -> None:
        try:
            data = os.read(self._master, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # the last program closed it: wait for the next one
            self._in_use = False
            self._update_reader()
            return
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
    """Open a pty pair, set the slave up as a serial port starts (raw, ``CLOCAL``,
    ``HUPCL``) and serve ``protocol`` on the master."""
    master, slave = pty.openpty()
    try:
        path = os.ttyname(slave)
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[_CFLAG] |= termios.CLOCAL | termios.HUPCL
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    finally:
        os.close(slave)
    return PtyTransport(loop, master, path, protocol)
