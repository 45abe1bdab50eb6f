"""Rendering a declaration as a flat file, in its canonical form.

Canonical means: CRLF after every record (the DOS convention of the agents' software), the
envelope naming the encoding actually used (ISO-8859-1 when every character fits, UTF-8
otherwise), empty fields for absent values, decimals with the scale they were given, and a
trailer counting every record type. ``reader.parse_flat`` reads it back to an equal model,
and rendering that model again gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from edi_formats.encodings import ACCEPTED_ENCODINGS, canonical_encoding
from edi_formats.flatfile.envelope import ENVELOPE_RECORD, FORMAT_NAME, LAYOUT_VERSION
from edi_formats.flatfile.layout import (
    LAYOUTS,
    TRAILER_RECORD,
    DocumentLayout,
    FieldKind,
    FieldSpec,
    RecordSpec,
)
from edi_formats.models import DUA, OE

__all__ = [
    "escape_field",
    "format_value",
    "render_flat",
    "render_records",
    "render_records_varying",
    "resolve_attr",
]

DEFAULT_ENCODING = "ISO-8859-1"
NEWLINE = "\r\n"


def escape_field(text: str) -> str:
    r"""Escape the separator and the escape character: ``|`` -> ``\|``, ``\`` -> ``\\``."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "|" in text:
        text = text.replace("|", "\\|")
    return text


@lru_cache(maxsize=1024)
def _steps(attr: str) -> tuple[str, ...]:
    return tuple(attr.split("."))


def resolve_attr(obj: Any, attr: str) -> Any:
    """``obj.a.b`` for ``attr == "a.b"``; None as soon as a step is None."""
    for step in _steps(attr):
        if obj is None:
            return None
        obj = getattr(obj, step)
    return obj


def format_value(value: Any, kind: FieldKind) -> str:
    """The canonical text of one field value (docs/formats.md, "Field types")."""
    if value is None:
        return ""
    if kind is FieldKind.TEXT:  # most fields
        return escape_field(str(value.value if isinstance(value, Enum) else value))
    if kind is FieldKind.FLAG:
        return "S" if value else "N"
    if kind is FieldKind.TIMESTAMP:
        assert isinstance(value, datetime)
        return value.isoformat()
    if kind is FieldKind.DATE:
        assert isinstance(value, date)
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    if kind is FieldKind.DECIMAL:
        assert isinstance(value, Decimal)
        return format(value, "f")
    if kind is FieldKind.INTEGER:
        return str(int(value))
    if isinstance(value, Enum):
        value = value.value
    return escape_field(str(value))


def _field_value(obj: Any, spec: FieldSpec) -> Any:
    return obj if spec.attr is None else resolve_attr(obj, spec.attr)


def _objects(record: RecordSpec, owner: Any) -> Iterator[Any]:
    """The model objects ``record`` writes one line for, found from ``owner``."""
    if record.target == "":
        if record.min_count == 0 and all(
            _field_value(owner, spec) is None for spec in record.fields
        ):
            return
        yield owner
        return
    found = resolve_attr(owner, record.target.removesuffix("[]"))
    if found is None:
        return
    if record.is_list:
        yield from found
    else:
        yield found


def record_values(record: RecordSpec, obj: Any) -> list[str]:
    """The texts of the fields of the line ``render_records`` writes for ``obj``."""
    return [format_value(_field_value(obj, spec), spec.kind) for spec in record.fields]


def _line(record: RecordSpec, obj: Any) -> str:
    return "|".join((record.code, *record_values(record, obj)))


def render_flat(decl: DUA | OE, *, encoding: str | None = None) -> bytes:
    """The canonical flat file of ``decl``.

    ``encoding`` (a name docs/formats.md accepts) forces the encoding; a character it cannot
    hold raises UnicodeEncodeError. Without it: ISO-8859-1, or UTF-8 when that cannot hold
    every character.
    """
    return render_records(decl, LAYOUTS[decl.document_type], encoding=encoding)


def render_records(obj: Any, layout: DocumentLayout, *, encoding: str | None = None) -> bytes:
    """Envelope, one line per record of ``layout`` that ``obj`` fills, and the trailer."""
    return _encoded(NEWLINE.join(_lines(obj, layout)) + NEWLINE, layout, encoding)


def render_records_varying(
    obj: Any, layout: DocumentLayout, attr: str, texts: Sequence[str]
) -> list[bytes]:
    """``render_records(obj, layout)`` once per text of ``texts``, each written as the field
    ``attr`` of the layout's first record (a field's canonical text: ``format_value``'s).

    The files of an accepted response differ only in its channel: rendered once, the field
    written for each.
    """
    first = layout.records[0]
    index = next(i for i, spec in enumerate(first.fields) if spec.attr == attr)
    varying: list[list[str]] = []
    lines = _lines(obj, layout, varying)
    if len(varying) != 1:
        raise ValueError(f"the first record of {layout.document_type} is not written once")
    values = varying[0]
    rest = NEWLINE.join(lines[1:]) + NEWLINE
    out = []
    for text in texts:
        values[index] = text
        out.append(_encoded("|".join((first.code, *values)) + NEWLINE + rest, layout, None))
    return out


def _lines(obj: Any, layout: DocumentLayout, first: list[list[str]] | None = None) -> list[str]:
    """The record lines of ``obj`` and the trailer; the values of the first record's lines
    go in ``first`` when given."""
    lines: list[str] = []
    counts: dict[str, int] = {}
    for record in layout.records:
        for item in _objects(record, obj):
            if first is not None and record is layout.records[0]:
                first.append(record_values(record, item))
                lines.append("")  # written by the caller
            else:
                lines.append(_line(record, item))
            counts[record.code] = counts.get(record.code, 0) + 1
            for child in record.children:
                for child_item in _objects(child, item):
                    lines.append(_line(child, child_item))
                    counts[child.code] = counts.get(child.code, 0) + 1
    total = len(lines) + 2
    tallies = (f"{r.code}={counts.get(r.code, 0)}" for r in layout.all_records())
    lines.append("|".join((TRAILER_RECORD, str(total), *tallies)))
    return lines


def _encoded(body: str, layout: DocumentLayout, encoding: str | None) -> bytes:
    """The envelope naming the encoding, and ``body`` in it."""
    name = canonical_encoding(encoding) if encoding is not None else DEFAULT_ENCODING
    if name is None:
        raise ValueError(f"unsupported encoding {encoding!r}")
    if encoding is None:
        try:
            encoded = body.encode(ACCEPTED_ENCODINGS[name])
        except UnicodeEncodeError:
            name = "UTF-8"
            encoded = body.encode("utf-8")
    else:
        encoded = body.encode(ACCEPTED_ENCODINGS[name])
    envelope = "|".join((ENVELOPE_RECORD, FORMAT_NAME, LAYOUT_VERSION, layout.document_type, name))
    return envelope.encode("ascii") + NEWLINE.encode("ascii") + encoded
