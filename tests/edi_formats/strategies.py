"""Hypothesis strategies that build any valid model, read from the models' own annotations.

Generated from the field types and constraints, so a field the models gain is generated
(and round-tripped) without touching the tests.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

import annotated_types
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, StringConstraints, ValidationError
from pydantic.fields import FieldInfo

from edi_formats.models import DUA, OE

_PRINTABLE = st.characters(
    blacklist_categories=("Cc", "Cs"), blacklist_characters="\x85", max_codepoint=0x2FFF
)


def _flatten(meta: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in meta:
        if isinstance(item, FieldInfo):
            out.extend(_flatten(list(item.metadata)))
        else:
            out.append(item)
    return out


def _strings(meta: list[Any]) -> st.SearchStrategy[str]:
    pattern = None
    max_length = 40
    for item in meta:
        if isinstance(item, StringConstraints):
            pattern = item.pattern or pattern
            max_length = min(max_length, item.max_length or max_length)
        elif isinstance(item, annotated_types.MaxLen):
            max_length = min(max_length, item.max_length)
        elif getattr(item, "pattern", None):
            pattern = item.pattern
    if pattern is None or str(pattern).startswith("^[^"):
        return st.text(_PRINTABLE, min_size=1, max_size=max_length).map(str.strip).filter(bool)
    return st.from_regex(str(pattern), fullmatch=True)


def _integers(meta: list[Any]) -> st.SearchStrategy[int]:
    low, high = 0, 10**6
    for item in meta:
        if isinstance(item, annotated_types.Ge):
            low = int(item.ge)  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Le):
            high = min(high, int(item.le))  # type: ignore[call-overload]
    return st.integers(low, max(low, high))


_DECIMALS = st.builds(
    lambda digits, scale: Decimal(digits).scaleb(-scale),
    st.integers(-(10**12), 10**12),
    st.integers(0, 4),
)
_DATETIMES = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from([0, -300, 60, 330]),
)


def for_annotation(annotation: Any, meta: list[Any]) -> st.SearchStrategy[Any]:
    """Values for one annotation with its pydantic/annotated-types metadata."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return for_annotation(base, [*meta, *_flatten(extra)])
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        options = [for_annotation(arg, meta) for arg in args if arg is not type(None)]
        if type(None) in args:
            options.insert(0, st.none())
        return st.one_of(options)
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(annotation))
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return st.lists(for_annotation(item, []), max_size=3).map(tuple)
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return model_dicts(annotation)
        if issubclass(annotation, Enum):
            return st.sampled_from(list(annotation))
        if annotation is bool:
            return st.booleans()
        if annotation is int:
            return _integers(meta)
        if annotation is Decimal:
            return _DECIMALS
        if annotation in (datetime, AwareDatetime):
            return _DATETIMES
        if annotation is date:
            return st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))
        if annotation is str:
            return _strings(meta)
    raise TypeError(f"no strategy for {annotation!r}")


def model_dicts(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Input dicts for ``model``: every field, values from its annotation."""
    fields = {
        name: for_annotation(info.annotation, _flatten(list(info.metadata)))
        for name, info in model.model_fields.items()
    }
    return st.fixed_dictionaries(fields)


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def models_of(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Valid instances of ``model`` (inputs the model refuses are filtered out)."""
    return (
        model_dicts(model)
        .map(lambda data: _validated(model, data))
        .filter(lambda value: value is not None)
    )


declarations: st.SearchStrategy[DUA | OE] = st.one_of(models_of(DUA), models_of(OE))
aware_datetimes = _DATETIMES
utc = UTC
