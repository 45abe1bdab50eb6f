"""On a real node: failed logins slow down the next ones from that address and on that
account, whatever the protocol; a good login still works; good logins are remembered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from gateway.cli import main
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests.gateway.logins.conftest import MAX_PENALTY, PENALTY, imap_login, pop3_login, smtp_auth

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
SLACK = 0.9  # asyncio may wake a sleeper a hair early by the clock the test reads

Login = Callable[[Node, str, str], Awaitable[tuple[str, float]]]


class Laps:
    """Time between the answers of successive logins.

    A failure's penalty runs from that failure, not from the next attempt's ``AUTH``: the
    time the client takes to connect again and greet is part of the wait. Measured from the
    ``AUTH`` alone, a wait was short by that much on a busy machine (0.51 s for 0.8).
    """

    def __init__(self) -> None:
        self._mark = time.monotonic()

    def lap(self) -> float:
        now = time.monotonic()
        gap, self._mark = now - self._mark, now
        return gap


async def test_failures_from_one_address_double_its_wait_in_every_protocol(guarded: Node) -> None:
    source = "127.0.0.2"
    first, took = await smtp_auth(guarded, "nobody1@agencias.pe", "x", source)
    assert first.startswith("535") and took < PENALTY
    laps = Laps()
    # A new account each time: only the address's own record slows these down.
    reply, _ = await pop3_login(guarded, "nobody2@agencias.pe", "x", source)
    assert reply.startswith("-ERR [AUTH]") and laps.lap() >= PENALTY * SLACK
    reply, _ = await imap_login(guarded, "nobody3@agencias.pe", "x", source)
    assert reply.startswith("a1 NO") and laps.lap() >= 2 * PENALTY * SLACK
    reply, _ = await smtp_auth(guarded, "nobody4@agencias.pe", "x", source)
    assert reply.startswith("535") and laps.lap() >= 4 * PENALTY * SLACK
    # Another address is not slowed down by them.
    reply, took = await smtp_auth(guarded, AGENT, DEMO_PASSWORD, "127.0.0.3")
    assert reply.startswith("235") and took < PENALTY


async def test_failures_on_one_account_slow_down_every_new_address(guarded: Node) -> None:
    reply, took = await smtp_auth(guarded, OTHER, "wrong", "127.0.1.1")
    assert reply.startswith("535") and took < PENALTY
    laps = Laps()
    waits = []
    for n, login in enumerate((pop3_login, imap_login, smtp_auth), start=2):
        reply, _ = await login(guarded, OTHER, "wrong", f"127.0.1.{n}")
        assert "235" not in reply and "+OK" not in reply
        waits.append(laps.lap())
    assert waits[0] >= PENALTY * SLACK
    assert waits[1] >= 2 * PENALTY * SLACK
    assert waits[2] >= 4 * PENALTY * SLACK


async def test_the_right_password_still_works_after_the_penalty(guarded: Node) -> None:
    source = "127.0.0.4"
    for _ in range(3):
        await smtp_auth(guarded, AGENT, "wrong", source)
    laps = Laps()
    reply, _ = await smtp_auth(guarded, AGENT, DEMO_PASSWORD, source)
    assert reply.startswith("235") and laps.lap() >= 4 * PENALTY * SLACK
    # Forgiven: the next one is not delayed, in any protocol.
    reply, took = await pop3_login(guarded, AGENT, DEMO_PASSWORD, source)
    assert reply.startswith("+OK") and took < PENALTY


async def test_a_guesser_elsewhere_does_not_slow_down_the_owner(guarded: Node) -> None:
    reply, _ = await smtp_auth(guarded, AGENT, DEMO_PASSWORD, "127.0.0.5")  # the owner, once
    assert reply.startswith("235")
    for n in range(4):
        await smtp_auth(guarded, AGENT, "guess", f"127.0.2.{n + 1}")
    laps = Laps()
    reply, took = await imap_login(guarded, AGENT, DEMO_PASSWORD, "127.0.0.5")
    assert reply.startswith("a1 OK") and took < PENALTY
    reply, _ = await smtp_auth(guarded, AGENT, DEMO_PASSWORD, "127.0.2.9")  # a new address
    assert reply.startswith("235") and laps.lap() >= PENALTY * SLACK


async def test_attempts_waiting_too_long_are_refused_unchecked_as_temporary(guarded: Node) -> None:
    source = "127.0.0.6"
    await smtp_auth(guarded, "nobody@agencias.pe", "x", source)
    assert guarded.logins is not None
    checked = guarded.logins.verifications
    results = await asyncio.gather(
        *(smtp_auth(guarded, "nobody@agencias.pe", "x", source) for _ in range(20))
    )
    replies = sorted(reply[:3] for reply, _ in results)
    # One attempt per step until the longest delay; the rest are turned away at once.
    admitted = replies.count("535")
    assert 1 <= admitted <= MAX_PENALTY / PENALTY + 1
    assert replies.count("454") == 20 - admitted
    assert guarded.logins.verifications - checked == admitted
    refused_times = [took for reply, took in results if reply.startswith("454")]
    assert min(refused_times) >= MAX_PENALTY * SLACK  # no quicker answer for ignoring it
    # The other protocols answer such attempts with their temporary failures.
    for login, refusal in (
        (pop3_login, "-ERR [SYS/TEMP] too many failed logins lately"),
        (imap_login, "a1 NO [UNAVAILABLE]"),
    ):
        answers = await asyncio.gather(
            *(login(guarded, "nobody@agencias.pe", "x", source) for _ in range(12))
        )
        assert any(reply.startswith(refusal) for reply, _ in answers), answers


async def test_the_peer_login_has_the_same_penalty(guarded: Node) -> None:
    # This node has no peers: any node name is a wrong peer login, penalised like the rest.
    source = "127.0.0.7"
    await smtp_auth(guarded, "callao-maritima", "guess", source)
    laps = Laps()
    waits = []
    for _ in range(2):
        await smtp_auth(guarded, "callao-maritima", "guess", source)
        waits.append(laps.lap())
    assert waits[0] >= PENALTY * SLACK and waits[1] >= 2 * PENALTY * SLACK


@pytest.mark.parametrize("login", [smtp_auth, pop3_login, imap_login])
async def test_a_remembered_login_skips_argon2_until_the_password_changes(
    guarded: Node, login: Login
) -> None:
    assert guarded.logins is not None and guarded.store is not None
    before = guarded.logins.verifications
    for _ in range(3):
        reply, _ = await login(guarded, AGENT, DEMO_PASSWORD)
        assert "235" in reply or "+OK" in reply or "a1 OK" in reply
    assert guarded.logins.verifications - before == 1
    # Remembered across protocols: it is the same account and password.
    assert (await smtp_auth(guarded, AGENT, DEMO_PASSWORD))[0].startswith("235")
    assert guarded.logins.verifications - before == 1

    assert await guarded.store.set_password(AGENT, "nueva-clave")
    reply, _ = await smtp_auth(guarded, AGENT, DEMO_PASSWORD)
    assert reply.startswith("535")  # the old password is not remembered any more
    assert guarded.logins.verifications - before == 2
    assert (await smtp_auth(guarded, AGENT, "nueva-clave"))[0].startswith("235")
    assert (await smtp_auth(guarded, AGENT, "nueva-clave"))[0].startswith("235")
    assert guarded.logins.verifications - before == 3


async def test_a_password_changed_by_another_process_evicts_the_remembered_login(
    guarded: Node,
) -> None:
    assert (await smtp_auth(guarded, AGENT, DEMO_PASSWORD))[0].startswith("235")  # remembered
    data_dir = str(guarded.settings.data_dir)
    argv = ["account", "password", AGENT, "--password", "otra-clave", "--data-dir", data_dir]
    changed = await asyncio.to_thread(main, argv)
    assert changed == 0
    assert (await smtp_auth(guarded, AGENT, DEMO_PASSWORD))[0].startswith("535")
    assert (await pop3_login(guarded, AGENT, "otra-clave"))[0].startswith("+OK")
