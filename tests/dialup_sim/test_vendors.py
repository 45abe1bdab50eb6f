"""The named profiles: each one's result codes, X levels, init strings, identity, limits."""

from __future__ import annotations

import pytest

from dialup_sim.events import DialOutcome
from dialup_sim.line import MnpLevel
from dialup_sim.modem import Mode
from dialup_sim.result_codes import ConnectInfo, Result, format_result, visible_result
from dialup_sim.vendors import DEFAULT_PROFILE, PROFILES, VendorProfile, vendor_profile
from tests.dialup_sim.harness import ModemHarness

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
HAYES, SPORTSTER, MICROCOM = (PROFILES[n] for n in ("hayes", "sportster", "microcom"))

# What each manual's table says (written out here, not read back from the tables).
BASIC = {
    "hayes": {
        Result.OK: (0, "OK"),
        Result.CONNECT: (1, "CONNECT"),
        Result.RING: (2, "RING"),
        Result.NO_CARRIER: (3, "NO CARRIER"),
        Result.ERROR: (4, "ERROR"),
        Result.NO_DIALTONE: (6, "NO DIALTONE"),
        Result.BUSY: (7, "BUSY"),
        Result.NO_ANSWER: (8, "NO ANSWER"),
    },
}
BASIC["microcom"] = BASIC["hayes"]
BASIC["sportster"] = {**BASIC["hayes"], Result.NO_DIALTONE: (6, "NO DIAL TONE")}

# (profile, rate, reliable) -> numeric code, verbal text (rel codes on: \V1 / &A1)
CONNECTS = [
    ("hayes", 1200, False, 5, "CONNECT 1200"),
    ("hayes", 2400, False, 10, "CONNECT 2400"),
    ("hayes", 4800, False, 11, "CONNECT 4800"),
    ("hayes", 7200, False, 13, "CONNECT 7200"),
    ("hayes", 9600, False, 12, "CONNECT 9600"),
    ("hayes", 9600, True, 12, "CONNECT 9600/REL"),
    ("hayes", 14400, True, 15, "CONNECT 14400/REL"),
    ("sportster", 1200, False, 5, "CONNECT 1200"),
    ("sportster", 2400, True, 10, "CONNECT 2400/ARQ"),
    ("sportster", 4800, False, 18, "CONNECT 4800"),
    ("sportster", 7200, False, 20, "CONNECT 7200"),
    ("sportster", 9600, False, 13, "CONNECT 9600"),
    ("sportster", 9600, True, 13, "CONNECT 9600/ARQ"),
    ("sportster", 12000, True, 21, "CONNECT 12000/ARQ"),
    ("sportster", 14400, True, 25, "CONNECT 14400/ARQ"),
    ("microcom", 2400, True, 23, "CONNECT 2400/REL"),
    ("microcom", 9600, False, 32, "CONNECT 9600"),
    ("microcom", 9600, True, 33, "CONNECT 9600/REL"),
]

# Results each X level reports besides OK, CONNECT, RING, NO CARRIER and ERROR.
HAYES_X = {
    0: set(),
    1: {Result.NO_ANSWER},
    2: {Result.NO_ANSWER, Result.NO_DIALTONE},
    3: {Result.NO_ANSWER, Result.BUSY},
    4: {Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE},
}
X_SHOWN = {
    "hayes": HAYES_X,
    "microcom": HAYES_X,
    "sportster": {
        **HAYES_X,
        5: {Result.NO_ANSWER, Result.BUSY},
        6: {Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE},
        7: {Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE},
    },
}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_result_at_every_x_level_numeric_and_verbal(name: str) -> None:
    profile = PROFILES[name]
    levels = X_SHOWN[name]
    assert list(profile.results.x_levels) == sorted(levels)
    for level, extras in levels.items():
        for result, (code, text) in BASIC[name].items():
            if result is Result.CONNECT:
                continue
            always = {Result.OK, Result.RING, Result.NO_CARRIER, Result.ERROR}
            shown = result if result in always | extras else Result.NO_CARRIER
            code, text = BASIC[name][shown]
            table = profile.results
            assert visible_result(result, level, table) is shown
            verbal = format_result(result, verbose=True, x_level=level, table=table)
            numeric = format_result(result, verbose=False, x_level=level, table=table)
            assert verbal == b"\r\n" + text.encode() + b"\r\n"
            assert numeric == str(code).encode() + b"\r"


@pytest.mark.parametrize(("name", "rate", "reliable", "code", "text"), CONNECTS)
def test_connect_codes_of_each_profile(
    name: str, rate: int, reliable: bool, code: int, text: str
) -> None:
    table = PROFILES[name].results
    info = ConnectInfo(rate, reliable)
    for level in table.x_levels:
        verbal = format_result(
            Result.CONNECT, verbose=True, x_level=level, connect=info, table=table
        )
        numeric = format_result(
            Result.CONNECT, verbose=False, x_level=level, connect=info, table=table
        )
        if level == 0:
            assert (verbal, numeric) == (b"\r\nCONNECT\r\n", b"1\r")
        else:
            assert (verbal, numeric) == (f"\r\n{text}\r\n".encode(), f"{code}\r".encode())


def test_the_default_is_the_hayes_rockwell_modem() -> None:
    assert DEFAULT_PROFILE is HAYES
    assert vendor_profile("sportster") is SPORTSTER
    with pytest.raises(ValueError, match="hayes, sportster, microcom"):
        vendor_profile("zyxel")


def connected(vendor: VendorProfile, setup: str = "", **options: object) -> ModemHarness:
    dte = ModemHarness(vendor=vendor, **options)
    dte.command("ATE0" + setup)
    dte.screen.clear()
    dte.dial_and_connect()
    return dte


@pytest.mark.parametrize(
    ("vendor", "setup", "screen"),
    [
        (HAYES, "V0", b"12\r"),  # was 33: Microcom's number under a Hayes label
        (HAYES, "V0\\V0", b"12\r"),
        (HAYES, "\\V0", b"\r\nCONNECT 9600\r\n"),
        (HAYES, "", b"\r\nCONNECT 9600/REL\r\n"),
        (SPORTSTER, "V0", b"13\r"),
        (SPORTSTER, "", b"\r\nCONNECT 9600/ARQ\r\n"),
        (SPORTSTER, "&A0", b"\r\nCONNECT 9600\r\n"),
        (SPORTSTER, "&M0", b"\r\nCONNECT 9600\r\n"),
        (MICROCOM, "V0", b"33\r"),
        (MICROCOM, "V0\\V0", b"32\r"),
    ],
)
def test_a_9600_call_answers_with_the_profiles_code(
    vendor: VendorProfile, setup: str, screen: bytes
) -> None:
    assert connected(vendor, setup).screen == screen


def test_usr_k_is_compression_and_m_is_error_control() -> None:
    dte = connected(SPORTSTER, "&K0")
    assert dte.modem.connect_info == ConnectInfo(9600, reliable=True, compression=False)
    dte = connected(SPORTSTER, "&M0")
    assert dte.modem.connect_info == ConnectInfo(9600, reliable=False)
    assert dte.modem.profile.flow_control == 3  # &H1 &R2: hardware flow control


def test_usr_x1_waits_out_s7_on_busy_and_x3_hears_it() -> None:
    dte = ModemHarness(vendor=SPORTSTER)
    dte.command("ATE0S7=20")
    dte.screen.clear()
    dte.command("ATDT0800", at=0.0)
    dte.answer(DialOutcome.BUSY)
    assert dte.advance(19.9) == b""
    assert dte.advance(20.0) == b"\r\nNO CARRIER\r\n"
    dte.command("ATX3DT0800", at=30.0)
    dte.answer(DialOutcome.BUSY)
    assert dte.advance(40.0).endswith(b"\r\nBUSY\r\n")


# Rockwell's CARRIER codes and the CONNECT code at each rate, as the Westermo TD-22 manual's
# table (40-47) and a Rockwell-based Tandy 14,400 fax modem's result-code sheet (faxback
# 3252: CONNECT 7200 = 13, 14400 = 15, CARRIER from 40) give them.
ROCKWELL_CARRIER = [
    (300, 40, 1),
    (1200, 46, 5),
    (2400, 47, 10),
    (4800, 48, 11),
    (7200, 49, 13),
    (9600, 50, 12),
    (12000, 51, 14),
    (14400, 52, 15),
]


@pytest.mark.parametrize(("rate", "carrier", "connect"), ROCKWELL_CARRIER)
def test_rockwell_carrier_codes_at_every_rate(rate: int, carrier: int, connect: int) -> None:
    dte = connected(HAYES, "W1V0", bps=rate)
    assert dte.screen == f"{carrier}\r82\r66\r{connect}\r".encode()  # 66 COMPRESSION: CLASS 5
    dte = connected(HAYES, "W1\\N0", bps=rate)
    words = "CONNECT" if rate == 300 else f"CONNECT {rate}"  # code 1 is 300 bps
    assert (
        dte.screen
        == (
            f"\r\nCARRIER {rate}\r\n\r\nPROTOCOL: NONE\r\n\r\nCOMPRESSION: NONE\r\n\r\n{words}\r\n"
        ).encode()
    )


def test_w1_adds_rockwells_carrier_protocol_and_compression_messages() -> None:
    assert connected(HAYES, "W1").screen == (
        b"\r\nCARRIER 9600\r\n\r\nPROTOCOL: ALTERNATE, +CLASS 4\r\n"
        b"\r\nCOMPRESSION: CLASS 5\r\n\r\nCONNECT 9600/REL\r\n"
    )
    assert connected(HAYES, "W1V0").screen == b"50\r82\r66\r12\r"
    plain = connected(HAYES, "W1", remote_mnp=MnpLevel.NONE).screen
    assert b"PROTOCOL: NONE" in plain and b"COMPRESSION: NONE" in plain


def test_w0_reports_the_locked_dte_rate_and_w2_the_line_rate() -> None:
    assert connected(HAYES, "W0V0", dte_bps=38400).screen == b"17\r"
    assert connected(HAYES, "W0", dte_bps=38400).screen == b"\r\nCONNECT 38400/REL\r\n"
    assert connected(HAYES, "W2V0", dte_bps=38400).screen == b"12\r"


# Init strings.

INIT_STRINGS = {
    # Rockwell reference: factory, echo, verbose, X4, DCD/DTR, RTS/CTS, MNP 5, W2, CCITT.
    "hayes": ["AT&F E1 V1 Q0 X4 &C1 &D2 &K3 \\N3 %C1 W2 B0 S0=0 S7=60"],
    # Sportster manual: AT&F1 is the hardware flow control template; &A3 full result codes.
    "sportster": ["AT&F1 E1 V1 Q0 X4 &A3 &B1 &C1 &D2 &H1 &I0 &K1 &M4 &R2 S0=0"],
    # Microcom MNP commands: auto-reliable, MNP 5, RTS/CTS, fixed DTE rate, REL messages.
    "microcom": ["AT&F E1 V1 X4 &C1 &D2 \\N3 %C1 \\Q3 \\J0 \\V1 \\C0 \\A3"],
}
ISSUE_COMMANDS = [
    "ATB0", "ATW0", "ATW2", "AT&S0", "AT&C1", "AT&D2", "AT&K3", "ATN1", "ATL", "ATM",
    "AT%C", "AT\\N", "AT\\N0", "AT\\N1", "AT\\N2", "AT\\N3", "AT\\N4", "AT\\N5",
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_the_manuals_init_string_gets_ok(name: str) -> None:
    dte = ModemHarness(vendor=PROFILES[name])
    dte.command("ATE0")
    for line in INIT_STRINGS[name]:
        assert dte.command(line) == OK, line


@pytest.mark.parametrize("line", ISSUE_COMMANDS)
def test_init_commands_of_the_era_get_ok_and_show_in_at_v(line: str) -> None:
    dte = ModemHarness()
    dte.command("ATE0")
    assert dte.command(line) == OK
    listing = dte.command("AT&V").decode()
    command = line[2:]
    if command[-1:].isalpha():
        command += "0"
    assert command in listing.split(), listing


def test_at_v_lists_what_was_set() -> None:
    dte = ModemHarness()
    dte.command("ATE0")
    dte.command("ATB1 &S1 N0 W2 \\N2")
    listing = dte.command("AT&V").decode().split()
    assert {"B1", "&S1", "N0", "W2", "\\N2", "E0"} <= set(listing)


@pytest.mark.parametrize(("vendor", "limit"), [(HAYES, 40), (SPORTSTER, 56), (MICROCOM, 40)])
def test_command_line_limit(vendor: VendorProfile, limit: int) -> None:
    dte = ModemHarness(vendor=vendor)
    dte.command("ATE0")
    chunks = ["S7=50"] * (limit // 5) + ["E"] * (limit % 5)
    fits = "".join(chunks)
    assert len(fits) == limit
    assert dte.command("AT" + fits) == OK
    assert dte.command("AT " + " ".join(chunks)) == OK  # spaces do not count
    assert dte.command("AT" + fits + "E") == ERROR


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_ati0_to_ati7_answer_and_ati6_reports_the_current_call(name: str) -> None:
    dte = ModemHarness(vendor=PROFILES[name])
    dte.command("ATE0")
    for n in range(8):
        assert dte.command(f"ATI{n}").endswith(OK), n
    assert dte.command("ATI8") == ERROR
    dte.dial_and_connect()
    dte.type(b"HELO agent\r\n", at=dte.now + 1.0)
    dte.advance(dte.now + 2.0)
    dte.type(b"+++", at=dte.now + 2.0)
    dte.advance(dte.now + 2.0)
    assert dte.mode() is Mode.ONLINE_COMMAND
    report = dte.command("ATI6").decode()
    assert report.startswith("\r\nCURRENT CALL\r\nNUMBER 0800\r\n")
    assert "SENT 15\r\n" in report  # HELO line and the three escape pluses
    dte.command("ATH")
    assert dte.command("ATI6").startswith(b"\r\nLAST CALL\r\n")


def test_a_line_of_spaces_is_still_bounded() -> None:
    dte = ModemHarness()
    dte.command("ATE0")
    assert dte.command("AT" + " " * 10_000 + "E0") == ERROR
    assert len(dte.modem._line) <= 255


# U.S. Robotics, from the two manuals docs/modem.md cites.


def test_usr_no_answer_is_for_a_dial_with_the_quiet_answer_modifier() -> None:
    """Courier V.34 manual: 8 NO ANSWER comes with the @ dial modifier; without it a call
    that rings unanswered waits out S7 and ends NO CARRIER."""
    dte = ModemHarness(vendor=SPORTSTER)
    dte.command("ATE0X4S7=20")
    dte.screen.clear()
    dte.command("ATDT0800", at=0.0)
    dte.answer(DialOutcome.RING_NO_ANSWER)
    assert dte.advance(19.9) == b""
    assert dte.advance(20.0) == b"\r\nNO CARRIER\r\n"
    dte.command("ATDT0800@", at=30.0)
    dte.answer(DialOutcome.RING_NO_ANSWER)
    assert dte.advance(50.0) == b"\r\nNO ANSWER\r\n"
    dte.command("ATV0DT0800@", at=60.0)
    dte.answer(DialOutcome.RING_NO_ANSWER)
    assert dte.advance(80.0) == b"8\r"


def test_hayes_still_answers_no_answer_to_a_plain_dial() -> None:
    dte = ModemHarness(vendor=HAYES)
    dte.command("ATE0X4S7=20")
    dte.screen.clear()
    dte.command("ATDT0800", at=0.0)
    dte.answer(DialOutcome.RING_NO_ANSWER)
    assert dte.advance(20.0) == b"\r\nNO ANSWER\r\n"


def test_sportster_identification_follows_the_command_summary() -> None:
    """Sportster 14,400 command summary (1993): I0 three-digit product code, I1 ROM and I2
    RAM checksums, I3 and I6 reserved (the simulator's I6 is its call report), I4 current
    settings, I5 NVRAM settings, I7 product configuration."""
    dte = ModemHarness(vendor=SPORTSTER)
    dte.command("ATE0")

    def info(n: int) -> str:
        answer = dte.command(f"ATI{n}").decode()
        assert answer.endswith("\r\nOK\r\n"), n
        return answer.removesuffix("\r\nOK\r\n").strip()

    assert info(0).isdigit() and len(info(0)) == 3
    for checksum in (info(1), info(2)):
        assert len(checksum) == 4 and int(checksum, 16) >= 0
    assert info(3) == ""
    current = info(4)
    assert current.startswith("ACTIVE PROFILE:")
    assert {"F1", "B0", "M1"} <= set(current.split())  # the factory defaults it names
    dte.command("ATF0")
    assert "F0" in info(4).split() and "F1" in info(5).split()  # I5: what NVRAM holds
    assert info(5).startswith("STORED PROFILE:")
    assert "Product type" in info(7)
