"""What a broker states in box 7.38 besides the 04 place: the gateway's conventions.

The seeds ask for approvals the gateway cannot see (the "Autorización Especial de Zona
Primaria" of seed 004 VI.14, the qualification of an urgent or relief shipment of Anexo 6,
the extension of a deferred dispatch of seed 001 art. 187). The broker states their number in
box 7.38, one annotation each, anywhere in the box:

- ``AUTORIZACION ZP: <número>``  the approved special primary-zone authorization (04);
- ``CALIFICACION: <número>``     the approved Anexo 6 request (urgency n, relief i);
- ``PRORROGA: <número>``         the extension of the deferred dispatch.

``place_text`` is the box without them, what MOD-04-PLACE reads.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["AUTHORIZATION", "EXTENSION", "QUALIFICATION", "place_text", "stated"]

_NUMBER: Final = r"\s*:?\s*(?P<number>[0-9A-Za-z][0-9A-Za-z./-]*)"
AUTHORIZATION: Final = re.compile(r"AUTORIZACI[OÓ]N\s+ZP" + _NUMBER, re.IGNORECASE)
QUALIFICATION: Final = re.compile(r"CALIFICACI[OÓ]N" + _NUMBER, re.IGNORECASE)
EXTENSION: Final = re.compile(r"PR[OÓ]RROGA" + _NUMBER, re.IGNORECASE)


def stated(pattern: re.Pattern[str], text: str | None) -> str | None:
    """The number an annotation states in box 7.38, or None."""
    found = pattern.search(text or "")
    return found.group("number") if found is not None else None


def place_text(text: str | None) -> str | None:
    """Box 7.38 without the annotations; None when nothing else is left."""
    if text is None:
        return None
    for pattern in (AUTHORIZATION, QUALIFICATION, EXTENSION):
        text = pattern.sub(" ", text)
    text = " ".join(text.split())
    return text or None
