"""One class per kind of header field, not one per field read: a documented local patch of
Python's ``email.headerregistry`` (3.11), installed by ``gateway.imap``.

``HeaderRegistry.__getitem__`` makes a new class (``type(...)``) for every field it
parses, each a knot of references (the class, its MRO, its dictionary) that only the cyclic
collector frees. pymap parses each part's header fields with it: one ``FETCH BODYSTRUCTURE``
of a mail of 999 parts left 3 000 such objects, and with four IMAP clients fetching such
mails the node ran 122 full collections in 23 s, up to 111 ms each, holding the interpreter
lock while every other client waited. Here ``__getitem__`` returns the class made once for
each pair of registered class and base class: the same class as before for the same name,
so the headers parsed are the same, and ``map_to_type`` still takes effect.

Upstream fix (CPython, ``email.headerregistry``): the same cache in ``__getitem__``.
"""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry
from typing import Final

__all__ = ["install"]

_MADE: Final[dict[tuple[type, type], type[BaseHeader]]] = {}


def _header_class(self: HeaderRegistry, name: str) -> type[BaseHeader]:
    """``HeaderRegistry.__getitem__``: the class for ``name``'s fields, made once."""
    specialized: type = self.registry.get(name.lower(), self.default_class)
    key = (specialized, self.base_class)
    made = _MADE.get(key)
    if made is None:
        made = _MADE.setdefault(
            key, type("_" + specialized.__name__, (specialized, self.base_class), {})
        )
    return made


def install() -> None:
    """Patch ``HeaderRegistry.__getitem__`` (idempotent)."""
    HeaderRegistry.__getitem__ = _header_class  # type: ignore[method-assign]
