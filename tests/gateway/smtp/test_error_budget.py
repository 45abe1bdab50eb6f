"""A session's errors and idle commands: the budget, then on a real socket.

aiosmtpd answered any number of commands on one connection: a client that never logged in
had 100 000 pipelined ``NOOP``s (or ``VRFY``s, each a ``530``) answered in 0.8 s, and could
go on for its whole login time, reconnect, and go on again.
"""

from __future__ import annotations

import asyncio
import contextlib

from gateway.smtp.error_budget import HARD_ERROR_LIMIT, JUNK_COMMAND_LIMIT, ErrorBudget
from tests.gateway.smtp.conftest import AGENT, OFFICE, SmtpServer
from tests.gateway.smtp.test_bad_input import PLAIN, RawClient


def test_the_twentieth_error_spends_the_budget() -> None:
    budget = ErrorBudget()
    for _ in range(HARD_ERROR_LIMIT - 1):
        budget.replied("550 5.1.1 No such user")
    budget.replied("250 2.0.0 OK")
    budget.replied("421 4.4.2 bye")  # the end already, not an error
    budget.replied("354 End data with <CR><LF>.<CR><LF>")
    assert not budget.spent
    budget.replied("451 4.3.0 Try again later")
    assert budget.spent


def test_idle_commands_count_past_their_limit_and_a_delivery_starts_again() -> None:
    budget = ErrorBudget()
    for _ in range(JUNK_COMMAND_LIMIT):
        budget.command("NOOP")
    budget.command("MAIL")  # delivers, or fails: never idle
    assert budget.errors == 0
    for verb in ("RSET", "VRFY", "HELP", "EHLO", "HELO"):
        budget.command(verb)
    assert budget.errors == 5
    budget.delivered()
    assert (budget.errors, budget.idle) == (0, 0)


async def replies_until_closed(client: RawClient, sent: int) -> list[tuple[int, list[str]]]:
    replies = []
    for _ in range(sent):
        try:
            replies.append(await client.reply())
        except (ConnectionError, ValueError):  # closed: nothing more comes
            break
        if replies[-1][0] == 421:
            break
    return replies


async def test_a_stranger_flooding_commands_is_closed(smtp_server: SmtpServer) -> None:
    for flood, answered in [
        (b"NOOP\r\n", JUNK_COMMAND_LIMIT + HARD_ERROR_LIMIT),
        (b"VRFY agente1@agencias.pe\r\n", HARD_ERROR_LIMIT),  # each a 530
        (b"MAIL FROM:<a@b.pe>\r\n", HARD_ERROR_LIMIT),  # each a 503: no EHLO
    ]:
        client = await RawClient.connect(smtp_server)
        try:
            client.writer.write(flood * 300)  # all read at once: the close is no reset
            replies = await replies_until_closed(client, 300)
            assert len(replies) == answered + 1, (flood, len(replies))
            assert replies[-1] == (421, ["4.4.2 test.aduanas.gob.pe Error: too many errors"])
            assert await asyncio.wait_for(client.reader.read(), 5) == b""  # and closed
        finally:
            with contextlib.suppress(ConnectionError):
                await client.close()


async def test_a_session_that_delivers_keeps_going(smtp_server: SmtpServer) -> None:
    """The counts start again with each message delivered: an agent's long session of
    mails, each after a few refusals and idle commands, is never cut."""
    client = await RawClient.connect(smtp_server)
    assert await client.command("EHLO pc486") == 250
    assert await client.command(f"AUTH PLAIN {PLAIN}") == 235
    for n in range(3):
        for _ in range(JUNK_COMMAND_LIMIT - 2):
            assert await client.command("NOOP") == 250
        for _ in range(HARD_ERROR_LIMIT - 1):
            assert await client.command("RCPT TO:<x@y.pe>") == 503  # before MAIL
        assert await client.command(f"MAIL FROM:<{AGENT}>") == 250
        assert await client.command(f"RCPT TO:<{OFFICE}>") == 250
        assert await client.command("DATA") == 354
        assert await client.command(f"Subject: {n}\r\n\r\nhola\r\n.") == 250
    assert await client.command("QUIT") == 221
    await client.close()
