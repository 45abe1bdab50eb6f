"""``teledispatch schema``: the JSON Schema of the declarations, on standard output."""

from __future__ import annotations

import argparse
import json

import pytest

from gateway.cli import schema


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="teledispatch")
    schema.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    assert args.handler(args) == 0
    printed: dict[str, object] = json.loads(capsys.readouterr().out)
    return printed


def test_schema_of_either_document(capsys: pytest.CaptureFixture[str]) -> None:
    printed = _run(["schema"], capsys)
    assert printed["discriminator"] == {
        "propertyName": "document_type",
        "mapping": {"DUA": "#/$defs/DUA", "OE": "#/$defs/OE"},
    }


@pytest.mark.parametrize(("kind", "title"), [("dua", "DUA"), ("oe", "OE")])
def test_schema_of_one_document(kind: str, title: str, capsys: pytest.CaptureFixture[str]) -> None:
    printed = _run(["schema", kind], capsys)
    assert printed["title"] == title
    assert "document_type" in printed["properties"]  # type: ignore[operator]


def test_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(["schema", "cusdec"], capsys)
    assert exited.value.code == 2
