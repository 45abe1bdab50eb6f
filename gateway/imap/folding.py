"""Case-insensitive substring tests for SEARCH, in time linear in the text searched.

pymap matched with ``re.search(re.escape(needle), text, re.I)``. A case-insensitive pattern
gets none of the regular expression engine's fast search: it is tried in full at each
position of the text, so a needle of 3 000 ``a`` and a ``b`` against a megabyte of ``a``
took 2.6 s, on the event loop. Folding both sides and using ``in`` (CPython's two-way
search) takes milliseconds for any needle.
"""

from __future__ import annotations

__all__ = ["contains_bytes", "contains_text"]


def contains_bytes(needle: bytes, data: bytes) -> bool:
    """Whether ``needle`` is in ``data``, ASCII letters matched in either case (what
    ``re.I`` means for bytes)."""
    return needle.lower() in data.lower()


def contains_text(needle: str, text: str) -> bool:
    """Whether ``needle`` is in ``text``, matched in either case: Unicode case folding, so
    ``IMPORTACIÓN`` finds ``importación`` (as Dovecot's default comparator does; pymap folded
    ASCII letters only)."""
    return needle.casefold() in text.casefold()
