"""Mail address normalisation: the store keys mailboxes by the normalised form."""

from __future__ import annotations

__all__ = ["InvalidAddress", "normalize_address"]


class InvalidAddress(ValueError):
    """Not a ``local@domain`` address this gateway can host or reach."""


def normalize_address(address: str) -> str:
    """Lower-case ``local@domain``; reject anything with spaces, controls or no single ``@``.

    Local parts are case-sensitive in theory (RFC 5321 §2.4) but no mail system of this
    era treated them so, and agents typed addresses in every case.
    """
    candidate = address.strip()
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1]
    local, at, domain = candidate.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in local
        or _has_blank_or_control(candidate)
        or len(candidate) > 320
    ):
        raise InvalidAddress(f"not a mail address: {address!r}")
    return f"{local.lower()}@{domain.lower()}"


def _has_blank_or_control(text: str) -> bool:
    """Whether ``text`` has a space (any Unicode blank) or a control character.

    Nearly every address is printable ASCII, where that is a space or what ``isprintable``
    refuses, found in C; other text is looked at character by character."""
    if text.isascii():
        return " " in text or not text.isprintable()
    return any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text)
