"""The office registry: which customs offices exist, how they run and which node hosts them.

Shipped as data (``config/data/offices.toml``) so that a deployment can replace it without
touching code; the node reads it once at start-up.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Office",
    "OfficeCode",
    "OfficeMode",
    "OfficeRegistry",
    "UnknownOffice",
    "find_office",
    "load_offices",
    "move_office",
    "render_offices",
]

OfficeCode = Annotated[str, StringConstraints(pattern=r"^\d{3}$")]


class OfficeMode(StrEnum):
    HEADQUARTERS = "headquarters"
    CENTRALIZED = "centralized"
    DECENTRALIZED = "decentralized"


class Office(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: OfficeCode
    name: str
    mode: OfficeMode
    node: str = Field(min_length=1)
    teledispatch_from: date
    moved_from: str | None = None
    """The node that hosted the office before its last move (``teledispatch office move``)."""
    move_serial: int = Field(default=0, ge=0)
    """How many times the office moved: names the numbering handover each move needs."""


class OfficeRegistry(Mapping[str, Office]):
    """Offices by customs code."""

    def __init__(self, offices: list[Office]) -> None:
        by_code: dict[str, Office] = {}
        for office in offices:
            if office.code in by_code:
                raise ValueError(f"office {office.code} is listed twice")
            by_code[office.code] = office
        self._by_code = by_code

    def __getitem__(self, code: str) -> Office:
        return self._by_code[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    def hosted_by(self, node: str) -> list[Office]:
        return [office for office in self._by_code.values() if office.node == node]


class UnknownOffice(LookupError):
    """No office, or more than one, answers to what the user typed; the message says which.

    ``candidates`` holds the offices an ambiguous name could mean (empty: none at all)."""

    def __init__(self, message: str, candidates: tuple[Office, ...] = ()) -> None:
        super().__init__(message)
        self.candidates = candidates


def _folded(text: str) -> str:
    """Case- and accent-insensitive form of a name: "Marítima" and "MARITIMA" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def find_office(registry: OfficeRegistry, wanted: str) -> Office:
    """The office a broker means by a code (``118``) or a name (``Pisco``, ``maritima``).

    A name matches exactly (ignoring case and accents), or else as the one office whose name
    contains it; several candidates are an error that names them.
    """
    query = wanted.strip()
    if query.isdigit():
        office = registry.get(query.zfill(3))
        if office is None:
            raise UnknownOffice(f"no office with code {query}")
        return office
    folded = _folded(query)
    if not folded:
        raise UnknownOffice("name an office by its code or its name")
    exact = [office for office in registry.values() if _folded(office.name) == folded]
    candidates = exact or [o for o in registry.values() if folded in _folded(o.name)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise UnknownOffice(f"no office named {query!r}")
    names = ", ".join(f"{o.code} {o.name}" for o in candidates)
    raise UnknownOffice(f"{query!r} could be any of: {names}", tuple(candidates))


def _parse(data: dict[str, Any]) -> OfficeRegistry:
    return OfficeRegistry([Office.model_validate(entry) for entry in data.get("office", [])])


def load_offices(path: Path | None = None) -> OfficeRegistry:
    """Read the registry from ``path``, or the one shipped with the package."""
    if path is None:
        text = resources.files("config").joinpath("data/offices.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return _parse(tomllib.loads(text))


def move_office(registry: OfficeRegistry, code: str, to_node: str) -> OfficeRegistry:
    """The registry after moving office ``code`` to ``to_node``.

    Onto the Headquarters node the office becomes centralized, anywhere else decentralized.
    Raises ``KeyError`` for an unknown office, ``ValueError`` for a pointless move.
    """
    office = registry[code]
    if office.mode is OfficeMode.HEADQUARTERS:
        raise ValueError(f"office {code} is Headquarters itself and does not move")
    if office.node == to_node:
        raise ValueError(f"office {code} is already on node {to_node}")
    headquarters = {o.node for o in registry.values() if o.mode is OfficeMode.HEADQUARTERS}
    mode = OfficeMode.CENTRALIZED if to_node in headquarters else OfficeMode.DECENTRALIZED
    moved = office.model_copy(
        update={
            "node": to_node,
            "mode": mode,
            "moved_from": office.node,
            "move_serial": office.move_serial + 1,
        }
    )
    return OfficeRegistry([moved if o.code == code else o for o in registry.values()])


def _toml_value(value: object) -> str:
    if isinstance(value, StrEnum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_offices(registry: OfficeRegistry) -> str:
    """The registry as TOML, in the shape ``load_offices`` reads."""
    lines = ["# Office registry of the deployment (teledispatch office move rewrites it).", ""]
    for office in registry.values():
        lines.append("[[office]]")
        for name, value in office.model_dump(exclude_none=True).items():
            if name == "move_serial" and value == 0:
                continue
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
