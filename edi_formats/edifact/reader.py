"""What the CUSDEC segment handlers share: the values read, where they came from, the errors.

The D.96B segment table (``directory``, walked by ``structure``) says which segment group each
segment is in; the handlers of ``cusdec_header`` and ``cusdec_detail``, chosen by group and
tag, fill plain dicts and record where each value came from, so that a value the model refuses
is reported at its segment. Standard segments and qualifiers this guide does not use are
ignored, never refused: a partner's translator may send them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    "Handler",
    "Path",
    "Reader",
    "dollars",
    "error",
    "flag",
    "foreign_party",
    "manifest",
    "party_fields",
    "unmapped",
    "weight",
]

Path = tuple[str | int, ...]
Handler = Callable[["Reader", EdiSegment], None]


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
class Reader:
    """What a CUSDEC walk has read so far, where each value came from, and what went wrong."""

    document_type: str
    root: dict[str, Any] = field(default_factory=dict)
    where: dict[Path, str] = field(default_factory=dict)
    seen: set[tuple[int, str]] = field(default_factory=set)
    texts: dict[tuple[int, str], str] = field(default_factory=dict)
    zone: str = "header"
    party: str = ""
    """Qualifier of the heading NAD group being read (its RFF and COM belong to it)."""
    party_target: dict[str, Any] | None = None
    transport: dict[str, Any] | None = None
    """The last transport document read: a master or manifest DOC after it is its own."""
    invoice: dict[str, Any] | None = None
    item: dict[str, Any] | None = None
    control: dict[str, Any] | None = None
    contacts: list[tuple[str, EdiSegment, dict[str, Any]]] = field(default_factory=list)
    """Supplier contacts of the heading (invoice number, RFF+IV, fax/e-mail), applied once the
    invoices of the detail section are read."""
    errors: list[DeclarationSyntaxError] = field(default_factory=list)

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
        if not value:
            raise error("EDI-VALUE", "falta el código", segment.where(element, 1))
        return value, code_list

    def section(self, segment: EdiSegment) -> None:
        """UNS: the detail section after the first, the summary after the second."""
        self.zone = "detail" if self.zone == "header" else "summary"
        self.party, self.party_target, self.transport = "", None, None

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
        return  # another standard measurement: not a box of the form
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
        return  # another standard amount (taxes, charges...): not a box of the form
    reader.once(target, key, segment, f"MOA+{qualifier}")
    if segment.get(1, 3) not in ("", c.DOLLARS):
        raise error(
            "EDI-VALUE",
            f"importe en {segment.get(1, 3)!r}: la declaración se expresa en dólares (USD)",
            segment.where(1, 3),
        )
    value = decimal_value(segment, 1, 2, max_digits=18, what="importe")
    reader.put(target, key, value, (*reader.path_of(target), key), segment.where(1, 2))


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
