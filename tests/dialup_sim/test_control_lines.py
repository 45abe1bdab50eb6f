"""DTR, DCD and flow control on the sans-IO modem: &D, &C, &K."""

from __future__ import annotations

import pytest

from dialup_sim.modem import DTE_BUFFER, XOFF, XON, Mode
from tests.dialup_sim.harness import ModemHarness

NO_CARRIER = b"\r\nNO CARRIER\r\n"


def online(setup: str = "") -> ModemHarness:
    dte = ModemHarness()
    dte.command("ATE0" + setup)
    dte.dial_and_connect()
    dte.screen.clear()
    return dte


def test_dtr_drop_hangs_up_under_d2() -> None:
    dte = online()
    dte.modem.dtr_changed(False, 100.0)
    dte.advance(100.0)
    assert dte.screen == NO_CARRIER
    assert dte.mode() is Mode.COMMAND
    assert dte.ended[-1].report.reason == "DTR dropped"


def test_dtr_drop_is_online_command_under_d1_and_ignored_under_d0() -> None:
    dte = online("&D1")
    dte.modem.dtr_changed(False, 100.0)
    dte.advance(100.0)
    assert (dte.screen, dte.mode()) == (b"\r\nOK\r\n", Mode.ONLINE_COMMAND)
    dte = online("&D0")
    dte.modem.dtr_changed(False, 100.0)
    dte.advance(100.0)
    assert (dte.screen, dte.mode()) == (b"", Mode.ONLINE)


def test_dtr_drop_resets_to_the_stored_profile_under_d3() -> None:
    dte = online("&D3")
    dte.modem.dtr_changed(False, 100.0)
    assert dte.mode() is Mode.COMMAND
    assert dte.modem.profile.dtr_mode == 2  # back to the stored (factory) &D2


def test_dcd_follows_the_carrier_under_c1_and_is_always_on_under_c0() -> None:
    dte = ModemHarness()
    dte.command("ATE0")
    assert not dte.modem.carrier()
    dte.dial_and_connect()
    assert dte.modem.carrier()
    dte.server_gone(at=dte.now)
    dte.advance(dte.now + 5.0)
    assert not dte.modem.carrier()
    dte.command("AT&C0")
    assert dte.modem.carrier()


def test_without_flow_control_what_overflows_the_buffer_is_lost() -> None:
    dte = online("&K0")
    dte.modem.from_caller(b"x" * 10_000, 100.0)
    dte.advance(200.0)
    assert len(dte.line_out) == DTE_BUFFER
    dte.type(b"+++", at=202.0)
    dte.advance(204.0)
    assert b"OVERRUN 7952\r\n" in dte.command("ATI6")


def test_xon_xoff_flow_control_sends_xoff_when_full_and_xon_when_drained() -> None:
    dte = online("&K4\\N0")  # 960 octets a second: 1.6 s to drain below the XON mark
    dte.modem.from_caller(b"x" * DTE_BUFFER, 100.0)
    dte.advance(100.0)
    assert dte.screen == XOFF
    dte.advance(100.5)
    assert dte.screen == XOFF  # still above the XON mark
    dte.advance(110.0)
    assert dte.screen == XOFF + XON


@pytest.mark.parametrize("setting", ["&K3", "\\Q3"])
def test_rts_cts_leaves_holding_the_dte_back_to_the_adapter(setting: str) -> None:
    dte = online(setting)
    dte.modem.from_caller(b"x" * 10_000, 100.0)
    assert dte.modem.caller_backlog(100.0) > DTE_BUFFER  # nothing lost, nothing sent
    assert dte.screen == b""


def test_carrier_changes_are_events_in_order_with_the_results() -> None:
    dte = online()
    assert dte.dcd == [True]
    dte.server_gone(at=dte.now)
    dte.advance(dte.now + 5.0)
    assert dte.dcd == [True, False]
    dte.command("AT&C0")
    assert dte.dcd == [True, False, True]
