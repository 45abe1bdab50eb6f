"""Small helpers shared by the validator tests."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from edi_formats.models import DUA, OE
from validators.engine import RuleContext, validate
from validators.findings import Finding

M = TypeVar("M", bound=BaseModel)


def change(model: M, **changes: Any) -> M:
    """A validated copy of ``model`` with ``changes``."""
    data = model.model_dump()
    data.update(changes)
    return type(model).model_validate(data)


def findings_of(declaration: DUA | OE, ctx: RuleContext, rule_id: str) -> list[Finding]:
    return [f for f in validate(declaration, ctx) if f.rule_id == rule_id]


def rule_ids(declaration: DUA | OE, ctx: RuleContext) -> set[str]:
    return {f.rule_id for f in validate(declaration, ctx)}


def sample_dua(**kwargs: Any) -> DUA:
    from tests.validators.conftest import AS_OF
    from validators.samples import sample_declaration

    kwargs.setdefault("as_of", AS_OF)
    declaration = sample_declaration("dua", **kwargs)
    assert isinstance(declaration, DUA)
    return declaration


def sample_oe(**kwargs: Any) -> OE:
    from tests.validators.conftest import AS_OF
    from validators.samples import sample_declaration

    kwargs.setdefault("as_of", AS_OF)
    declaration = sample_declaration("oe", **kwargs)
    assert isinstance(declaration, OE)
    return declaration
