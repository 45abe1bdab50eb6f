"""Interchanges written by hand for the tests: a message body in, bytes with right counts out."""

from __future__ import annotations

from datetime import date

from edi_formats.codec import WireFormat, render_declaration
from edi_formats.models import DUA, OE
from validators.samples import sample_declaration

AS_OF = date(1997, 3, 3)


def interchange(
    body: list[str],
    *,
    una: str | None = "UNA:+.? '",
    syntax: str = "UNOC:3",
    message: str = "CUSDEC:D:96B:UN",
    unt_count: int | None = None,
    unz_count: int = 1,
    separator: str = "\r\n",
    prepared: str = "970303:1200",
    codec: str = "latin-1",
) -> bytes:
    """UNA, UNB, UNH, ``body`` (segments without terminator), UNT and UNZ, in ``codec``."""
    count = len(body) + 2 if unt_count is None else unt_count
    segments = [
        f"UNB+{syntax}+4821:ZZ+ADUANA118:ZZ+{prepared}+R1",
        f"UNH+1+{message}",
        *body,
        f"UNT+{count}+1",
        f"UNZ+{unz_count}+R1",
    ]
    text = (una + separator if una else "") + separator.join(s + "'" for s in segments)
    return text.encode(codec)


def sample(kind: str = "dua") -> DUA | OE:
    return sample_declaration("dua" if kind == "dua" else "oe", as_of=AS_OF)


def body_of(declaration: DUA | OE) -> list[str]:
    """The message body (BGM..CNT) of ``declaration`` as CUSDEC, a string per segment."""
    text = render_declaration(declaration, WireFormat.EDIFACT).decode("latin-1")
    segments = [line[:-1] for line in text.split("\r\n") if line]
    start = next(index for index, s in enumerate(segments) if s.startswith("UNH"))
    return segments[start + 1 : -2]


def sample_body(kind: str = "dua") -> list[str]:
    """The message body of a sample declaration (``teledispatch sample``) as CUSDEC."""
    return body_of(sample(kind))


def with_segments(body: list[str], replace: dict[str, str | list[str] | None]) -> list[str]:
    """``body`` with the segments starting with each key replaced (None removes them)."""
    out: list[str] = []
    for segment in body:
        for prefix, new in replace.items():
            if segment.startswith(prefix):
                if new is not None:
                    out.extend([new] if isinstance(new, str) else new)
                break
        else:
            out.append(segment)
    return out
