"""The frame machine that walks a CUSDEC message, and what its segment handlers share.

A segment belongs to the innermost open frame (header, a group, the detail section, a customs
item, its control documents) that knows its tag, and must come in that frame's order, as a
segment table says. Segments of D.96B that this guide does not use (SEL, TOD, TAX groups,
commercial LIN groups...) are skipped with their children. Handlers (``cusdec_header``,
``cusdec_detail``) fill plain dicts, recording where each value came from, so that a value the
model refuses is reported at its segment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from edi_formats.edifact import codes as c
from edi_formats.edifact.segments import EdiSegment
from edi_formats.edifact.values import (
    FTX_PART,
    decimal_value,
    integer_value,
    text_value,
)
from edi_formats.errors import DeclarationSyntaxError

__all__ = [
    "CONTROL_RANK",
    "DOCUMENT_RANK",
    "HEADER_RANK",
    "ITEM_RANK",
    "PARTY_RANK",
    "Frame",
    "Handler",
    "Path",
    "Reader",
    "dollars",
    "error",
    "flag",
    "foreign_party",
    "frame_target",
    "manifest",
    "only",
    "party_fields",
    "unmapped",
    "weight",
]

Path = tuple[str | int, ...]
Handler = Callable[["Reader", EdiSegment], None]

HEADER_RANK: Final = {
    tag: rank
    for rank, tag in enumerate(
        (
            "BGM",
            "CST",
            "LOC",
            "DTM",
            "GIS",
            "FII",
            "MEA",
            "EQD",
            "FTX",
            "PAC",
            "TDT",
            "NAD",
            "MOA",
            "DOC",
        ),
        start=1,
    )
}
ITEM_RANK: Final = {
    tag: rank
    for rank, tag in enumerate(
        ("FTX", "LOC", "MEA", "QTY", "PAC", "MOA", "GIS", "RFF", "DOC"), start=1
    )
}
DOCUMENT_RANK: Final = {
    tag: rank
    for rank, tag in enumerate(("DTM", "MOA", "GIS", "RFF", "NAD", "CTA", "COM", "FTX"), start=1)
}
CONTROL_RANK: Final = {"GIS": 1, "DTM": 2}
PARTY_RANK: Final = {"CTA": 1, "COM": 2}

_SKIPPED: Final = frozenset(
    {"SEL", "TPL", "PCI", "PIA", "IMD", "GIR", "PRI", "ALI", "PCD", "DGS", "EQA", "ICD", "AUT"}
)
"""D.96B segments this guide does not use, skipped wherever they appear."""

_LINE_CHILDREN: Final = frozenset(
    {
        "PIA",
        "IMD",
        "MEA",
        "QTY",
        "GIR",
        "FTX",
        "MOA",
        "PRI",
        "ALI",
        "DTM",
        "LOC",
        "RFF",
        "TAX",
        "GIS",
        "PCD",
        "NAD",
        "DOC",
        "PAC",
        "PCI",
        "CUX",
    }
)
_SKIPPED_GROUPS: Final[dict[str, dict[str, frozenset[str]]]] = {
    "header": {
        "RFF": frozenset({"DTM"}),
        "TAX": frozenset({"MOA", "GIS"}),
        "CPI": frozenset({"RFF", "CUX", "LOC", "MOA"}),
        "TOD": frozenset({"LOC", "FTX"}),
        "CUX": frozenset({"DTM"}),
    },
    "detail": {"LIN": _LINE_CHILDREN},
    "summary": {"TAX": frozenset({"MOA", "GIS"})},
    "item": {
        "TAX": frozenset({"MOA", "GIS"}),
        "CPI": frozenset({"RFF", "CUX", "LOC", "MOA"}),
        "TOD": frozenset({"LOC", "FTX"}),
        "CUX": frozenset({"DTM"}),
        "LIN": _LINE_CHILDREN,
    },
}
"""Groups skipped with their children, by the frame they may open in."""

_SKIP_TABLE: Final = {
    "header": "header",
    "party": "header",
    "manifest": "header",
    "transport": "header",
    "invoice": "header",
    "insurance": "header",
    "detail": "detail",
    "item": "item",
    "control": "item",
    "summary": "summary",
}
"""Which table of skipped groups applies inside each kind of frame."""


def error(code: str, message: str, where: str | None) -> DeclarationSyntaxError:
    return DeclarationSyntaxError(code, message, where)


def unmapped(segment: EdiSegment, detail: str) -> DeclarationSyntaxError:
    return error(
        "EDI-SEGMENT",
        f"no se puede asignar {segment.tag}: {detail} "
        "(docs/edifact.md dice qué lleva cada segmento)",
        segment.where(),
    )


@dataclass
class Frame:
    name: str
    ranks: dict[str, int]
    target: dict[str, Any]
    kind: str
    rank: int = 0
    skip: frozenset[str] | None = None
    """Set for a skipped group: the children swallowed with it."""


@dataclass
class Reader:
    document_type: str
    handlers: dict[tuple[str, str], Handler]
    root: dict[str, Any] = field(default_factory=dict)
    where: dict[Path, str] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    seen: set[tuple[int, str]] = field(default_factory=set)
    texts: dict[tuple[int, str], str] = field(default_factory=dict)
    zone: str = "header"

    @property
    def dua(self) -> bool:
        return self.document_type == "DUA"

    # -- bookkeeping ---------------------------------------------------------------------------

    def once(self, target: dict[str, Any], key: str, segment: EdiSegment, what: str) -> None:
        marker = (id(target), key)
        if marker in self.seen:
            raise error("EDI-SEGMENT", f"{what} repetido", segment.where())
        self.seen.add(marker)

    def put(self, target: dict[str, Any], key: str, value: Any, path: Path, where: str) -> None:
        """Set ``target[key]`` (None leaves it unset, so the model reports it missing)."""
        self.where[path] = where
        if value is not None:
            target[key] = value

    def path_of(self, target: dict[str, Any]) -> Path:
        return tuple(target["__path__"])

    def add_text(self, target: dict[str, Any], key: str, segment: EdiSegment, what: str) -> None:
        pieces = [
            text_value(segment, 4, number, max_length=FTX_PART, what=what) or ""
            for number in range(1, len(segment.components(4)) + 1)
        ]
        text = "".join(pieces)
        if not text:
            raise error("EDI-VALUE", f"{what}: FTX sin texto (elemento 4)", segment.where(4))
        marker = (id(target), key)
        self.texts[marker] = self.texts.get(marker, "") + text
        path = (*self.path_of(target), key)
        self.where.setdefault(path, segment.where(4))
        target[key] = self.texts[marker]

    def coded(self, segment: EdiSegment, element: int, *, max_length: int = 3) -> tuple[str, str]:
        """(value, code list) of a ``value:LIST:ZZZ`` composite."""
        value = text_value(segment, element, 1, max_length=max_length, what="código") or ""
        code_list = segment.get(element, 2)
        agency = segment.get(element, 3)
        if agency not in ("", c.MUTUALLY_DEFINED):
            raise error(
                "EDI-VALUE",
                f"agencia {agency!r} no prevista: los códigos de SUNAT van con la agencia ZZZ",
                segment.where(element, 3),
            )
        if not value:
            raise error("EDI-VALUE", "falta el código", segment.where(element, 1))
        return value, code_list

    # -- frames --------------------------------------------------------------------------------

    def push(self, frame: Frame) -> None:
        self.frames.append(frame)

    def feed(self, segment: EdiSegment) -> None:
        for depth in range(len(self.frames) - 1, -1, -1):
            frame = self.frames[depth]
            if frame.skip is not None:
                if segment.tag in frame.skip:
                    return
                continue
            rank = frame.ranks.get(segment.tag)
            if rank is None:
                continue
            if rank < frame.rank and frame.kind == "header" and segment.tag == "CST":
                raise error(
                    "EDI-SEGMENT",
                    "falta UNS+D antes de la primera serie: el CST de una serie va en la "
                    "sección de detalle",
                    segment.where(),
                )
            if rank < frame.rank:
                raise error(
                    "EDI-SEGMENT",
                    f"{segment.tag} fuera de orden: en {frame.name} va antes que los segmentos "
                    "que lo preceden",
                    segment.where(),
                )
            del self.frames[depth + 1 :]
            frame.rank = rank
            self.handlers[(frame.kind, segment.tag)](self, segment)
            return
        if segment.tag in _SKIPPED:
            return
        if segment.tag == "UNS":
            self.section(segment)
            return
        if segment.tag == "CNT" and self.zone == "summary":
            self.count(segment)
            return
        owner = max(
            (depth for depth, frame in enumerate(self.frames) if frame.skip is None),
            default=0,
        )
        table = _SKIP_TABLE.get(self.frames[owner].kind, "")
        if table == "item":
            owner = next(depth for depth, frame in enumerate(self.frames) if frame.kind == "item")
        elif table:
            owner = 0
        group = _SKIPPED_GROUPS.get(table, {}).get(segment.tag)
        if group is not None:
            del self.frames[owner + 1 :]
            frame = Frame(
                f"grupo {segment.tag}", {}, self.frames[owner].target, "skipped", skip=group
            )
            self.push(frame)
            return
        raise error(
            "EDI-SEGMENT",
            f"segmento {segment.tag} no previsto aquí ({self.frames[owner].name})",
            segment.where(),
        )

    def section(self, segment: EdiSegment) -> None:
        mark = segment.get(1)
        if mark == "D" and self.zone == "header":
            self.zone = "detail"
            self.frames = [Frame("la sección de detalle", {"CST": 1}, self.root, kind="detail")]
        elif mark == "S" and self.zone == "detail":
            self.zone = "summary"
            self.frames = [Frame("la sección de resumen", {}, self.root, kind="summary")]
        else:
            expected = {"header": "UNS+D", "detail": "UNS+S", "summary": "UNT"}[self.zone]
            raise error(
                "EDI-SEGMENT", f"UNS+{mark} fuera de lugar: se esperaba {expected}", segment.where()
            )

    def count(self, segment: EdiSegment) -> None:
        if segment.get(1, 1) != c.COUNT_ITEMS:
            return  # other control totals are not checked
        declared = integer_value(segment, 1, 2, max_digits=18, what="número de series")
        actual = len(self.root["series"])
        if declared != actual:
            raise error(
                "EDI-COUNT",
                f"CNT+5 declara {declared} series (ítems CST), pero el mensaje trae {actual}",
                segment.where(1, 2),
            )


# -- helpers shared by the handlers ------------------------------------------------------------


def flag(segment: EdiSegment, value: str) -> bool:
    if value not in (c.YES, c.NO):
        raise error("EDI-VALUE", f"indicador {value!r}: se espera S o N", segment.where(1, 1))
    return value == c.YES


def weight(reader: Reader, segment: EdiSegment, target: dict[str, Any]) -> None:
    dimension = segment.get(2, 1)
    if segment.get(1) != c.MEASURE_WEIGHTS or dimension not in (
        c.WEIGHT_GROSS,
        c.WEIGHT_NET,
        c.WEIGHT_GROSS_TOTAL,
        c.WEIGHT_NET_TOTAL,
    ):
        raise unmapped(segment, f"medida {segment.get(1)!r}/{dimension!r}")
    key = "gross_weight" if dimension in (c.WEIGHT_GROSS, c.WEIGHT_GROSS_TOTAL) else "net_weight"
    reader.once(
        target, key, segment, f"MEA de {'peso bruto' if key == 'gross_weight' else 'peso neto'}"
    )
    if segment.get(3, 1) != c.KILOGRAMS:
        raise error(
            "EDI-VALUE",
            f"peso en {segment.get(3, 1)!r}: los pesos se declaran en kilogramos (KGM)",
            segment.where(3, 1),
        )
    value = decimal_value(segment, 3, 2, max_digits=18, what="peso")
    reader.put(target, key, value, (*reader.path_of(target), key), segment.where(3, 2))


def dollars(
    reader: Reader, segment: EdiSegment, target: dict[str, Any], keys: dict[str, str]
) -> None:
    qualifier = segment.get(1, 1)
    key = keys.get(qualifier)
    if key is None or (not reader.dua and key != "fob"):
        raise unmapped(segment, f"importe {qualifier!r}")
    reader.once(target, key, segment, f"MOA+{qualifier}")
    if segment.get(1, 3) not in ("", c.DOLLARS):
        raise error(
            "EDI-VALUE",
            f"importe en {segment.get(1, 3)!r}: la declaración se expresa en dólares (USD)",
            segment.where(1, 3),
        )
    value = decimal_value(segment, 1, 2, max_digits=18, what="importe")
    reader.put(target, key, value, (*reader.path_of(target), key), segment.where(1, 2))


def only(segment: EdiSegment, elements: set[int]) -> None:
    """Refuse data in elements this guide does not map (city, postcode... of a NAD)."""
    for element in range(1, len(segment.elements) + 1):
        if (
            element not in elements
            and segment.components(element)
            and any(segment.components(element))
        ):
            raise error(
                "EDI-SEGMENT",
                f"no se puede asignar el elemento {element} de {segment.tag}: esta guía no lo usa",
                segment.where(element),
            )


def party_fields(reader: Reader, segment: EdiSegment, target: dict[str, Any]) -> None:
    for element, key, lines in ((4, "name", 5), (5, "address", 4)):
        parts = segment.components(element)
        if len(parts) > lines:
            raise error("EDI-VALUE", f"{key}: más de {lines} líneas", segment.where(element))
        text = "".join(
            text_value(segment, element, number, max_length=35, what=key) or ""
            for number in range(1, len(parts) + 1)
        )
        if text:
            reader.put(target, key, text, (*reader.path_of(target), key), segment.where(element))


def foreign_party(reader: Reader, segment: EdiSegment, target: dict[str, Any]) -> None:
    only(segment, {1, 4, 5, 9})
    party_fields(reader, segment, target)
    country = text_value(segment, 9, max_length=3, what="país")
    if country is not None:
        reader.put(
            target, "country", country, (*reader.path_of(target), "country"), segment.where(9)
        )


def manifest(reader: Reader, segment: EdiSegment, path: Path) -> dict[str, Any]:
    text = segment.get(2) if segment.tag == "DOC" else segment.get(1, 2)
    element, component = (2, 1) if segment.tag == "DOC" else (1, 2)
    office, _, rest = text.partition("-")
    year, _, number = rest.partition("-")
    if not (office and year.isdigit() and number):
        raise error(
            "EDI-VALUE",
            f"manifiesto {text!r}: se escribe aduana-año-número (p. ej. 118-1997-4512)",
            segment.where(element, component),
        )
    where = segment.where(element, component)
    for key in ("office", "year", "number"):
        reader.where[(*path, key)] = where
    reader.where[path] = where
    return {"office": office, "year": int(year), "number": number}


def frame_target(reader: Reader) -> dict[str, Any]:
    return reader.frames[-1].target
