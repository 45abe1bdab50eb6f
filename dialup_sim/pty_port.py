"""A pseudo-terminal as the modem's serial port, for programs that want a tty device.

The proxy keeps the master side and one descriptor of the slave side open, so a program
can open and close the device (``/dev/pts/N``) as often as it likes without the master
seeing a hang-up: like a modem that stays powered while terminal programs come and go.
The slave starts in raw mode, 8 bits, no echo, no CR/LF translation.

A pty has no modem-control lines, so DTR follows the POSIX convention for hanging up a
terminal line: a program that sets the output speed to 0 (``B0``, what ``stty 0`` and
``cfsetospeed(B0)`` do, and what pppd and minicom fall back to) drops DTR, and any other speed
raises it again. The transport reads the slave's settings every ``LINE_POLL`` seconds.
DCD cannot be shown on a pty (``TIOCMGET`` is refused there): programs on the pty see the
carrier through ``CONNECT`` and ``NO CARRIER`` and run with ``CLOCAL`` (pppd's ``local``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import termios
import tty
from collections.abc import Callable
from typing import Any, Final

__all__ = ["PtyTransport", "open_pty"]

_READ_SIZE = 4096
LINE_POLL: Final = 0.05  # seconds between two looks at the slave's speed (DTR)
_OSPEED: Final = 5  # index of the output speed in termios.tcgetattr's list


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
        self._slave = slave
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
        try:
            dtr = termios.tcgetattr(self._slave)[_OSPEED] != termios.B0
        except termios.error:
            dtr = self._dtr
        if dtr != self._dtr:
            self._dtr = dtr
            if self._on_dtr is not None:
                self._on_dtr(dtr)
        self._poller = self._loop.call_later(LINE_POLL, self._poll_lines)

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
    """Open a pty pair, put the slave in raw mode and serve ``protocol`` on the master."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    return PtyTransport(loop, master, slave, protocol)
