"""Every field of a declaration in the flat-file layout's words, wherever it sits.

The models name a field by its place (``("invoices", 0, "supplier", "country")``). The
form's boxes (``boxes``) word the fields the rules and the procedures speak of; the flat-file
layouts (``flatfile.layout``) word every field of both documents, casilla included, so they
name the rest: ``factura o documento equivalente 1, proveedor de la factura`` and ``país del
proveedor``. ``boxes.box_label`` is what callers use; this is its catalogue of last resort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from edi_formats.flatfile.layout import LAYOUTS, DocumentLayout, FieldSpec, RecordSpec

__all__ = ["FieldName", "field_name"]


@dataclass(frozen=True)
class FieldName:
    """The records on the way (``within``: ``serie 2``), then the field (``país de origen``)."""

    within: str
    """``serie 2``, ``importador``, ``factura o documento equivalente 1, proveedor de la
    factura`` (list entries counted from 1); empty at the document's top."""
    label: str
    """``país de origen``, ``observaciones de la serie (casilla 7.37)``."""


@dataclass(frozen=True)
class _Entry:
    label: str
    within: tuple[tuple[str, bool], ...]
    """The records the field sits in, outermost first, each with whether it is a list entry
    (numbered): ``(("Serie", True),)``, ``(("Importador", False),)``."""


_Key = tuple[str, ...]
"""A place in the model without its list indexes: ``("series", "origin_country")``."""


def _steps(path: str | None) -> _Key:
    return tuple(path.removesuffix("[]").split(".")) if path else ()


@cache
def _catalogue(layout: DocumentLayout) -> dict[_Key, _Entry]:
    names: dict[_Key, _Entry] = {}

    def walk(
        records: tuple[RecordSpec, ...], prefix: _Key, outer: tuple[tuple[str, bool], ...]
    ) -> None:
        for record in records:
            here = prefix + _steps(record.target)
            if record.is_scalar_list:  # each entry is the field itself: "número de contenedor"
                names.setdefault(here, _Entry(_label(record.fields[0]), outer))
                continue
            inside = (*outer, (record.title, record.is_list)) if here != prefix else outer
            if here != prefix:  # a record of its own in the model: a party, the totals...
                names.setdefault(here, _Entry(record.title.lower(), outer))
            for spec in record.fields:
                names.setdefault(here + _steps(spec.attr), _Entry(_label(spec), inside))
            walk(record.children, here, inside)

    walk(layout.records, (), ())
    return names


def _label(spec: FieldSpec) -> str:
    return f"{spec.label} (casilla {spec.casilla})" if spec.casilla else spec.label


def field_name(document_type: str, loc: Sequence[int | str]) -> FieldName | None:
    """The broker's name for the model's place ``loc`` in a ``document_type`` (``DUA``,
    ``OE``); None for a place the form does not name (a check across several fields)."""
    layout = LAYOUTS.get(document_type)
    if layout is None:
        return None
    entry = _catalogue(layout).get(tuple(step for step in loc if isinstance(step, str)))
    if entry is None:
        return None
    indexes = iter(step for step in loc if isinstance(step, int))
    within = []
    for title, numbered in entry.within:
        index = next(indexes, None) if numbered else None
        # entries are counted from 1, as the declaration numbers its series
        within.append(title.lower() if index is None else f"{title.lower()} {index + 1}")
    return FieldName(", ".join(within), entry.label)
