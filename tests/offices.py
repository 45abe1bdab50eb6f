"""Office records the tests build (the shipped registry's offices are centralized)."""

from __future__ import annotations

from datetime import date

from config.offices import Office, OfficeMode

__all__ = ["decentralized_office"]


def decentralized_office(code: str, node: str, **extra: object) -> Office:
    """Office ``code``, run on its own node ``node``, in teledespacho since 1997."""
    return Office(
        code=code,
        name=f"Aduana {code}",
        mode=OfficeMode.DECENTRALIZED,
        node=node,
        teledispatch_from=date(1997, 1, 1),
        **extra,  # type: ignore[arg-type]
    )
