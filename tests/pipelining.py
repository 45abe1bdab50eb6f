"""A client that writes thousands of commands at once, as a raw socket (blocking: run it in
a thread while the server answers in the test's event loop)."""

from __future__ import annotations

import socket
import threading

__all__ = ["pipelined"]


def pipelined(port: int, login: bytes, commands: bytes, last: bytes, answered: bytes) -> int:
    """Write ``login``, then ``commands`` and ``last`` at once while reading the answers
    until the server closes; check that the answer to ``last`` (``answered``) ends them, and
    return how many bytes were read."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(login)
        sender = threading.Thread(target=sock.sendall, args=(commands + last,))
        sender.start()
        received = bytearray()
        while chunk := sock.recv(1 << 16):
            received += chunk
        sender.join()
    assert answered in received[-200:], bytes(received[-200:])
    return len(received)
