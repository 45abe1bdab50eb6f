"""Incoming calls on the sans-IO modem: RING cadence, S0/S1, ATA, relaying once online."""

from __future__ import annotations

import pytest

from dialup_sim.events import DialOutcome
from dialup_sim.line import MnpLevel
from dialup_sim.modem import Mode
from dialup_sim.timing import CallTiming
from dialup_sim.vendors import PROFILES
from tests.dialup_sim.harness import ModemHarness

RING = b"\r\nRING\r\n"
NO_CARRIER = b"\r\nNO CARRIER\r\n"
# answer tone and V.32 training 3.0 + MNP link request 0.5
HANDSHAKE = 3.5


def idle(setup: str = "", **options: object) -> ModemHarness:
    dte = ModemHarness(**options)
    dte.command("ATE0" + setup)
    dte.screen.clear()
    return dte


def test_rings_every_six_seconds_and_s1_counts_them() -> None:
    dte = idle()
    assert dte.ring(at=10.0)
    assert dte.screen == RING
    assert dte.modem.ring_indicator(11.9) and not dte.modem.ring_indicator(12.1)
    assert dte.advance(15.99) == b""
    assert dte.advance(16.0) == RING
    assert dte.advance(22.0) == RING
    assert dte.command("ATS1?") == b"\r\n003\r\n\r\nOK\r\n"
    assert dte.mode() is Mode.COMMAND and not dte.answered  # S0=0: nobody answers


def test_the_ring_cadence_is_the_exchanges_one_second_on_two_off() -> None:
    dte = idle(timing=CallTiming(ring_on=1.0, ring_off=2.0))
    assert dte.ring(at=0.0)
    assert dte.modem.ring_indicator(0.9) and not dte.modem.ring_indicator(1.1)
    assert dte.advance(2.99) == b""
    assert dte.advance(3.0) == RING
    assert dte.modem.ring_indicator(3.5) and not dte.modem.ring_indicator(4.0)
    assert dte.modem.next_deadline() == 4.0  # RI drops, then the next ring at 6.0
    assert dte.advance(6.0) == RING
    assert dte.command("ATS1?", at=6.5) == b"\r\n003\r\n\r\nOK\r\n"


def test_s1_restarts_when_no_ring_comes_for_eight_seconds() -> None:
    # Hayes: the ring count is cleared after eight seconds without a ring, so a cadence
    # with eight seconds of silence never reaches S0=2 and the modem never answers.
    dte = idle("S0=2", timing=CallTiming(ring_on=2.0, ring_off=8.0))
    dte.ring(at=0.0)
    assert dte.advance(30.0).count(b"RING") == 3
    assert not dte.answered and dte.modem.profile.registers[1] == 1
    dte = idle("S0=2", timing=CallTiming(ring_on=2.0, ring_off=5.9))
    dte.ring(at=0.0)
    dte.advance(7.9)
    assert [a.call_id for a in dte.answered] == [77]


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_at_v_shows_s0_and_the_ring_count(name: str) -> None:
    dte = idle("S0=3", vendor=PROFILES[name])
    dte.ring(at=0.0)
    listing = dte.command("AT&V", at=1.0).decode().split()
    assert {"S00:003", "S01:001"} <= set(listing), listing


def test_auto_answer_after_s0_rings() -> None:
    dte = idle("S0=2")
    dte.ring(at=0.0)
    assert dte.advance(6.0) == RING  # the second ring
    assert dte.screen == RING + RING
    assert [a.call_id for a in dte.answered] == [77]
    assert dte.mode() is Mode.DIALING
    assert dte.advance(6.0 + HANDSHAKE - 0.01) == b""
    assert dte.advance(6.0 + HANDSHAKE) == b"\r\nCONNECT 9600/REL\r\n"
    assert dte.mode() is Mode.ONLINE
    assert dte.modem.profile.registers[1] == 0


def test_ata_answers_the_ringing_call_and_then_relays() -> None:
    dte = idle("\\N0")
    dte.ring(at=0.0)
    dte.command("ATA", at=1.0)
    assert dte.answered[-1].mnp is MnpLevel.NONE
    assert dte.advance(1.0 + 3.0) == b"\r\nCONNECT 9600\r\n"  # no MNP link request
    dte.type(b"220 node ready\r\n", at=5.0)
    assert dte.line_out == b"220 node ready\r\n"  # the caller's modem models the line
    dte.server_sends(b"HELO agent\r\n", at=5.5)
    assert dte.screen.endswith(b"HELO agent\r\n")


def test_the_callers_hang_up_is_no_carrier_after_s10() -> None:
    dte = idle("S0=1")
    dte.ring(at=0.0)
    dte.advance(10.0)
    dte.server_gone(at=20.0)
    assert dte.advance(21.39) == b""
    assert dte.advance(21.4) == NO_CARRIER
    assert [e.call_id for e in dte.ended] == [77]
    assert dte.ended[-1].report.reason == "remote hung up"


def test_a_caller_giving_up_stops_the_ringing() -> None:
    dte = idle()
    dte.ring(at=0.0)
    dte.server_gone(at=3.0)
    assert dte.advance(30.0) == b""
    assert dte.modem.profile.registers[1] == 0
    assert dte.command("ATA", at=31.0) == b""  # nobody calling: waits out S7
    assert dte.advance(31.0 + 50.0) == NO_CARRIER


def test_a_busy_modem_refuses_a_second_call() -> None:
    dte = idle()
    assert dte.ring(1, at=0.0)
    assert not dte.ring(2, at=1.0)  # already ringing
    dte.command("ATA")
    dte.advance(10.0)
    assert dte.mode() is Mode.ONLINE
    assert not dte.ring(3, at=11.0)  # online


def test_the_caller_connects_when_the_far_modem_picks_up() -> None:
    dte = idle()
    dte.command("ATDT0900", at=0.0)
    dte.answer(DialOutcome.RING_NO_ANSWER, at=1.0)
    # dial tone 1.0 + 4 digits 0.76 done; the far modem picks up at 20 s
    accepted = dte.modem.dial_outcome(
        dte.dials[-1].call_id, DialOutcome.PICKED_UP, 20.0, remote_mnp=MnpLevel.MNP4
    )
    assert accepted
    assert dte.advance(20.0 + HANDSHAKE - 0.01) == b""
    assert dte.advance(20.0 + HANDSHAKE) == b"\r\nCONNECT 9600/REL\r\n"
    info = dte.modem.connect_info
    assert info is not None and info.reliable and not info.compression


def test_dialling_out_while_it_rings_stops_the_ringing() -> None:
    dte = idle("S0=2")
    dte.ring(at=0.0)
    dte.command("ATDT0800", at=1.0)
    dte.advance(30.0)  # no second RING, no auto-answer in the middle of the dial
    assert dte.screen.count(b"RING") == 1
    assert not dte.answered


def test_q2_answers_silently_but_still_reports_its_own_dials() -> None:
    dte = idle("Q2S0=1")
    dte.ring(at=0.0)
    dte.advance(10.0)
    assert dte.mode() is Mode.ONLINE and dte.screen == b""
    dte.server_gone(at=20.0)
    dte.advance(30.0)
    assert dte.screen == b"" and dte.mode() is Mode.COMMAND
    dte.command("ATDT0800", at=40.0)
    dte.answer(DialOutcome.ANSWERED)
    assert dte.advance(60.0) == b"\r\nCONNECT 9600/REL\r\n"
