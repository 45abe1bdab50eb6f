"""The AT command-line parser: what it accepts, and where it stops."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialup_sim.at_commands import (
    Command,
    Dial,
    ParsedLine,
    ReadRegister,
    SetRegister,
    parse_command_line,
)


def test_empty_line_is_ok() -> None:
    assert parse_command_line("") == ParsedLine(())


def test_basic_commands_with_and_without_arguments_and_spaces() -> None:
    parsed = parse_command_line("E0 V1Q0 x4 &c1&d2 \\n3 %c1 \\v1 z")
    assert parsed.error is None
    assert parsed.commands == (
        Command("E", 0),
        Command("V", 1),
        Command("Q", 0),
        Command("X", 4),
        Command("&C", 1),
        Command("&D", 2),
        Command("\\N", 3),
        Command("%C", 1),
        Command("\\V", 1),
        Command("Z", 0),
    )


def test_registers_read_and_write() -> None:
    parsed = parse_command_line("S7=30S12?s2=128")
    assert parsed.commands == (SetRegister(7, 30), ReadRegister(12), SetRegister(2, 128))
    assert parsed.error is None


def test_parsing_stops_at_the_first_unknown_command() -> None:
    parsed = parse_command_line("E0G1V0")
    assert parsed.commands == (Command("E", 0),)
    assert parsed.error is not None
    assert parsed.error.position == 2


@pytest.mark.parametrize("line", ["X5", "E2", "\\N9", "%C7", "&K1", "I8", "%V", "&Q9", "S7", "S=3"])
def test_out_of_range_or_unknown_is_an_error(line: str) -> None:
    assert parse_command_line(line).error is not None


def test_register_value_with_four_digits_is_an_error() -> None:
    assert parse_command_line("S7=1000").error is not None


def test_dial_string_modifiers() -> None:
    (dial,) = parse_command_line("DT 0-800 (123),,W@").commands
    assert dial == Dial(number="0800123", pulse=False, pauses=2, dial_tone_waits=1, wait_quiet=True)


def test_pulse_dial_and_redial() -> None:
    assert parse_command_line("DP5551234").commands == (Dial("5551234", pulse=True),)
    assert parse_command_line("DL").commands == (Dial("", redial=True),)


def test_semicolon_ends_the_dial_string_and_stays_in_command_mode() -> None:
    parsed = parse_command_line("DT123;E0")
    assert parsed.commands == (Dial("123", stay_in_command=True), Command("E", 0))


def test_garbage_in_a_dial_string_is_an_error() -> None:
    assert parse_command_line("DT12Q3").error is not None


@given(st.text(max_size=40))
def test_any_text_parses_to_commands_or_an_error_never_an_exception(text: str) -> None:
    parsed = parse_command_line(text)
    assert isinstance(parsed, ParsedLine)


def test_non_ascii_digits_are_an_error_not_a_crash() -> None:
    # str.isdigit() is true for '²', which int() refuses; hypothesis found it.
    parsed = parse_command_line("E²")
    assert parsed.error is not None
