"""How large a JSON declaration may be, checked before anything parses it.

Three readers parse a JSON declaration: the mail extractor (to find where it ends), the
declaration reader, and the identity of one that cannot be read. Each made a Python object
of every value: 18 MB of empty lists held 1 GB of an analysis process for 6 s before the
declaration was refused. A document is measured first, in bytes and in values (each ``,``,
``[`` and ``{`` counted at the speed of a byte search), and one over either limit is parsed
by none of them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_VALUES", "over_json_limits"]

MAX_JSON_BYTES: Final = 32 * 1024 * 1024
MAX_JSON_VALUES: Final = 1_000_000
"""A declaration of 10 000 series, 5.5 MB of JSON, has 230 000 of them: every declaration
within ``MAX_JSON_BYTES`` has fewer than a million."""


def over_json_limits(data: bytes, start: int = 0) -> str | None:
    """Why the JSON in ``data[start:]`` is too large to parse (the words of its FMT-LIMIT);
    None when it is not."""
    if len(data) - start > MAX_JSON_BYTES:
        return f"documento demasiado grande (máximo {MAX_JSON_BYTES} bytes)"
    values = data.count(b",", start) + data.count(b"[", start) + data.count(b"{", start)
    if values > MAX_JSON_VALUES:
        return f"demasiados valores (máximo {MAX_JSON_VALUES})"
    return None
