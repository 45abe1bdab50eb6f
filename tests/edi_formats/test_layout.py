"""The flat layouts cover every model field exactly once, and docs/formats.md matches them."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from edi_formats.codec import parse_declaration, parse_response
from edi_formats.flatfile.docs import BEGIN_MARK, END_MARK, layout_tables
from edi_formats.flatfile.layout import LAYOUTS, RESPONSE_LAYOUT, DocumentLayout, RecordSpec
from edi_formats.models import DUA, OE
from edi_formats.responses import DeclarationResponse

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside an annotation (Optional, tuple, Annotated), and whether it is a list."""
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin is tuple:
            annotation, is_list = args[0], True
        elif origin is not None and len(args) == 1:
            annotation = args[0]
        else:
            break
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, is_list
    return None, is_list


def _model_leaves(model: type[BaseModel], prefix: str = "") -> set[str]:
    leaves: set[str] = set()
    for name, info in model.model_fields.items():
        nested, is_list = _nested_model(info.annotation)
        path = f"{prefix}{name}{'[]' if is_list else ''}"
        if nested is None:
            leaves.add(path)
        else:
            leaves |= _model_leaves(nested, path + ".")
    return leaves


def _layout_leaves(layout: DocumentLayout) -> list[str]:
    covered: list[str] = []

    def walk(record: RecordSpec, prefix: str) -> None:
        base = f"{prefix}{record.target}." if record.target else prefix
        for spec in record.fields:
            covered.append(base.rstrip(".") if spec.attr is None else base + spec.attr)
        for child in record.children:
            walk(child, base)

    for record in layout.records:
        walk(record, "")
    return covered


@pytest.mark.parametrize(
    ("layout", "model", "fixed"),
    [
        (LAYOUTS["DUA"], DUA, {"document_type"}),
        (LAYOUTS["OE"], OE, {"document_type"}),
        (RESPONSE_LAYOUT, DeclarationResponse, set()),
    ],
    ids=["DUA", "OE", "RES"],
)
def test_layout_covers_every_model_field_once(
    layout: DocumentLayout, model: type[BaseModel], fixed: set[str]
) -> None:
    covered = _layout_leaves(layout)
    assert len(covered) == len(set(covered)), "a model field is written by two layout fields"
    assert set(covered) | fixed == _model_leaves(model)


def test_record_codes_are_unique_per_layout() -> None:
    for layout in (*LAYOUTS.values(), RESPONSE_LAYOUT):
        codes = [record.code for record in layout.all_records()]
        assert len(codes) == len(set(codes))
        assert all(re.fullmatch(r"[A-Z0-9]{3}", code) for code in codes)


def test_docs_hold_the_generated_tables() -> None:
    text = DOCS.read_text("utf-8")
    start, end = text.index(BEGIN_MARK), text.index(END_MARK) + len(END_MARK)
    assert text[start:end] == layout_tables(), "run: python -m edi_formats.flatfile.docs"


def test_docs_examples_parse() -> None:
    blocks = re.findall(r"```text\n(.*?)```", DOCS.read_text("utf-8"), re.S)
    files = [block for block in blocks if block.startswith("TDH|") and "TRL|" in block]
    assert len(files) == 3
    for block in files:
        data = block.encode("latin-1")
        if b"|RES|" in data:
            assert parse_response(data).status == "accepted"
        else:
            assert parse_declaration(data).document_type in ("DUA", "OE")
