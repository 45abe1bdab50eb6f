"""Reading a flat file into a DUA or O/E model.

Every problem becomes a ``DeclarationSyntaxError`` naming the line, the record and the field
(docs/formats.md lists the codes), so the broker's rejection says exactly what to fix. The
reader is lenient where the era's software and mailers were sloppy (LF or CRLF, blank lines,
spaces around fields, a trailing Ctrl-Z, an undeclared encoding, a decimal comma) and strict
about structure: record order, field counts, escapes, control characters and the trailer's
counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from edi_formats.encodings import decode_text
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.flatfile.envelope import (
    ENVELOPE_RECORD,
    FORMAT_NAME,
    LAYOUT_VERSION,
    read_envelope,
)
from edi_formats.flatfile.layout import (
    LAYOUTS,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_RECORDS,
    TRAILER_RECORD,
    DocumentLayout,
    FieldKind,
    RecordSpec,
)
from edi_formats.models import DUA, OE
from edi_formats.validation_errors import describe_error

__all__ = ["MAX_FLAT_BYTES", "parse_flat", "read_flat", "split_fields"]

MAX_FLAT_BYTES: Final = 16 * 1024 * 1024
"""Largest flat file read (10 000 full series take about 1.2 MB, 99 999 about 12 MB)."""

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ESCAPE: Final = re.compile(r"\\(.?)|\|", re.S)
_DATE: Final = re.compile(r"\d{8}")
_DECIMAL: Final = re.compile(r"-?\d{1,30}(?:[.,]\d{1,30})?")
_INTEGER: Final = re.compile(r"\d{1,18}")
_RECORD_CODE: Final = re.compile(r"[A-Z0-9]{3}")
_MAX_REPORTED_ERRORS: Final = 5

ModelT = TypeVar("ModelT", bound=BaseModel)


def _error(code: str, message: str, position: str | None = None) -> DeclarationSyntaxError:
    return DeclarationSyntaxError(code, message, position)


def _where(line: int, record: str | None = None) -> str:
    return f"línea {line}" if record is None else f"línea {line}, registro {record}"


def _where_field(line: int, record: RecordSpec, index: int) -> str:
    """Where a field is, as a broker finds it: the line, the record, the field's number and
    what the field holds in the layout's words (``país de origen``), with its casilla."""
    spec = record.fields[index]
    casilla = f", casilla {spec.casilla}" if spec.casilla else ""
    number = index + 2  # field 1 is the record code, as docs/formats.md numbers them
    return f"línea {line}, registro {record.code}, campo {number} ({spec.label}{casilla})"


def split_fields(line: str) -> list[str]:
    """Split a record line at unescaped ``|``, undoing ``\\|`` and ``\\\\``.

    Raises ValueError(field index) on any other backslash sequence.
    """
    if "\\" not in line:
        return line.split("|")
    fields: list[str] = []
    pieces: list[str] = []
    cursor = 0
    for match in _ESCAPE.finditer(line):
        pieces.append(line[cursor : match.start()])
        cursor = match.end()
        if match.group(0) == "|":
            fields.append("".join(pieces))
            pieces = []
        elif match.group(1) in ("|", "\\"):
            pieces.append(match.group(1))
        else:
            raise ValueError(len(fields))
    pieces.append(line[cursor:])
    fields.append("".join(pieces))
    return fields


class _Unreadable(ValueError):
    """A field's text is not of its kind; the argument says why, in a broker's words."""


def _decimal(text: str) -> Decimal:
    if _DECIMAL.fullmatch(text):
        return Decimal(text.replace(",", "."))
    raise _Unreadable(f"importe no válido {text[:30]!r}")


def _integer(text: str) -> int:
    if _INTEGER.fullmatch(text):
        return int(text)
    raise _Unreadable(f"número entero no válido {text[:30]!r}")


def _date(text: str) -> date:
    if _DATE.fullmatch(text):
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    raise _Unreadable(f"fecha no válida {text[:30]!r} (formato AAAAMMDD)")


def _timestamp(text: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = None
    if stamp is not None and stamp.tzinfo is not None:
        return stamp
    raise _Unreadable(f"fecha y hora no válida {text[:40]!r} (ISO 8601 con zona horaria)")


def _flag(text: str) -> bool:
    if text in ("S", "N"):
        return text == "S"
    raise _Unreadable(f"se espera S o N, no {text[:30]!r}")


_READERS: Final[dict[FieldKind, Callable[[str], Any]]] = {
    FieldKind.DECIMAL: _decimal,
    FieldKind.INTEGER: _integer,
    FieldKind.DATE: _date,
    FieldKind.TIMESTAMP: _timestamp,
    FieldKind.FLAG: _flag,
}
"""How a field of each kind but text is read from its (stripped, non-empty) text."""


@dataclass(frozen=True)
class _Plan:
    """A record spec compiled for the reader: where its object goes, where each value goes."""

    holder_steps: tuple[str, ...]
    key: str | None
    is_list: bool
    is_scalar_list: bool
    slots: tuple[tuple[tuple[str, ...], str], ...]
    typed: tuple[tuple[int, Callable[[str], Any]], ...]
    """The fields that are not text, by index, and how each is read (``_READERS``)."""


_PLANS: dict[int, tuple[RecordSpec, _Plan]] = {}
"""By ``id`` of a record spec, which is held so that the id is not reused."""


def _plan(record: RecordSpec) -> _Plan:
    known = _PLANS.get(id(record))
    if known is None:
        steps = tuple(record.target.removesuffix("[]").split(".")) if record.target else ()
        slots = []
        for spec in record.fields:
            *groups, name = (spec.attr or "").split(".")
            slots.append((tuple(groups), name))
        plan = _Plan(
            holder_steps=steps[:-1],
            key=steps[-1] if steps else None,
            is_list=record.is_list,
            is_scalar_list=record.is_scalar_list,
            slots=tuple(slots),
            typed=tuple(
                (index, _READERS[spec.kind])
                for index, spec in enumerate(record.fields)
                if spec.kind is not FieldKind.TEXT
            ),
        )
        known = _PLANS[id(record)] = (record, plan)
    return known[1]


@dataclass
class _Placed:
    """Where the values of one model object came from (for naming fields in model errors)."""

    line: int
    record: RecordSpec


@dataclass
class _State:
    """The reader's position in the layout's record grammar."""

    layout: DocumentLayout
    root: dict[str, Any]
    slot: int = 0
    slot_counts: list[int] = field(default_factory=list)
    parent: RecordSpec | None = None
    parent_obj: dict[str, Any] | None = None
    child_slot: int = 0
    child_counts: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    placed: dict[int, list[_Placed]] = field(default_factory=dict)
    """By ``id`` of a dict (its records) or of a plain-value list (a record per item)."""
    records: int = 1


def _check_skipped(state: _State, up_to: int, line: int) -> None:
    records = state.layout.records
    for index in range(state.slot, up_to):
        if state.slot_counts[index] < records[index].min_count:
            raise _error(
                "FMT-RECORD",
                f"falta el registro {records[index].code} ({records[index].title})",
                f"antes de la línea {line}",
            )


def _place(state: _State, code: str, line: int) -> tuple[RecordSpec, bool]:
    """The spec of record ``code`` at ``line`` if it may appear here; (spec, is_child)."""
    parent = state.parent
    if parent is not None:
        index = parent.child_positions.get(code)
        if index is not None:
            child = parent.children[index]
            if index < state.child_slot:
                later = parent.children[state.child_slot].code
                raise _error(
                    "FMT-RECORD",
                    f"el registro {code} debe ir antes de los registros {later} de su "
                    f"{parent.code}",
                    _where(line, code),
                )
            if index > state.child_slot:
                state.child_slot = index
            state.child_counts[index] += 1
            if child.max_count is not None and state.child_counts[index] > child.max_count:
                raise _error(
                    "FMT-RECORD",
                    f"demasiados registros {code} para un mismo {parent.code} "
                    f"(máximo {child.max_count})",
                    _where(line, code),
                )
            return child, True
    records = state.layout.records
    index = state.layout.positions.get(code)
    if index is not None:
        record = records[index]
        if index < state.slot:
            raise _error(
                "FMT-RECORD",
                f"registro {code} fuera de orden: debe ir antes de {records[state.slot].code}",
                _where(line, code),
            )
        _check_skipped(state, index, line)
        state.slot = index
        state.slot_counts[index] += 1
        if record.max_count is not None and state.slot_counts[index] > record.max_count:
            raise _error(
                "FMT-RECORD",
                f"registro {code} repetido (máximo {record.max_count})",
                _where(line, code),
            )
        state.parent = record if record.children else None
        state.child_slot = 0
        state.child_counts = [0] * len(record.children)
        return record, False
    owners = [r.code for r in records if any(c.code == code for c in r.children)]
    if owners:
        raise _error(
            "FMT-RECORD",
            f"el registro {code} debe seguir a un registro {owners[0]}",
            _where(line, code),
        )
    if code == ENVELOPE_RECORD:
        raise _error(
            "FMT-RECORD",
            "segundo registro TDH antes del TRL: ¿dos declaraciones unidas o una truncada?",
            _where(line, code),
        )
    known = ", ".join(r.code for r in state.layout.all_records())
    raise _error(
        "FMT-RECORD",
        f"registro desconocido {code[:10]!r} en una {state.layout.document_type}; "
        f"se esperan {known} o {TRAILER_RECORD}",
        _where(line),
    )


def _store(state: _State, record: RecordSpec, is_child: bool, values: list[Any], line: int) -> None:
    """Put the record's values into the dict tree that becomes the model."""
    plan = _plan(record)
    owner = state.parent_obj if is_child else state.root
    assert owner is not None
    obj: dict[str, Any]
    if plan.key is None:
        obj = owner
    else:
        holder = owner
        for step in plan.holder_steps:
            holder = holder.setdefault(step, {})
        if plan.is_list:
            items = holder.setdefault(plan.key, [])
            if plan.is_scalar_list:
                items.append(values[0])
                state.placed.setdefault(id(items), []).append(_Placed(line, record))
                return
            obj = {}
            items.append(obj)
        else:
            obj = {}
            holder[plan.key] = obj
    for (groups, name), value in zip(plan.slots, values, strict=True):
        if value is None:
            continue
        target = obj
        for group in groups:
            target = target.setdefault(group, {})
        target[name] = value
    placed = state.placed.get(id(obj))
    if placed is None:
        state.placed[id(obj)] = [_Placed(line, record)]
    else:
        placed.append(_Placed(line, record))
    if record.children:
        state.parent_obj = obj


_RECORD_CODES: dict[int, tuple[DocumentLayout, frozenset[str]]] = {}
"""By ``id`` of a layout, which is held so that the id is not reused."""


def _record_codes(layout: DocumentLayout) -> frozenset[str]:
    """The codes of the layout's records, computed once per layout."""
    known = _RECORD_CODES.get(id(layout))
    if known is None:
        known = _RECORD_CODES[id(layout)] = (
            layout,
            frozenset(record.code for record in layout.all_records()),
        )
    return known[1]


def _check_trailer(state: _State, fields: list[str], line: int) -> None:
    where = _where(line, TRAILER_RECORD)
    total_text = fields[1].strip() if len(fields) > 1 else ""
    if not _INTEGER.fullmatch(total_text):
        raise _error("FMT-COUNT", "el registro TRL debe indicar el total de registros", where)
    total = state.records
    if int(total_text) != total:
        raise _error(
            "FMT-COUNT",
            f"el registro TRL indica {int(total_text)} registros, pero el archivo tiene {total}",
            where,
        )
    known = _record_codes(state.layout)
    declared: dict[str, int] = {}
    for tally in fields[2:]:
        code, _, number = tally.strip().partition("=")
        if code not in known or not _INTEGER.fullmatch(number) or code in declared:
            raise _error(
                "FMT-COUNT",
                f"conteo no válido en el registro TRL: {tally[:20]!r} (se espera CÓDIGO=número)",
                where,
            )
        declared[code] = int(number)
    if {code: count for code, count in declared.items() if count} == state.counts:
        return  # every count as sent (the loop below names the first one that is not)
    for code in sorted(known | declared.keys()):
        sent = state.counts.get(code, 0)
        stated = declared.get(code, 0)
        if sent != stated:
            raise _error(
                "FMT-COUNT",
                f"el registro TRL indica {stated} registros {code}, pero se enviaron {sent}",
                where,
            )


def _model_error(exc: ValidationError, state: _State) -> DeclarationSyntaxError:
    """The first few model errors, each named by line, record and field."""
    described: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False)[:_MAX_REPORTED_ERRORS]:
        described.append((_locate(error["loc"], state), describe_error(error)))
    position, reason = described[0]
    message = reason
    if len(described) > 1:
        others = "; ".join(f"{where}: {why}" for where, why in described[1:])
        message = f"{reason}. Además: {others}"
    if exc.error_count() > len(described):
        message += f" (y {exc.error_count() - len(described)} errores más)"
    return _error("FMT-VALUE", message, position)


def _locate(loc: tuple[int | str, ...], state: _State) -> str:
    """Line, record and field that a pydantic error location ``loc`` points at.

    Follows ``loc`` down the dict tree that was validated, remembering the deepest object
    a record filled; the rest of ``loc`` names a field of that record.
    """
    node: Any = state.root
    best: list[_Placed] | None = state.placed.get(id(node))
    rest: tuple[int | str, ...] = loc
    for depth, step in enumerate(loc):
        scalar_lines = state.placed.get(id(node)) if isinstance(node, list) else None
        if scalar_lines is not None and isinstance(step, int) and step < len(scalar_lines):
            best, rest = [scalar_lines[step]], loc[depth + 1 :]
            break
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        found = state.placed.get(id(node)) if isinstance(node, dict) else None
        if found is not None:
            best, rest = found, loc[depth + 1 :]
    if not best:
        return "declaración"
    wanted = ".".join(str(step) for step in rest)
    for entry in best:
        for index, spec in enumerate(entry.record.fields):
            if _attr_matches(spec.attr, wanted):
                return _where_field(entry.line, entry.record, index)
    return _where(best[0].line, best[0].record.code)


def _attr_matches(attr: str | None, rest: str) -> bool:
    """Whether field ``attr`` holds (part of) what the error path ``rest`` names."""
    if attr is None or not rest:
        return attr is None and not rest
    return attr == rest or attr.startswith(rest + ".") or rest.startswith(attr + ".")


def _first_line(data: bytes) -> tuple[int, bytes]:
    """Number and bytes of the first non-blank line (the envelope's place)."""
    start = 0
    number = 1
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if data[start:end].strip(b" \t\r"):
            return number, data[start:end]
        start = end + 1
        number += 1
    return number, b""


def parse_flat(data: bytes) -> DUA | OE:
    """The declaration in flat file ``data``; DeclarationSyntaxError if it cannot be read."""
    models: dict[str, type[DUA | OE]] = {"DUA": DUA, "OE": OE}
    return read_flat(data, LAYOUTS, models)


def read_flat(
    data: bytes, layouts: Mapping[str, DocumentLayout], models: Mapping[str, type[ModelT]]
) -> ModelT:
    """The document in flat file ``data``, for the document types ``layouts`` knows."""
    if len(data) > MAX_FLAT_BYTES:
        raise _error("FMT-LIMIT", f"archivo demasiado grande (máximo {MAX_FLAT_BYTES} bytes)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip(b" \t\r\n\x1a"):
        raise _error("FMT-EMPTY", "el documento está vacío")
    line_number, head = _first_line(data)
    expected = " u ".join(layouts)
    try:
        head_text = head.decode("ascii").strip(" \t\r")
    except UnicodeDecodeError:
        raise _error(
            "FMT-ENCODING", "el registro TDH debe escribirse en ASCII", _where(line_number)
        ) from None
    envelope = read_envelope(head_text)
    if envelope is None:
        raise _error(
            "FMT-RECORD",
            f"la primera línea debe ser el registro "
            f"{ENVELOPE_RECORD}|{FORMAT_NAME}|{LAYOUT_VERSION}|{expected}|codificación",
            _where(line_number),
        )
    if envelope.version != LAYOUT_VERSION:
        raise _error(
            "FMT-RECORD",
            f"versión de diseño {envelope.version[:10]!r} no soportada; se acepta {LAYOUT_VERSION}",
            _where(line_number, ENVELOPE_RECORD),
        )
    layout = layouts.get(envelope.document_type)
    if layout is None:
        raise _error(
            "FMT-FIELD",
            f"tipo de documento {envelope.document_type[:10]!r} no válido; se espera {expected}",
            f"línea {line_number}, registro {ENVELOPE_RECORD}, campo 4 (tipo de documento)",
        )
    text, _ = decode_text(data, envelope.encoding)
    state = _read_records(text, line_number, layout)
    try:
        return models[layout.document_type].model_validate(state.root)
    except ValidationError as exc:
        raise _model_error(exc, state) from None


def _read_records(text: str, envelope_line: int, layout: DocumentLayout) -> _State:
    """Check the record grammar and collect the values; the model is validated by the caller."""
    state = _State(layout=layout, root=dict(layout.fixed))
    state.slot_counts = [0] * len(layout.records)
    text = text.rstrip(" \t\r\n\x1a")
    if text.count("\n") >= MAX_LINES:
        raise _error("FMT-LIMIT", f"demasiadas líneas (máximo {MAX_LINES})")
    lines = text.split("\n")
    trailer_seen = False
    for index in range(envelope_line, len(lines)):
        number = index + 1
        line = lines[index]
        if line.endswith("\r"):
            line = line.rstrip("\r")  # CRLF, and the CRCRLF some gateways make of it
        if not line.strip(" \t"):
            continue
        if trailer_seen:
            raise _error("FMT-RECORD", "hay contenido después del registro TRL", _where(number))
        if len(line) > MAX_LINE_CHARS:
            raise _error(
                "FMT-LIMIT", f"línea demasiado larga (máximo {MAX_LINE_CHARS})", _where(number)
            )
        state.records += 1
        if state.records > MAX_RECORDS:
            raise _error("FMT-LIMIT", f"demasiados registros (máximo {MAX_RECORDS})")
        try:
            fields = split_fields(line)
        except ValueError as exc:
            raise _error(
                "FMT-FIELD",
                "secuencia de escape no válida: solo se admiten \\| y \\\\",
                f"línea {number}, campo {exc.args[0] + 1}",
            ) from None
        code = fields[0].strip(" ")
        if not _RECORD_CODE.fullmatch(code):
            if _CONTROL.search(code):
                raise _error("FMT-CONTROL", "caracteres de control en la línea", _where(number))
            raise _error("FMT-RECORD", f"registro desconocido {code[:10]!r}", _where(number))
        if code == TRAILER_RECORD:
            _check_trailer(state, fields, number)
            trailer_seen = True
            continue
        record, is_child = _place(state, code, number)
        if len(fields) - 1 != len(record.fields):
            raise _error(
                "FMT-FIELD",
                f"el registro {code} tiene {len(fields) - 1} campos; "
                f"se esperan {len(record.fields)}",
                _where(number, code),
            )
        state.counts[code] = state.counts.get(code, 0) + 1
        values = _values(record, fields, number, line)
        _store(state, record, is_child, values, number)
    if not trailer_seen:
        raise _error(
            "FMT-TRUNCATED",
            "el archivo termina sin el registro TRL: está incompleto o truncado",
            f"después de la línea {len(lines)}",
        )
    _check_skipped(state, len(layout.records), len(lines))
    return state


def _values(record: RecordSpec, fields: list[str], line: int, raw_line: str) -> list[Any]:
    """The record's values: text as it is, the other kinds read (``_READERS``); None when
    empty."""
    if _CONTROL.search(raw_line, len(record.code)) is not None:
        for index, spec in enumerate(record.fields):
            control = _CONTROL.search(fields[index + 1])
            if control is not None:
                raise _error(
                    "FMT-CONTROL",
                    f"{spec.label}: carácter de control U+{ord(control.group()):04X} no permitido",
                    _where_field(line, record, index),
                )
    values: list[Any] = [text.strip(" ") or None for text in fields]
    del values[0]  # the record code
    for index, read in _plan(record).typed:
        text = values[index]
        if text is not None:
            try:
                values[index] = read(text)
            except _Unreadable as why:
                spec = record.fields[index]
                raise _error(
                    "FMT-FIELD", f"{spec.label}: {why}", _where_field(line, record, index)
                ) from None
    return values
