"""Result-code tables: formats, X-level filtering, connect messages of each vendor."""

from __future__ import annotations

import pytest

from dialup_sim.result_codes import (
    LINE_RATES,
    MICROCOM,
    ConnectInfo,
    Result,
    format_info,
    format_result,
    visible_result,
)

REL_9600 = ConnectInfo(9600, reliable=True, compression=True)
PLAIN_9600 = ConnectInfo(9600, reliable=False)


def test_verbose_is_crlf_text_crlf() -> None:
    assert format_result(Result.OK, verbose=True, x_level=4) == b"\r\nOK\r\n"


def test_numeric_is_code_and_cr_with_nothing_before() -> None:
    assert format_result(Result.OK, verbose=False, x_level=4) == b"0\r"
    assert format_result(Result.NO_CARRIER, verbose=False, x_level=4) == b"3\r"
    assert format_result(Result.BUSY, verbose=False, x_level=4) == b"7\r"


def test_cr_and_lf_come_from_the_registers() -> None:
    assert format_result(Result.OK, verbose=True, x_level=4, cr=b"#", lf=b"!") == b"#!OK#!"


@pytest.mark.parametrize(
    ("info", "rel", "verbose", "expected"),
    [
        (REL_9600, True, True, b"\r\nCONNECT 9600/REL\r\n"),
        (REL_9600, True, False, b"33\r"),
        (PLAIN_9600, True, True, b"\r\nCONNECT 9600\r\n"),
        (PLAIN_9600, True, False, b"32\r"),
        (REL_9600, False, True, b"\r\nCONNECT 9600\r\n"),  # \V0: standard codes
        (ConnectInfo(2400, True), True, False, b"23\r"),
        (ConnectInfo(4800, True), True, False, b"31\r"),
        (ConnectInfo(1200, False), True, False, b"5\r"),
    ],
)
def test_connect_messages_follow_the_microcom_table(
    info: ConnectInfo, rel: bool, verbose: bool, expected: bytes
) -> None:
    got = format_result(
        Result.CONNECT, verbose=verbose, x_level=4, connect=info, rel_codes=rel, table=MICROCOM
    )
    assert got == expected


def test_x0_reduces_every_connect_to_plain_connect() -> None:
    assert format_result(Result.CONNECT, verbose=True, x_level=0, connect=REL_9600) == (
        b"\r\nCONNECT\r\n"
    )
    assert format_result(Result.CONNECT, verbose=False, x_level=0, connect=REL_9600) == b"1\r"


@pytest.mark.parametrize(
    ("result", "levels_shown"),
    [
        (Result.BUSY, {3, 4}),
        (Result.NO_DIALTONE, {2, 4}),
        (Result.NO_ANSWER, {1, 2, 3, 4}),
        (Result.ERROR, {0, 1, 2, 3, 4}),
    ],
)
def test_x_levels_hide_codes_as_no_carrier(result: Result, levels_shown: set[int]) -> None:
    for level in range(5):
        expected = result if level in levels_shown else Result.NO_CARRIER
        assert visible_result(result, level) is expected


def test_every_line_rate_has_both_connect_forms() -> None:
    for rate in LINE_RATES:
        for reliable in (False, True):
            text = format_result(
                Result.CONNECT, verbose=True, x_level=4, connect=ConnectInfo(rate, reliable)
            )
            assert text.startswith(b"\r\nCONNECT")
            assert text.endswith(b"/REL\r\n") == reliable


def test_connect_without_a_link_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        format_result(Result.CONNECT, verbose=True, x_level=4)


def test_info_text_framing() -> None:
    assert format_info("043", verbose=True) == b"\r\n043\r\n"
    assert format_info("A\nB", verbose=False) == b"A\r\nB\r\n"
