"""Segment tables of the messages this gateway reads and writes, as data.

Source: UN/EDIFACT Directory D.96B (UNTDID, UN/ECE, 1996), message type specifications CUSDEC
(Customs declaration message) and CUSRES (Customs response message), section 4.3.1 "Segment
table": tag, status (M mandatory, C conditional) and maximum repetitions of each segment and
segment group, groups numbered in order of appearance as the directory numbers them. UNH and
UNT are left out: the envelope reader (``syntax``) checks them. CONTRL is the syntax and
service report message of ISO 9735 (service directory for syntax version 3, message
CONTRL 2.2), used to answer interchanges that cannot be read.

The repetition counts were cross-checked against an independent machine-readable
transcription of the same directory. A ``Segment`` is one line of a table; a ``Group`` is a
segment group, its first entry the trigger segment (mandatory in every group).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["CONTRL_TABLE", "CUSDEC_TABLE", "CUSRES_TABLE", "Entry", "Group", "Segment"]


@dataclass(frozen=True, slots=True)
class Segment:
    tag: str
    mandatory: bool
    max: int


@dataclass(frozen=True, slots=True)
class Group:
    number: int
    mandatory: bool
    max: int
    entries: tuple[Entry, ...]

    @property
    def trigger(self) -> str:
        first = self.entries[0]
        assert isinstance(first, Segment)
        return first.tag


Entry = Segment | Group


def M(tag: str, repeat: int = 1) -> Segment:
    return Segment(tag, True, repeat)


def C(tag: str, repeat: int = 1) -> Segment:
    return Segment(tag, False, repeat)


def SG(number: int, status: str, repeat: int, *entries: Entry) -> Group:
    return Group(number, status == "M", repeat, entries)


CUSDEC_TABLE: Final[tuple[Entry, ...]] = (
    M("BGM"),
    C("CST"),
    C("LOC", 99),
    C("DTM", 15),
    C("GIS", 25),
    C("FII"),
    C("MEA", 5),
    C("EQD", 999),
    C("SEL", 999),
    C("FTX", 99),
    SG(
        1,
        "C",
        99,
        M("RFF"),
        C("DTM"),
        SG(2, "C", 10, M("PAC"), SG(3, "C", 999, M("PCI"), C("FTX"))),
    ),
    SG(4, "C", 5, M("TDT"), C("TPL")),
    SG(5, "C", 10, M("DOC"), C("DTM", 2), C("LOC")),
    SG(6, "C", 10, M("NAD"), C("RFF", 10), C("CTA"), C("COM", 5)),
    SG(7, "C", 1, M("TOD"), C("LOC", 2), C("FTX")),
    SG(8, "C", 25, M("MOA"), SG(9, "C", 1, M("CUX"), C("DTM"))),
    M("UNS"),
    SG(
        10,
        "C",
        999,
        M("DMS"),
        C("DTM"),
        C("MEA", 5),
        SG(11, "C", 25, M("MOA"), SG(12, "C", 1, M("CUX"), C("DTM"))),
        SG(13, "C", 1, M("TOD"), C("LOC", 2), C("FTX")),
        SG(14, "C", 10, M("NAD"), SG(15, "C", 10, M("DOC"), C("DTM", 2), C("LOC"))),
        SG(16, "C", 10, M("PAC"), SG(17, "C", 999, M("PCI"), C("FTX"), C("RFF"))),
        SG(18, "C", 5, M("PAT"), C("MOA"), C("PCD"), C("FTX")),
        SG(
            19,
            "C",
            10,
            M("ALC"),
            C("RTE"),
            C("MOA"),
            C("PCD"),
            C("QTY"),
            SG(20, "C", 1, M("CUX"), C("DTM")),
        ),
        SG(
            21,
            "C",
            9999,
            M("LIN"),
            C("PIA"),
            C("QTY"),
            C("PRI", 2),
            C("PCD"),
            C("MEA", 5),
            C("QVR", 5),
            C("MOA", 15),
            C("NAD", 10),
            C("GIR", 9999),
            SG(22, "C", 10, M("DOC"), C("DTM", 2)),
            SG(
                23,
                "C",
                10,
                M("ALC"),
                C("RTE"),
                C("MOA"),
                C("PCD"),
                C("QTY"),
                SG(24, "C", 1, M("CUX"), C("DTM")),
            ),
            SG(25, "C", 1, M("TOD"), C("LOC", 2)),
            SG(26, "C", 5, M("PAT"), C("MOA"), C("PCD"), C("FTX")),
            SG(27, "C", 5, M("IMD"), C("FTX")),
            SG(28, "C", 10, M("PAC"), SG(29, "C", 999, M("PCI"), C("FTX"), C("RFF"))),
        ),
    ),
    SG(
        30,
        "C",
        9999,
        M("CST"),
        C("FTX", 9),
        C("LOC", 25),
        C("DTM", 5),
        C("MEA", 20),
        C("NAD", 5),
        C("TDT", 9),
        SG(31, "C", 10, M("PAC"), SG(32, "C", 999, M("PCI"), C("FTX"))),
        SG(33, "C", 25, M("MOA"), SG(34, "C", 1, M("CUX"), C("DTM"))),
        SG(
            35,
            "C",
            999,
            M("RFF"),
            C("DTM"),
            C("GIN", 99),
            C("MOA"),
            SG(36, "C", 1, M("IMD"), C("FTX", 5)),
        ),
        SG(37, "C", 25, M("DOC"), C("DTM", 2), C("LOC"), C("NAD", 5)),
        SG(38, "C", 1, M("TOD"), C("LOC", 2), C("FTX")),
        SG(39, "C", 1, M("GDS"), C("FTX")),
        SG(40, "C", 25, M("GIS"), C("PCD"), C("DTM"), C("RFF")),
        SG(41, "C", 10, M("TAX"), C("MOA", 2), C("GIS")),
        SG(42, "C", 1, M("QVR"), C("QTY"), SG(43, "C", 1, M("RFF"), C("DTM"))),
        SG(
            44,
            "C",
            50,
            M("GIR"),
            C("GIS", 10),
            C("NAD"),
            C("MEA", 5),
            SG(45, "C", 10, M("MOA"), SG(46, "C", 1, M("CUX"), C("DTM"))),
            SG(47, "C", 10, M("TAX"), C("MOA", 2), C("GIS")),
            SG(48, "C", 5, M("DOC"), C("DTM", 2), C("LOC")),
        ),
    ),
    M("UNS"),
    C("CNT", 5),
    SG(49, "C", 50, M("TAX"), C("MOA", 2), C("GIS")),
    SG(50, "C", 1, M("AUT"), C("DTM")),
)
"""CUSDEC D.96B (UNTDID D.96B, CUSDEC 4.3.1), between UNH and UNT."""

CUSRES_TABLE: Final[tuple[Entry, ...]] = (
    M("BGM"),
    C("DTM", 9),
    C("FTX", 9),
    C("TDT", 9),
    C("LOC", 99),
    C("GIS", 10),
    C("EQD", 999),
    SG(1, "C", 9, M("NAD"), SG(2, "C", 9, M("CTA"), C("COM", 9))),
    SG(3, "C", 999, M("RFF"), C("DTM", 9), C("LOC", 9)),
    SG(4, "C", 99, M("ERP"), C("RFF", 9), C("ERC", 99), C("FTX", 99)),
    SG(5, "C", 99, M("TAX"), C("MOA", 99), C("GIS", 99)),
    SG(
        6,
        "C",
        9999,
        M("DOC"),
        C("PAC", 9),
        C("RFF", 9),
        C("PCI", 9),
        C("FTX", 9),
        C("TDT", 9),
        C("LOC", 9),
        C("DTM", 9),
        C("GIS", 9),
        C("MEA", 99),
        C("EQD", 999),
        SG(7, "C", 9, M("NAD"), SG(8, "C", 9, M("CTA"), C("COM", 9))),
        SG(9, "C", 99, M("MOA"), C("CUX", 9)),
        SG(
            10,
            "C",
            9999,
            M("CST"),
            C("FTX", 9),
            SG(11, "C", 99, M("TAX"), C("MOA", 99), C("GIS", 99), C("MEA", 9), C("RFF", 9)),
        ),
        SG(12, "C", 9999, M("ERP"), C("RFF", 9), C("ERC", 99), C("FTX", 9)),
    ),
    C("CNT", 9),
    SG(13, "C", 9, M("AUT"), C("DTM", 9)),
)
"""CUSRES D.96B (UNTDID D.96B, CUSRES 4.3.1), between UNH and UNT."""

CONTRL_TABLE: Final[tuple[Entry, ...]] = (
    M("UCI"),
    SG(1, "C", 999999, M("UCM"), SG(2, "C", 999, M("UCS"), C("UCD", 99))),
    SG(
        3,
        "C",
        999999,
        M("UCF"),
        SG(4, "C", 999999, M("UCM"), SG(5, "C", 999, M("UCS"), C("UCD", 99))),
    ),
)
"""CONTRL 2.2 (ISO 9735 syntax version 3 service messages), between UNH and UNT."""
