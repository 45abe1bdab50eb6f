"""One entry point for every wire format: detect, parse, render.

The pipeline and the CLI only talk to this module; which reader or writer runs is decided
here, from the content (``detect_format``) or from the format the caller names.
"""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError

from edi_formats.detect import WireFormat, detect_format, strip_preamble
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.flatfile.layout import RESPONSE_LAYOUT
from edi_formats.flatfile.reader import parse_flat, read_flat
from edi_formats.flatfile.writer import render_flat, render_records
from edi_formats.jsonfmt import parse_json, render_json
from edi_formats.models import DUA, OE
from edi_formats.responses import DeclarationResponse
from edi_formats.validation_errors import describe_error, json_path

__all__ = [
    "DeclarationSyntaxError",
    "WireFormat",
    "detect_format",
    "parse_declaration",
    "parse_response",
    "render_declaration",
    "render_response",
]

_EDIFACT_LATER: Final = (
    "las declaraciones UN/EDIFACT (CUSDEC) aún no se procesan; envíela en formato plano o JSON"
)


def _unsupported() -> DeclarationSyntaxError:
    return DeclarationSyntaxError("EDI-UNSUPPORTED", _EDIFACT_LATER)


def _resolve(data: bytes, fmt: WireFormat | None) -> WireFormat:
    if fmt is not None:
        return fmt
    found = detect_format(data)
    if found is not None:
        return found
    if not data.strip():
        raise DeclarationSyntaxError("FMT-EMPTY", "el documento está vacío")
    raise DeclarationSyntaxError(
        "FMT-UNKNOWN",
        "el contenido no es una declaración en un formato reconocido: un archivo plano "
        "empieza con TDH|TELEDESPACHO|, un JSON es un objeto con document_type",
    )


def parse_declaration(data: bytes, fmt: WireFormat | None = None) -> DUA | OE:
    """The declaration in ``data`` (format detected when not given).

    Raises DeclarationSyntaxError, and nothing else, for anything that cannot be read.
    """
    fmt = _resolve(data, fmt)
    if fmt is WireFormat.FLAT:
        return parse_flat(data)
    if fmt is WireFormat.JSON:
        return parse_json(data)
    raise _unsupported()


def render_declaration(decl: DUA | OE, fmt: WireFormat) -> bytes:
    """``decl`` in canonical ``fmt``; parse_declaration reads it back to an equal model."""
    if fmt is WireFormat.FLAT:
        return render_flat(decl)
    if fmt is WireFormat.JSON:
        return render_json(decl)
    raise _unsupported()


def render_response(resp: DeclarationResponse, fmt: WireFormat) -> bytes:
    """The office's answer in the format the agent used (EDIFACT answers as JSON for now)."""
    if fmt is WireFormat.FLAT:
        return render_records(resp, RESPONSE_LAYOUT)
    if fmt is WireFormat.JSON:
        return resp.model_dump_json(indent=2).encode("utf-8") + b"\n"
    raise _unsupported()


def parse_response(data: bytes, fmt: WireFormat | None = None) -> DeclarationResponse:
    """A response read back (the agents' reference client files numbers with it)."""
    if fmt is None:
        fmt = (
            WireFormat.JSON
            if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
            else WireFormat.FLAT
        )
    if fmt is WireFormat.FLAT:
        return read_flat(data, {"RES": RESPONSE_LAYOUT}, {"RES": DeclarationResponse})
    if fmt is WireFormat.JSON:
        try:
            return DeclarationResponse.model_validate_json(strip_preamble(data))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raise DeclarationSyntaxError(
                "FMT-VALUE", describe_error(error), json_path(error["loc"])
            ) from None
    raise _unsupported()
