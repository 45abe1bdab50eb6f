"""The named modem profiles: what a Rockwell, a Sportster or a Microcom modem answers.

A profile is data: its result-code table, the commands it takes and what each one sets,
its X-level call progress, its identification strings, its command-line limit and its
factory settings. The modem core (``dialup_sim.modem``) reads these and holds no vendor
knowledge of its own. docs/modem.md tables each profile with the manual it follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from dialup_sim.at_commands import BASE_COMMANDS
from dialup_sim.profile import ModemProfile
from dialup_sim.result_codes import HAYES, MICROCOM, USR, ResultTable

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Setting",
    "VendorProfile",
    "vendor_profile",
]

IDENTITY_SETTINGS: Final = "{settings}"  # ATIn that lists the active settings (USR ATI4)
IDENTITY_STORED: Final = "{stored}"  # ... the stored ones (USR ATI5)
IDENTITY_CALL: Final = "{call}"  # ... the current or last call (ATI6)

Setting = tuple[str, Mapping[int, int] | None]
"""A command's meaning: the ``ModemProfile`` field it sets and how its number maps to the
field's value (``None``: the number itself)."""

_SAME: Final = None

BASE_SETTINGS: Final[dict[str, Setting]] = {
    "E": ("echo", _SAME),
    "V": ("verbose", _SAME),
    "Q": ("quiet", _SAME),
    "X": ("x_level", _SAME),
    "L": ("volume", _SAME),
    "M": ("speaker", _SAME),
    "W": ("connect_form", _SAME),
    "&C": ("dcd_mode", _SAME),
    "&D": ("dtr_mode", _SAME),
    "&K": ("flow_control", {0: 0, 3: 3, 4: 4, 5: 4, 6: 3}),
    "\\N": ("error_control", {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 2}),
    "\\Q": ("flow_control", {0: 0, 1: 4, 2: 3, 3: 3}),
    "\\V": ("rel_codes", _SAME),
    "%C": ("compression", {0: 0, 1: 1, 2: 0, 3: 1}),
}


@dataclass(frozen=True, slots=True)
class VendorProfile:
    name: str
    title: str
    source: str  # the manual the tables follow
    results: ResultTable
    commands: Mapping[str, frozenset[int]]
    settings: Mapping[str, Setting]
    defaults: Mapping[str, int]  # factory value of each command, in AT&V order
    identity: Mapping[int, str]  # ATI0..ATI7
    max_line: int  # characters after AT, spaces not counted
    busy_levels: frozenset[int]  # X levels that listen for the busy tone
    dial_tone_levels: frozenset[int]  # X levels that wait for dial tone
    listing_registers: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
    no_answer_needs_quiet_dial: bool = False
    """``NO ANSWER`` only for a dial string with ``@`` (wait for quiet answer); a call that
    rings unanswered without it ends ``NO CARRIER`` after S7 (U.S. Robotics' table)."""

    def factory(self) -> ModemProfile:
        """The settings after ``AT&F``: every default applied through its meaning."""
        profile = ModemProfile()
        for name, value in self.defaults.items():
            self.apply(profile, name, value)
        return profile

    def apply(self, profile: ModemProfile, name: str, value: int) -> None:
        """Record ``name`` + ``value`` and act on it if the profile gives it a meaning."""
        profile.options[name] = value
        meaning = self.settings.get(name)
        if meaning is not None:
            field, mapping = meaning
            profile.set(field, value if mapping is None else mapping[value])

    def listing(self, profile: ModemProfile) -> str:
        """The ``AT&V`` (USR: ``ATI4``) listing of ``profile``."""
        names = list(self.defaults) + [n for n in profile.options if n not in self.defaults]
        flags = " ".join(f"{name}{profile.options.get(name, 0)}" for name in names)
        regs = " ".join(f"S{n:02d}:{profile.registers[n]:03d}" for n in self.listing_registers)
        return f"ACTIVE PROFILE:\n{flags}\n{regs}"

    def detects_busy(self, x_level: int) -> bool:
        return x_level in self.busy_levels

    def detects_dial_tone(self, x_level: int) -> bool:
        return x_level in self.dial_tone_levels


_HAYES_DEFAULTS: Final[dict[str, int]] = {
    "B": 0, "E": 1, "L": 2, "M": 1, "N": 1, "Q": 0, "V": 1, "W": 0, "X": 4, "Y": 0,
    "&C": 1, "&D": 2, "&G": 0, "&J": 0, "&K": 3, "&Q": 5, "&R": 1, "&S": 0, "&X": 0, "&Y": 0,
    "\\A": 3, "\\C": 0, "\\G": 0, "\\J": 0, "\\K": 5, "\\N": 3, "\\Q": 3, "\\V": 1, "\\X": 0,
    "%C": 1, "%E": 2,
}  # fmt: skip

HAYES_ROCKWELL: Final = VendorProfile(
    name="hayes",
    title="generic Hayes-compatible Rockwell V.32 modem with MNP 5 (1997)",
    source="Rockwell RC96/RC144 AT command reference; Hayes Smartmodem command set",
    results=HAYES,
    commands=BASE_COMMANDS,
    settings=BASE_SETTINGS,
    defaults=_HAYES_DEFAULTS,
    identity={
        0: "960",
        1: "167",
        2: "",
        3: "V1.100-V32 TELEDESPACHO RC9696/MNP5",
        4: "a0078402C4000000",
        5: "022",
        6: IDENTITY_CALL,
        7: "",
    },
    max_line=40,
    busy_levels=frozenset({3, 4}),
    dial_tone_levels=frozenset({2, 4}),
)

_USR_COMMANDS: Final[dict[str, frozenset[int]]] = {
    **BASE_COMMANDS,
    "F": frozenset({0, 1}),  # local echo online
    "X": frozenset(range(8)),
    "&A": frozenset(range(4)),  # ARQ result codes
    "&B": frozenset(range(3)),  # serial port rate fixed or variable
    "&F": frozenset(range(3)),  # factory templates
    "&H": frozenset(range(4)),  # transmit flow control
    "&I": frozenset(range(6)),  # receive software flow control
    "&K": frozenset(range(4)),  # data compression
    "&M": frozenset(range(6)),  # error control
    "&N": frozenset(range(11)),  # link rate
    "&R": frozenset(range(3)),  # receive hardware flow control
    "&S": frozenset(range(3)),
    "&U": frozenset(range(11)),
    "&Y": frozenset(range(4)),
}
_USR_SETTINGS: Final[dict[str, Setting]] = {
    **BASE_SETTINGS,
    "&A": ("rel_codes", {0: 0, 1: 1, 2: 1, 3: 1}),
    "&H": ("flow_control", {0: 0, 1: 3, 2: 4, 3: 3}),
    "&K": ("compression", {0: 0, 1: 1, 2: 1, 3: 1}),
    "&M": ("error_control", {0: 0, 1: 1, 2: 0, 3: 0, 4: 3, 5: 2}),
}
_USR_DEFAULTS: Final[dict[str, int]] = {
    "B": 0, "E": 1, "F": 1, "M": 1, "Q": 0, "V": 1, "X": 1, "&A": 1, "&B": 1, "&C": 1,
    "&D": 2, "&G": 0, "&H": 1, "&I": 0, "&K": 1, "&L": 0, "&M": 4, "&N": 0, "&P": 0, "&R": 2,
    "&S": 0, "&T": 5, "&U": 0, "&Y": 1,
}  # fmt: skip

USR_SPORTSTER: Final = VendorProfile(
    name="sportster",
    title="U.S. Robotics Sportster 14,400 Fax (1994-1997)",
    source="U.S. Robotics Sportster 14,400 command summary (1993): ATI0-I7, F1 B0 M1 defaults; "
    "U.S. Robotics Courier V.34 user's manual: result-code table (same USR numbering)",
    results=USR,
    commands=_USR_COMMANDS,
    settings=_USR_SETTINGS,
    defaults=_USR_DEFAULTS,
    identity={  # I0 product code (three digits), I1 ROM and I2 RAM checksums, I3 reserved
        0: "144",
        1: "8A4E",
        2: "C3D1",
        3: "",
        4: IDENTITY_SETTINGS,
        5: IDENTITY_STORED,
        6: IDENTITY_CALL,
        7: "Product type  US/Canada External\nOptions       V32bis,V.42bis,MNP\n"
        "Clock Freq    20.16Mhz\nEPROM         128k\nRAM           32k",
    },
    max_line=56,
    busy_levels=frozenset({3, 4, 5, 6, 7}),
    dial_tone_levels=frozenset({2, 4, 6, 7}),
    no_answer_needs_quiet_dial=True,
)

_MICROCOM_DEFAULTS: Final[dict[str, int]] = {
    "B": 0, "E": 1, "L": 2, "M": 1, "Q": 0, "V": 1, "X": 4, "&C": 1, "&D": 2, "&K": 3,
    "\\A": 3, "\\C": 0, "\\G": 0, "\\J": 0, "\\K": 5, "\\N": 3, "\\Q": 3, "\\T": 0, "\\V": 1,
    "%C": 1,
}  # fmt: skip

MICROCOM_MNP: Final = VendorProfile(
    name="microcom",
    title="Microcom MNP modem (QX series command set)",
    source="Microcom MNP command summary (FLASHLINK MNP_CMDS.TXT); Microcom result-code table",
    results=MICROCOM,
    commands=BASE_COMMANDS,
    settings=BASE_SETTINGS,
    defaults=_MICROCOM_DEFAULTS,
    identity={
        0: "960",
        1: "167",
        2: "",
        3: "TELEDESPACHO DIALUP_SIM 9600 MNP",
        4: "MNP CLASS 4 5",
        5: "",
        6: IDENTITY_CALL,
        7: "",
    },
    max_line=40,
    busy_levels=frozenset({3, 4}),
    dial_tone_levels=frozenset({2, 4}),
)

PROFILES: Final[dict[str, VendorProfile]] = {
    p.name: p for p in (HAYES_ROCKWELL, USR_SPORTSTER, MICROCOM_MNP)
}
DEFAULT_PROFILE: Final = HAYES_ROCKWELL


def vendor_profile(name: str) -> VendorProfile:
    """The profile called ``name`` (``ValueError`` naming the choices otherwise)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"no modem profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None
