"""A client that pipelines thousands of commands takes turns on the event loop.

Commands already received are answered without waiting on the socket or the store: a
logged-in client that wrote 200 000 ``NOOP`` at once kept the event loop 3.2 s, and every
other client of the node waited that long for its greeting.
"""

from __future__ import annotations

from tests.gateway.http.rig import loop_pauses
from tests.gateway.imap.conftest import AGENT, PASSWORD, Running, in_thread
from tests.pipelining import pipelined

COMMANDS = 50_000


async def test_thousands_of_pipelined_commands_leave_the_loop_free(imap: Running) -> None:
    login = b'a0 LOGIN %s "%s"\r\n' % (AGENT.encode(), PASSWORD.encode())
    noops = b"a NOOP\r\n" * COMMANDS  # 400 KB
    async with loop_pauses() as pauses:
        read = await in_thread(lambda: pipelined(imap.port, login, noops, b"z LOGOUT\r\n", b"z OK"))

    assert read > COMMANDS * len(b"a OK NOOP completed.\r\n")  # every one was answered
    longest = max(pauses, default=0.0)
    assert longest < 0.5, f"one client held the event loop {longest:.2f} s"  # 2.1-2.7 s before
