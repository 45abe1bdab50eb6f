"""The modem core, driven byte at a time with a fake clock: commands, dialling, ``+++``."""

from __future__ import annotations

import pytest

from dialup_sim.events import DialOutcome
from dialup_sim.line import MnpLevel
from dialup_sim.modem import TRANSITIONS, Mode
from dialup_sim.noise import NoiseSettings
from dialup_sim.timing import CallTiming
from dialup_sim.vendors import DEFAULT_PROFILE
from tests.dialup_sim.harness import ModemHarness

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
NO_CARRIER = b"\r\nNO CARRIER\r\n"
# Default timing at X4, tone dialling "0800": dial tone 1.0 + 4 digits * 2 * 0.095
# + answer 3.0 + training 3.0 + MNP negotiation 0.5.
CONNECT_AFTER = 1.0 + 4 * 0.19 + 3.0 + 3.0 + 0.5


@pytest.fixture
def dte() -> ModemHarness:
    return ModemHarness()


@pytest.fixture
def quiet_dte() -> ModemHarness:
    """Echo off, so the screen shows results only."""
    harness = ModemHarness()
    harness.command("ATE0")
    harness.screen.clear()
    return harness


# Command mode.


def test_at_gets_ok_with_echo(dte: ModemHarness) -> None:
    assert dte.type("AT\r") == b"AT\r" + OK


def test_input_before_at_is_ignored_but_echoed(dte: ModemHarness) -> None:
    assert dte.type("+++xyzAT\r") == b"+++xyzAT\r" + OK
    assert dte.type("hello\r") == b"hello\r"  # no AT: no result at all


def test_lowercase_at_works_mixed_case_does_not(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("at") == OK
    assert quiet_dte.command("At") == b""
    assert quiet_dte.command("aT") == b""


def test_garbage_after_at_is_error(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("AT%V") == ERROR
    assert quiet_dte.command("ATGARBAGE") == ERROR


def test_commands_before_an_error_take_effect(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("ATV0G") == b"4\r"
    assert quiet_dte.modem.profile.verbose is False


def test_backspace_edits_the_line(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.type("ATZ\x08E0\r") == OK
    assert quiet_dte.type("ATQ\x08\x08\r") == OK


def test_a_slash_repeats_the_last_line(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATS7?")
    assert quiet_dte.type("A/") == b"\r\n050\r\n" + OK


def test_overlong_line_is_error(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("AT" + "E0" * 200) == ERROR


def test_numeric_and_quiet_results(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("ATV0") == b"0\r"
    assert quiet_dte.command("ATX9") == b"4\r"
    assert quiet_dte.command("ATQ1") == b""
    assert quiet_dte.command("ATQ0") == b"0\r"


def test_registers_read_write_and_limits(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("ATS12=25S12?") == b"\r\n025\r\n" + OK
    assert quiet_dte.modem.profile.registers.guard_time == 0.5
    assert quiet_dte.command("ATS3=200") == ERROR
    assert quiet_dte.command("ATS31=1") == ERROR
    assert quiet_dte.command("ATS31?") == ERROR


def test_cr_register_changes_the_terminator(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATS3=35")  # '#'
    assert quiet_dte.type("AT#") == b"#\nOK#\n"


def test_store_reset_and_factory(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATX1 S7=20 &W")
    quiet_dte.command("ATX3 S7=40")
    assert quiet_dte.command("ATZ") == b"\r\nOK\r\n"
    profile = quiet_dte.modem.profile
    assert (profile.x_level, profile.registers[7]) == (1, 20)
    assert profile.echo is False  # E0 was stored too
    quiet_dte.command("AT&F")
    assert quiet_dte.modem.profile == DEFAULT_PROFILE.factory()


def test_error_control_and_compression_commands(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("AT\\N2%C0\\V0&C1&D2&K3") == OK
    profile = quiet_dte.modem.profile
    assert int(profile.error_control) == 2
    assert profile.compression is False
    assert profile.rel_codes is False


def test_identity_and_view(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("ATI0") == b"\r\n960\r\n" + OK
    assert quiet_dte.command("ATI6") == b"\r\nLAST CALL\r\nNONE\r\n" + OK
    assert quiet_dte.command("ATI9") == ERROR
    listing = quiet_dte.command("AT&V")
    assert b"\\N3" in listing and b"S12:050" in listing and listing.endswith(OK)


def test_o_without_a_call_is_no_carrier(quiet_dte: ModemHarness) -> None:
    assert quiet_dte.command("ATO") == NO_CARRIER


# Dialling.


def test_dial_connects_with_the_negotiated_message_at_the_right_time(
    quiet_dte: ModemHarness,
) -> None:
    assert quiet_dte.command("ATDT0800", at=10.0) == b""
    assert quiet_dte.mode() is Mode.DIALING
    assert quiet_dte.dials[-1].number == "0800"
    assert quiet_dte.answer(DialOutcome.ANSWERED, at=10.01)
    assert quiet_dte.advance(10.0 + CONNECT_AFTER - 0.001) == b""
    assert quiet_dte.advance(10.0 + CONNECT_AFTER) == b"\r\nCONNECT 9600/REL\r\n"
    assert quiet_dte.mode() is Mode.ONLINE
    info = quiet_dte.modem.connect_info
    assert info is not None and info.reliable and info.compression


@pytest.mark.parametrize(
    ("setup", "remote", "message", "mode"),
    [
        ("AT\\N0", MnpLevel.MNP5, b"\r\nCONNECT 9600\r\n", "9600 NONE"),
        ("AT%C0", MnpLevel.MNP5, b"\r\nCONNECT 9600/REL\r\n", "9600 MNP4"),
        ("AT", MnpLevel.MNP4, b"\r\nCONNECT 9600/REL\r\n", "9600 MNP4"),
        ("AT", MnpLevel.NONE, b"\r\nCONNECT 9600\r\n", "9600 NONE"),
        ("AT\\V0", MnpLevel.MNP5, b"\r\nCONNECT 9600\r\n", "9600 MNP5"),
        ("ATV0", MnpLevel.MNP5, b"12\r", "9600 MNP5"),  # Hayes 12, not Microcom 33
        ("ATX0", MnpLevel.MNP5, b"\r\nCONNECT\r\n", "9600 MNP5"),
    ],
)
def test_connect_message_reflects_what_was_negotiated(
    setup: str, remote: MnpLevel, message: bytes, mode: str
) -> None:
    dte = ModemHarness(remote_mnp=remote)
    dte.command("ATE0")
    dte.command(setup)
    assert dte.dial_and_connect().endswith(message)
    dte.type(b"+++", at=dte.now + 2.0)
    dte.advance(dte.now + 2.0)
    dte.command("ATH")
    assert dte.ended[-1].report.mode == mode


def test_reliable_only_hangs_up_when_the_far_end_has_no_mnp() -> None:
    dte = ModemHarness(remote_mnp=MnpLevel.NONE)
    dte.command("ATE0\\N2")
    assert dte.dial_and_connect().endswith(NO_CARRIER)
    assert dte.mode() is Mode.COMMAND
    assert dte.ended[-1].report.reason == "no MNP at far end"


def test_busy_with_busy_detection(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATDT0800", at=0.0)
    quiet_dte.answer(DialOutcome.BUSY)
    # dial tone 1.0 + 4 digits 0.76 + busy cadence 2.0
    assert quiet_dte.advance(3.75) == b""
    assert quiet_dte.advance(3.77) == b"\r\nBUSY\r\n"
    assert quiet_dte.ended[-1].report.result == "BUSY"


def test_busy_without_busy_detection_waits_out_s7(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATX2S7=20")
    quiet_dte.command("ATDT0800", at=0.0)
    quiet_dte.answer(DialOutcome.BUSY)
    assert quiet_dte.advance(19.9) == b""
    assert quiet_dte.advance(20.0) == NO_CARRIER


def test_number_not_in_service_is_no_carrier_after_s7(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATS7=10")
    quiet_dte.command("ATDT5551234", at=0.0)
    quiet_dte.answer(DialOutcome.NOT_IN_SERVICE)
    assert quiet_dte.advance(9.99) == b""
    assert quiet_dte.advance(10.0) == NO_CARRIER


def test_ringing_without_answer_is_no_answer_or_no_carrier_at_x0(
    quiet_dte: ModemHarness,
) -> None:
    quiet_dte.command("ATS7=10")
    quiet_dte.command("ATDT0800", at=0.0)
    quiet_dte.answer(DialOutcome.RING_NO_ANSWER)
    assert quiet_dte.advance(10.0) == b"\r\nNO ANSWER\r\n"
    quiet_dte.command("ATX0")
    quiet_dte.command("ATDT0800")
    quiet_dte.answer(DialOutcome.RING_NO_ANSWER)
    assert quiet_dte.advance(quiet_dte.now + 10.0) == NO_CARRIER


def test_carrier_wait_shorter_than_the_handshake_fails(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATS7=5")
    quiet_dte.command("ATDT0800", at=0.0)
    quiet_dte.answer(DialOutcome.ANSWERED)
    assert quiet_dte.advance(30.0) == NO_CARRIER
    assert len(quiet_dte.ended) == 1


def test_a_key_while_dialling_aborts(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATDT0800", at=0.0)
    quiet_dte.answer(DialOutcome.ANSWERED, at=0.5)
    assert quiet_dte.type(b"x", at=1.0) == NO_CARRIER
    assert quiet_dte.mode() is Mode.COMMAND
    assert quiet_dte.ended[-1].report.reason == "aborted by DTE"
    assert quiet_dte.advance(60.0) == b""  # the abandoned handshake never completes


def test_a_late_dial_outcome_is_refused(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATS7=5")
    quiet_dte.command("ATDT0800", at=0.0)
    quiet_dte.advance(6.0)
    assert quiet_dte.answer(DialOutcome.ANSWERED) is False


def test_dial_with_semicolon_returns_to_command_mode(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATDT123;", at=0.0)
    assert not quiet_dte.dials
    assert quiet_dte.advance(5.0) == OK
    assert quiet_dte.mode() is Mode.COMMAND


def test_redial_uses_the_last_number(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATDT5551234")
    quiet_dte.type(b"x")
    quiet_dte.command("ATDL")
    assert [d.number for d in quiet_dte.dials] == ["5551234", "5551234"]


def test_answer_with_nobody_calling(quiet_dte: ModemHarness) -> None:
    quiet_dte.command("ATS7=3A", at=0.0)
    assert quiet_dte.advance(3.0) == NO_CARRIER
    assert not quiet_dte.ended  # nothing was dialled, nothing to hang up


# Online, escape, hang-up.


def online(**options: object) -> ModemHarness:
    dte = ModemHarness(**options)
    dte.command("ATE0")
    dte.dial_and_connect()
    dte.screen.clear()
    return dte


def test_data_crosses_the_line_both_ways() -> None:
    dte = online()
    dte.type(b"HELO agent\r\n", at=100.0)
    dte.server_sends(b"250 ok\r\n", at=100.0)
    dte.advance(101.0)
    assert dte.line_out == b"HELO agent\r\n"
    assert dte.screen == b"250 ok\r\n"


def test_escape_with_guard_times_enters_online_command_and_forwards_pluses() -> None:
    dte = online()
    dte.type(b"data", at=100.0)
    assert dte.type(b"+++", at=101.5, gap=0.1) == b""
    assert dte.mode() is Mode.ONLINE
    assert dte.advance(102.69) == b""
    assert dte.advance(102.7) == OK  # one guard time after the third plus
    assert dte.mode() is Mode.ONLINE_COMMAND
    dte.advance(103.0)
    assert dte.line_out == b"data+++"  # the pluses still went to the far end


def test_escape_without_the_pre_guard_is_just_data() -> None:
    dte = online()
    dte.type(b"data", at=100.0)
    dte.type(b"+++", at=100.5)
    assert dte.advance(105.0) == b""
    assert dte.mode() is Mode.ONLINE


def test_escape_is_cancelled_by_data_in_the_post_guard() -> None:
    dte = online()
    dte.type(b"+++", at=100.0)
    dte.type(b"Q", at=100.5)
    assert dte.advance(105.0) == b""
    assert dte.mode() is Mode.ONLINE


def test_s12_sets_the_guard_and_s2_over_127_disables_the_escape() -> None:
    dte = online()
    dte.type(b"+++", at=100.0)
    dte.advance(102.0)
    dte.command("ATS12=10S2=200O")  # guard 0.2 s, escape disabled
    dte.type(b"+++", at=110.0)
    assert dte.advance(115.0) == b""
    assert dte.mode() is Mode.ONLINE


def test_online_command_then_back_online_with_held_data() -> None:
    dte = online()
    dte.type(b"+++", at=100.0)
    dte.advance(101.5)
    dte.server_sends(b"while you were away", at=102.0)
    dte.advance(104.0)
    assert dte.screen == OK  # held, not shown in command mode
    assert dte.command("ATO", at=104.0) == b"\r\nCONNECT 9600/REL\r\nwhile you were away"
    assert dte.mode() is Mode.ONLINE


def test_hang_up_from_online_command(quiet_dte: ModemHarness) -> None:
    dte = online()
    dte.type(b"+++", at=100.0)
    dte.advance(101.5)
    assert dte.command("ATH") == OK
    assert dte.mode() is Mode.COMMAND
    assert dte.ended[-1].report.reason == "local hang-up"
    assert dte.command("ATI6").startswith(b"\r\nLAST CALL\r\nNUMBER 0800\r\n")


def test_server_hang_up_gives_no_carrier_after_its_data_and_s10() -> None:
    dte = online()
    dte.server_sends(b"221 bye\r\n", at=100.0)
    dte.server_gone(at=100.0)
    screen = dte.advance(110.0)
    assert screen == b"221 bye\r\n" + NO_CARRIER
    report = dte.ended[-1].report
    assert report.reason == "remote hung up"
    assert report.ended_at is not None
    # 9 octets in one MNP 5 frame (~ 14 ms at 9600), then S10 = 1.4 s
    assert 101.4 < report.ended_at < 101.5


def test_carrier_loss_mid_call_is_no_carrier() -> None:
    dte = ModemHarness(noise=NoiseSettings(drop_after=30.0))
    dte.command("ATE0")
    dte.command("ATDT0800", at=0.0)
    dte.answer(DialOutcome.ANSWERED)
    dte.advance(CONNECT_AFTER)
    assert dte.mode() is Mode.ONLINE
    dte.screen.clear()
    dte.type(b"x" * 100, at=20.0)
    assert dte.advance(CONNECT_AFTER + 30.0 + 1.39) == b""
    assert dte.advance(CONNECT_AFTER + 30.0 + 1.4) == NO_CARRIER  # S10 after the loss
    assert dte.ended[-1].report.reason == "carrier lost"


def test_dte_going_away_ends_the_call_silently() -> None:
    dte = online()
    dte.dte_gone(at=100.0)
    assert dte.ended[-1].report.reason == "DTE hung up"
    assert dte.screen == b""
    assert dte.mode() is Mode.COMMAND


def test_every_dial_ends_exactly_once() -> None:
    dte = ModemHarness(timing=CallTiming())
    dte.command("ATE0S7=15")
    outcomes = list(DialOutcome)
    for index, outcome in enumerate(outcomes * 2):
        dte.command("ATDT0800", at=100.0 * index)
        dte.answer(outcome)
        dte.advance(100.0 * index + 30.0)
        if dte.mode() is Mode.ONLINE:
            dte.server_gone(at=dte.now)
            dte.advance(dte.now + 10.0)
    assert [e.call_id for e in dte.ended] == [d.call_id for d in dte.dials]


def test_transition_table_names_every_mode() -> None:
    assert set(TRANSITIONS) == set(Mode)
    for targets in TRANSITIONS.values():
        assert set(targets.values()) <= set(Mode)
