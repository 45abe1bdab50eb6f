"""docs/edifact.md tells the truth: its examples are what the code writes, its codes are raised."""

from __future__ import annotations

import re
from pathlib import Path

from edi_formats.codec import (
    WireFormat,
    parse_declaration,
    parse_response,
    render_declaration,
    render_response,
)
from edi_formats.errors import SYNTAX_ERROR_CODES
from tests.edi_formats.edifact.test_cusres import _accepted

ROOT = Path(__file__).resolve().parents[3]
GUIDE = (ROOT / "docs" / "edifact.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```text\n(.*?)```", GUIDE, re.S)


def _example(starting: str) -> bytes:
    (found,) = [block for block in EXAMPLES if starting in block]
    return found.replace("\n", "\r\n").encode("latin-1")


def test_the_cusdec_example_reads_and_is_canonical() -> None:
    example = _example("UNH+1+CUSDEC:D:96B:UN'\nBGM+929+19970303-DUA-001")
    assert render_declaration(parse_declaration(example), WireFormat.EDIFACT) == example


def test_the_cusres_example_is_what_the_office_writes() -> None:
    example = _example("BGM+962+19970303-DUA-001+9+AP'")
    assert example == render_response(_accepted(), WireFormat.EDIFACT)
    assert parse_response(example) == _accepted()


def test_every_code_raised_is_documented() -> None:
    sources = "".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "edi_formats" / "edifact").glob("*.py")
    )
    raised = set(re.findall(r'"(EDI-[A-Z]+)"', sources))
    assert raised == {code for code in SYNTAX_ERROR_CODES if code.startswith("EDI-")}
    table = set(re.findall(r"^\| `(EDI-[A-Z]+)` \|", GUIDE, re.M))
    assert table == raised
