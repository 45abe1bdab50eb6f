"""The D.96B segment tables walked as a partner's translator walks them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edi_formats.codec import (
    WireFormat,
    parse_declaration,
    render_declaration,
    render_response,
    render_syntax_report,
)
from edi_formats.edifact.directory import CONTRL_TABLE, CUSDEC_TABLE, CUSRES_TABLE
from edi_formats.edifact.lexer import lex
from edi_formats.edifact.structure import (
    MISSING,
    NOT_IN_POSITION,
    TOO_MANY_REPETITIONS,
    check_structure,
)
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.responses import DeclarationResponse, ResponseFinding, ResponseStatus
from tests.edi_formats.edifact.builders import sample
from tests.edi_formats.factories import full_dua, full_oe


def _tags(body: list[str]) -> list[tuple[str, int]]:
    return [(segment[:3], number) for number, segment in enumerate(body, start=2)]


def message_tags(data: bytes) -> list[tuple[str, int]]:
    """(tag, position) of every segment between UNH and UNT of a one-message interchange."""
    _, found = lex(data.decode("latin-1"))
    tags = [segment.tag for segment in found]
    start, end = tags.index("UNH"), tags.index("UNT")
    return [(tag, number) for number, tag in enumerate(tags[start + 1 : end], start=2)]


def test_groups_open_repeat_and_close() -> None:
    body = ["BGM", "RFF", "DTM", "PAC", "PCI", "RFF", "DOC", "DTM", "DOC", "NAD", "CTA", "UNS"]
    body += ["CST", "FTX", "PAC", "MOA", "RFF", "DOC", "GIS", "CST", "UNS", "CNT"]
    placed, problems = check_structure(_tags(body), CUSDEC_TABLE)
    assert problems == []
    assert [(p.tag, p.groups) for p in placed[:5]] == [
        ("BGM", ()),
        ("RFF", (1,)),
        ("DTM", (1,)),
        ("PAC", (1, 2)),
        ("PCI", (1, 2, 3)),
    ]
    assert [p.groups for p in placed if p.tag == "GIS"] == [(30, 40)]


def test_every_problem_is_reported_not_only_the_first() -> None:
    body = ["BGM", "PAC", "DTM", "NAD", "DOC", "UNS", "CST", "QTY", "GIS", "NAD", "UNS"]
    _, problems = check_structure(_tags(body), CUSDEC_TABLE)
    assert [(p.code, p.tag, p.position) for p in problems] == [
        (NOT_IN_POSITION, "PAC", 3),  # PAC is only in the RFF group of the heading
        (NOT_IN_POSITION, "DOC", 6),  # document groups come before the parties
        (NOT_IN_POSITION, "QTY", 9),  # no QTY in the customs item group
        (NOT_IN_POSITION, "NAD", 11),  # the item's NAD comes before its GIS group
    ]


def test_missing_mandatory_and_too_many_repetitions() -> None:
    _, problems = check_structure(_tags(["BGM", "FII", "FII"]), CUSDEC_TABLE)
    assert [(p.code, p.tag) for p in problems] == [
        (TOO_MANY_REPETITIONS, "FII"),
        (MISSING, "UNT"),
        (MISSING, "UNT"),
    ]
    assert "UNS" in problems[1].message


def test_the_sample_cusres_follows_the_d96b_table() -> None:
    response = DeclarationResponse(
        status=ResponseStatus.REJECTED,
        document_type="DUA",
        office="118",
        agent_reference="REF-1",
        received_at=datetime(1997, 3, 3, 15, 0, tzinfo=UTC),
        findings=(
            ResponseFinding(
                rule_id="STR-CIF",
                severity="error",
                field="series[0].cif",
                message="Casilla 7.21: el valor CIF no es FOB + flete + seguro.",
                citation="INTA-PG.01 VII.A.22",
            ),
        ),
    )
    data = render_response(response, WireFormat.EDIFACT)
    assert check_structure(message_tags(data), CUSRES_TABLE)[1] == []


def test_the_sample_cusdecs_follow_the_d96b_table() -> None:
    for kind in ("dua", "oe"):
        data = render_declaration(sample(kind), WireFormat.EDIFACT)
        assert check_structure(message_tags(data), CUSDEC_TABLE)[1] == [], kind
    for declaration in (full_dua(), full_oe()):
        data = render_declaration(declaration, WireFormat.EDIFACT)
        assert check_structure(message_tags(data), CUSDEC_TABLE)[1] == []


def test_a_routed_cusres_and_a_contrl_follow_their_tables() -> None:
    cusdec = render_declaration(full_dua(), WireFormat.EDIFACT).replace(b"UNT+80+", b"UNT+79+")
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_declaration(cusdec)
    error = caught.value
    response = DeclarationResponse.rejected_unreadable(
        error, datetime(1997, 3, 3, tzinfo=UTC), office="118"
    )
    cusres = render_response(response, WireFormat.EDIFACT, cusdec)
    assert check_structure(message_tags(cusres), CUSRES_TABLE)[1] == []
    contrl = render_syntax_report(error, response, cusdec)
    assert contrl is not None and b"UCS+80+29'" in contrl
    assert check_structure(message_tags(contrl), CONTRL_TABLE)[1] == []
