"""Segments as the mapping layers see them: a tag, its elements, and where it stood.

An element is a ``str`` (simple) or a tuple of components (composite); readers here ask for
"element 3, component 2" and get ``""`` when it is absent, whatever shape the sender chose.
Every segment keeps its position, so a finding can name it the way a broker counts:
``segmento 7 del mensaje (DTM)``, with UNH as segment 1, as UNT counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["EdiSegment", "Element", "trimmed"]

Element = str | tuple[str, ...]
"""A data element: a simple value or the components of a composite."""


@dataclass(frozen=True, slots=True)
class EdiSegment:
    """One segment of an interchange.

    ``number`` is the position in the message (UNH = 1) for segments between UNH and UNT, and
    the position in the interchange (UNB = 1) for envelope segments (``in_message`` False).
    """

    tag: str
    elements: tuple[Element, ...]
    number: int
    in_message: bool = True

    def get(self, element: int, component: int = 1) -> str:
        """Component ``component`` of element ``element`` (1 = first after the tag), or ``""``."""
        if element < 1 or element > len(self.elements):
            return ""
        value = self.elements[element - 1]
        if isinstance(value, str):
            return value if component == 1 else ""
        return value[component - 1] if component <= len(value) else ""

    def components(self, element: int) -> tuple[str, ...]:
        """Every component of element ``element`` (a simple element is one component)."""
        if element < 1 or element > len(self.elements):
            return ()
        value = self.elements[element - 1]
        return (value,) if isinstance(value, str) else value

    def values(self) -> list[str]:
        """Every component of every element, for character checks."""
        out: list[str] = []
        for value in self.elements:
            if isinstance(value, str):
                out.append(value)
            else:
                out.extend(value)
        return out

    def where(self, element: int | None = None, component: int | None = None) -> str:
        """Where this segment (and element, component) is, in the broker's words."""
        if self.in_message:
            text = f"segmento {self.number} del mensaje ({self.tag})"
        else:
            text = f"segmento {self.number} del intercambio ({self.tag})"
        if element is not None:
            text += f", elemento {element}"
            if component is not None and len(self.components(element)) > 1:
                text += f", componente {component}"
        return text


def trimmed(elements: Sequence[Element | None]) -> list[str | list[str]]:
    """Elements ready for ``lexer.serialize``: None as empty, trailing empties dropped.

    ISO 9735 wants trailing empty elements and components left out (``DOC+380+X``, not
    ``DOC+380+X++``).
    """
    out: list[str | list[str]] = []
    for value in elements:
        if value is None:
            out.append("")
        elif isinstance(value, str):
            out.append(value)
        else:
            parts = list(value)
            while parts and parts[-1] == "":
                parts.pop()
            out.append(parts if len(parts) > 1 else (parts[0] if parts else ""))
    while out and out[-1] == "":
        out.pop()
    return out
