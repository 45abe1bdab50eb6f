"""The office registry: which customs offices exist, how they run and which node hosts them.

Shipped as data (``config/data/offices.toml``) so that a deployment can replace it without
touching code; the node reads it once at start-up.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["Office", "OfficeCode", "OfficeMode", "OfficeRegistry", "load_offices"]

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


def _parse(data: dict[str, Any]) -> OfficeRegistry:
    return OfficeRegistry([Office.model_validate(entry) for entry in data.get("office", [])])


def load_offices(path: Path | None = None) -> OfficeRegistry:
    """Read the registry from ``path``, or the one shipped with the package."""
    if path is None:
        text = resources.files("config").joinpath("data/offices.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return _parse(tomllib.loads(text))
