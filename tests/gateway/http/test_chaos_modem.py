"""Chaos on the modem: the node's switch reaches a running simulator, a real client's call
loses its carrier mid-DATA, the node keeps nothing of it, and the next call goes through.

The simulator's control port is opened before the node, whose settings name it; the
simulator itself after, since it dials the node's SMTP port (a free port known only then).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.settings import Settings
from dialup_sim.client import ModemLine
from dialup_sim.control import ControlServer
from dialup_sim.phonebook import Address
from dialup_sim.proxy import ModemProxy, ProxySettings
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.gateway.http.rig import ADMIN, client, rig_settings

pytestmark = pytest.mark.slow

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
SCALE = 50.0
DROP_AFTER = 1500


class LateProxy:
    """The control port's target: the simulator, once it is started."""

    proxy: ModemProxy | None = None

    @property
    def carrier_drop(self) -> int | None:
        assert self.proxy is not None
        return self.proxy.carrier_drop

    def set_carrier_drop(self, after_bytes: int | None) -> None:
        assert self.proxy is not None
        self.proxy.set_carrier_drop(after_bytes)


@dataclass
class Rig:
    node: Node
    modem: ModemProxy
    control: ControlServer


@pytest.fixture
async def rig(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Rig]:
    target = LateProxy()
    control = ControlServer(target, Address("127.0.0.1", 0))
    control_address = await control.start()
    settings = rig_settings(tmp_path, chaos_modem_control=str(control_address))
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    modem = ModemProxy(
        ProxySettings(
            listen=Address("127.0.0.1", 0),
            target=Address("127.0.0.1", node.port("smtp")),
            hayes=True,
            time_scale=SCALE,
            tick=0.005,
        )
    )
    await modem.start()
    target.proxy = modem
    try:
        yield Rig(node, modem, control)
    finally:
        await modem.close()
        await node.stop()
        await control.close()


class LineSMTP(smtplib.SMTP):
    """smtplib over the modem line's data socket; ``commands`` keeps what it sent."""

    def __init__(self, sock: socket.socket, commands: list[str]) -> None:
        self._line = sock
        self.commands = commands
        super().__init__(timeout=30)

    def putcmd(self, cmd: str, args: str = "") -> None:
        self.commands.append(cmd.lower())
        super().putcmd(cmd, args)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self._line


def message(size: int) -> bytes:
    head = f"From: {AGENT}\r\nTo: {OTHER}\r\nSubject: por modem\r\n\r\n".encode()
    line = b"DUA de prueba por la linea conmutada, serie 1...................\r\n"
    return head + line * (size // len(line))


def send_by_modem(modem: ModemProxy, data: bytes, commands: list[str] | None = None) -> None:
    """Dial 0800, log in and send; the line's ``CarrierLost`` when the modem says NO CARRIER."""
    with ModemLine.dial(modem.address, "0800", timeout=30) as line:
        sock = line.data_socket()
        smtp = LineSMTP(sock, [] if commands is None else commands)
        smtp.connect("linea", 25)
        smtp.ehlo("agente")
        smtp.login(AGENT, DEMO_PASSWORD)
        smtp.sendmail(AGENT, [OTHER], data)
        sock.watch_carrier = False  # the NO CARRIER after QUIT is the node hanging up
        smtp.quit()


async def sessions_closed(node: Node) -> None:
    """Until the node has let go of every connection (the dropped call's session)."""
    assert node.limits is not None
    async with asyncio.timeout(20):
        while node.limits.total:  # noqa: ASYNC110 - the connection count has no event to await
            await asyncio.sleep(0.02)


async def test_the_carrier_drops_after_n_bytes_and_nothing_is_half_stored(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.chaos")
    node, store = rig.node, rig.node.store
    assert store is not None
    before = await store.count_contents()
    async with client(node, ADMIN) as admin:
        switched = await admin.put("/api/admin/chaos", json={"modem": {"drop_after_bytes": 1500}})
        assert switched.status_code == 200
        assert switched.json()["modem"] == {"drop_after_bytes": DROP_AFTER}
        assert (await admin.get("/api/admin/chaos")).json()["modem"] == {"drop_after_bytes": 1500}
        assert rig.modem.carrier_drop == DROP_AFTER  # the simulator holds it

        # smtplib reports the modem's NO CARRIER (CarrierLost) as the server going away.
        commands: list[str] = []
        with pytest.raises(smtplib.SMTPServerDisconnected, match="NO CARRIER"):
            await asyncio.to_thread(send_by_modem, rig.modem, message(6000), commands)
        assert commands[-1] == "data"  # the carrier went in the middle of the message
        await sessions_closed(node)
        assert await store.list_messages(OTHER) == []
        assert await store.count_contents() == before  # no partial message anywhere
        (report,) = rig.modem.reports
        assert report.reason == "carrier lost"
        assert report.up.delivered + report.down.delivered == DROP_AFTER
        assert report.up.delivered > 500  # the commands before DATA are under 200 bytes

        cleared = await admin.delete("/api/admin/chaos")
        assert cleared.status_code == 200 and cleared.json()["modem"] is None
        assert rig.modem.carrier_drop is None
        await asyncio.to_thread(send_by_modem, rig.modem, message(6000))
    (stored,) = await store.list_messages(OTHER)
    assert stored.size > 6000
    logged = [r.getMessage() for r in caplog.records if r.name == "gateway.chaos"]
    assert logged == [
        f"chaos: the modem drops each new call after {DROP_AFTER} bytes",
        "chaos: the modem carrier holds again",
    ]


async def test_put_without_the_modem_clears_it_and_a_same_value_is_not_resent(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.chaos")
    async with client(rig.node, ADMIN) as admin:
        for _ in range(2):
            answer = await admin.put("/api/admin/chaos", json={"modem": {"drop_after_bytes": 9}})
            assert answer.json()["modem"] == {"drop_after_bytes": 9}
        assert (await admin.put("/api/admin/chaos", json={"answer_delay": 1})).json()[
            "modem"
        ] is None
        assert rig.modem.carrier_drop is None
        await admin.delete("/api/admin/chaos")
    modem_lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "gateway.chaos" and "modem" in r.getMessage()
    ]
    assert modem_lines == [
        "chaos: the modem drops each new call after 9 bytes",
        "chaos: the modem carrier holds again",
    ]


async def test_delete_with_the_simulator_gone_switches_off_the_rest_and_says_502(
    rig: Rig,
) -> None:
    async with client(rig.node, ADMIN) as admin:
        both = {"modem": {"drop_after_bytes": 9}, "answer_delay": 2}
        assert (await admin.put("/api/admin/chaos", json=both)).status_code == 200
        await rig.control.close()
        assert (await admin.delete("/api/admin/chaos")).status_code == 502
        state = (await admin.get("/api/admin/chaos")).json()
    assert state["answer_delay"] == 0
    assert state["modem"] == {"drop_after_bytes": 9}  # still on in the simulator, as far as known


async def test_bad_values_and_other_callers_are_refused(rig: Rig) -> None:
    async with client(rig.node, ADMIN) as admin:
        for bad in (0, -1, "x", 10**10):
            answer = await admin.put("/api/admin/chaos", json={"modem": {"drop_after_bytes": bad}})
            assert answer.status_code == 422
            assert answer.headers["content-type"].startswith("application/problem+json")
    async with client(rig.node) as agent:
        answer = await agent.put("/api/admin/chaos", json={"modem": {"drop_after_bytes": 9}})
        assert answer.status_code == 403
    assert rig.modem.carrier_drop is None


async def test_a_simulator_that_does_not_answer_is_a_502_and_nothing_changes(
    tmp_path: Path, clock: FixedClock
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = rig_settings(tmp_path, chaos_modem_control=dead)
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        async with client(node, ADMIN) as admin:
            answer = await admin.put(
                "/api/admin/chaos",
                json={"modem": {"drop_after_bytes": 9}, "answer_delay": 5},
            )
            assert answer.status_code == 502
            assert dead in answer.json()["detail"]
            state = (await admin.get("/api/admin/chaos")).json()
            assert state["modem"] is None and state["answer_delay"] == 0
    finally:
        await node.stop()


async def test_without_a_simulator_configured_the_modem_switch_is_a_409(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = rig_settings(tmp_path)
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        async with client(node, ADMIN) as admin:
            answer = await admin.put("/api/admin/chaos", json={"modem": {"drop_after_bytes": 9}})
            assert answer.status_code == 409
            assert answer.json()["field"] == "modem"
            delay = await admin.put("/api/admin/chaos", json={"answer_delay": 1})
            assert delay.status_code == 200
            assert (await admin.delete("/api/admin/chaos")).status_code == 200
    finally:
        await node.stop()


def test_the_control_address_setting_is_checked() -> None:
    assert Settings(chaos_modem_control="127.0.0.1:6401").chaos_modem_control == "127.0.0.1:6401"
    for bad in ("127.0.0.1", "127.0.0.1:0", ":6401", "h:99999"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            Settings(chaos_modem_control=bad)
