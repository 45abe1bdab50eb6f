"""Each mapping rule of docs/edifact.md: the segment that carries a field, read and written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from edi_formats.codec import WireFormat, parse_declaration, render_declaration
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA, OE
from edi_formats.responses import DeclarationResponse
from tests.edi_formats.edifact.builders import body_of, interchange, with_segments
from tests.edi_formats.factories import full_dua, full_oe

DUA_BODY = body_of(full_dua())
OE_BODY = body_of(full_oe())


def _value(model: Any, path: str) -> Any:
    for step in path.split("."):
        model = model[int(step)] if step.isdigit() else getattr(model, step)
    return model


def _read(body: list[str]) -> DUA | OE:
    return parse_declaration(interchange(body))


def _error(body: list[str]) -> DeclarationSyntaxError:
    with pytest.raises(DeclarationSyntaxError) as caught:
        _read(body)
    return caught.value


# (segment as written for full_dua/full_oe, the same segment changed, model path, new value)
DUA_RULES = [
    ("BGM+929+REF-97/0001+9", "BGM+929+REF-2+9", "agent_reference", "REF-2"),
    (
        "CST++10:117:ZZZ+1-0:MOD:ZZZ+03:PLL:ZZZ+A:OPL:ZZZ",
        "CST++20:117:ZZZ+0-1:MOD:ZZZ+b:INC:ZZZ",
        "modality.category",
        "b",
    ),
    (
        "CST++10:117:ZZZ+1-0:MOD:ZZZ+03:PLL:ZZZ+A:OPL:ZZZ",
        "CST++20:RGM:ZZZ+0-1:MOD:ZZZ",
        "regime",
        "20",
    ),
    (
        "CST++10:117:ZZZ+1-0:MOD:ZZZ+03:PLL:ZZZ+A:OPL:ZZZ",
        "CST++10:117:ZZZ+1-0:MOD:ZZZ+04:PLL:ZZZ",
        "modality.arrival_point",
        "04",
    ),
    ("LOC+22+118", "LOC+22+235", "office", "235"),
    ("DTM+132:19970310:102", "DTM+132:19970312:102", "transport.arrival_date", date(1997, 3, 12)),
    (
        "DTM+206:19970311:102",
        "DTM+206:19970313:102",
        "transport.discharge_end_date",
        date(1997, 3, 13),
    ),
    ("FII+ZZZ+GAR-0001", "FII+ZZZ+GAR-0002", "guarantee_account", "GAR-0002"),
    ("MEA+WT+G+KGM:1000.000", "MEA+WT+G+KGM:999,5", "totals.gross_weight", Decimal("999.5")),
    ("MEA+WT+AAL+KGM:901.0", "MEA+WT+AAC+KGM:900", "totals.net_weight", Decimal(900)),
    ("EQD+CN+MSKU1234567", "EQD+CN+ABCU0000001", "transport.containers.0", "ABCU0000001"),
    (
        "FTX+AAI+++Mercadería frágil; ¡no apilar!",
        "FTX+AAI+++uno :dos",
        "observations_7_38",
        "uno dos",
    ),
    ("PAC+20", "PAC+21", "totals.packages", 21),
    ("TDT+20++1", "TDT+20++4", "transport.mode", "4"),
    ("TDT+20++1", "TDT+20++8", "transport.mode", "2"),
    (
        "NAD+IM+20100070970:RUC:ZZZ++IMPORTACIONES ÑANDÚ S.A.C."
        "+Av. Argentina 1234 | Callao \\ Perú",
        "NAD+IM+12345678:DNI:ZZZ++A+B",
        "importer.doc_type",
        "DNI",
    ),
    ("NAD+AE+4821", "NAD+AE+5307", "agent_code", "5307"),
    ("MOA+39:2000:USD", "MOA+39:1999.99", "totals.fob", Decimal("1999.99")),
    ("MOA+64:201.00:USD", "MOA+64:202:USD", "totals.freight", Decimal(202)),
    ("MOA+157:20.50:USD", "MOA+157:21:USD", "totals.insurance", Decimal(21)),
    ("MOA+40:2221.50:USD", "MOA+40:2222:USD", "totals.cif", Decimal(2222)),
    ("DOC+785+118-1997-123", "DOC+785+235-1998-000777", "transport.manifest.number", "000777"),
    ("DOC+705+HBL 2", "DOC+740+AWB 1", "transport.documents.1.number", "AWB 1"),
    (
        "DOC+705:::CONSOLIDADO+MSKU-BL-778",
        "DOC+705:::CONSOLIDADO 1 A 1+MSKU-BL-778",
        "transport.documents.0.doc_type",
        "3",
    ),
    ("DOC+704+MBL-1", "DOC+704+MBL-2", "transport.documents.0.master_number", "MBL-2"),
    ("DOC+785+118-1997-124", "DOC+785+046-1996-9", "transport.documents.0.manifest.office", "046"),
    ("NAD+CN+20100070970", "NAD+CN+X1", "transport.documents.0.consignee_doc_number", "X1"),
    ("DMS+F001-100+380", "DMS+F9+380", "invoices.1.number", "F9"),
    ("DMS+F001-99+380:::FACTURA ELECTRONICA", "DMS+F001-99+380", "invoices.0.electronic", False),
    ("DTM+3:19970220:102", "DTM+3:19970221:102", "invoices.0.issued_on", date(1997, 2, 21)),
    ("MOA+39:1700.00:DEM", "MOA+39::USD", "invoices.0.amount", None),
    ("NAD+SU+++Müller GmbH+Köln++++DE", "NAD+SU+++X+++++FR", "invoices.0.supplier.country", "FR"),
    ("COM+?+49 221 123456:FX", "COM+123 4567:FX", "invoices.0.supplier_fax", "123 4567"),
    ("COM+ventas@muller.de:EM", "COM+a@b:EM", "invoices.0.supplier_email", "a@b"),
    ("DOC+SEG:TDD:ZZZ+POL-55", "DOC+SEG:TDD:ZZZ+POL-56", "insurance.number", "POL-56"),
    ("DTM+182:19970221:102", "DTM+182:19970222:102", "insurance.issued_on", date(1997, 2, 22)),
    (
        "FTX+AAI++SEG:TDD:ZZZ+La Positiva",
        "FTX+AAI++SEG:TDD:ZZZ+Rímac",
        "insurance.insurer",
        "Rímac",
    ),
    ("CST+1+8471300000:108:ZZZ", "CST+7+8471300001:108:ZZZ", "series.0.subpartida", "8471300001"),
    ("CST+1+8471300000:108:ZZZ", "CST+7+8471300001:SPN:ZZZ", "series.0.number", 7),
    (
        "FTX+AAA+++Computadoras portátiles, lote 1",
        "FTX+AAA+++Otra cosa",
        "series.0.description",
        "Otra cosa",
    ),
    ("FTX+AAI+++Ver carta \\ anexo", "FTX+AAI+++Sin anexo", "series.0.observations", "Sin anexo"),
    ("LOC+27+US", "LOC+27+MX", "series.0.origin_country", "MX"),
    ("MEA+AAF++U:5.5", "MEA+AAF++U:6", "series.0.quantity", Decimal(6)),
    ("MEA+AAF++U:5.5", "MEA+AAF++KGM:7.25", "series.0.unit", "KGM"),
    ("MOA+38:1000:USD", "MOA+38:999:USD", "series.0.fob", Decimal(999)),
    ("GIS+N:EST:ZZZ", "GIS+U:EST:ZZZ", "series.0.state", "U"),
    ("GIS+99:TPR:ZZZ", "GIS+97:TPR:ZZZ", "series.0.tprod", "97"),
    ("GIS+20:C24:ZZZ", "GIS+30:C24:ZZZ", "series.0.codes_7_24.0", "30"),
    (
        "RFF+AAE:118-1996-10-000123:3",
        "RFF+AAE:118-1996-10-000124:4",
        "series.0.preceding_declaration.series",
        4,
    ),
    (
        "DOC+01:TDD:ZZZ+MTC-555::08",
        "DOC+07:TDD:ZZZ+MTC-556::08",
        "series.0.control_documents.0.document_code",
        "07",
    ),
    (
        "DOC+01:TDD:ZZZ+MTC-555::08",
        "DOC+01:TDD:ZZZ+MTC-555::09",
        "series.0.control_documents.0.entity_code",
        "09",
    ),
    (
        "DTM+36:19970705:102",
        "DTM+36:19970706:102",
        "series.0.control_documents.0.expires_on",
        date(1997, 7, 6),
    ),
]

OE_RULES = [
    ("BGM+830+OE-97-7+9", "BGM+830+OE-2+9", "document_type", "OE"),
    ("CST++40:117:ZZZ", "CST++41:117:ZZZ", "regime", "41"),
    ("LOC+28+DE", "LOC+28+FR", "destination_country", "FR"),
    ("DTM+11:19970305:102", "DTM+11:19970306:102", "transport.shipment_date", date(1997, 3, 6)),
    ("GIS+S:DJR:ZZZ", "GIS+N:DJR:ZZZ", "sworn_statement", False),
    ("FTX+AAI+++Embarque parcial", "FTX+AAI+++Total", "observations", "Total"),
    (
        "NAD+EX+20100070970:RUC:ZZZ++Café Perú SAC",
        "NAD+EX+20100070970:RUC:ZZZ++Otro",
        "exporter.name",
        "Otro",
    ),
    (
        "NAD+CN+++Kaffee Import AG+++++DE",
        "NAD+CN+++Kaffee Import AG+Hafenstr. 1++++DE",
        "consignee.address",
        "Hafenstr. 1",
    ),
    ("MOA+39:5000.00:USD", "MOA+39:5001:USD", "totals.fob", Decimal(5001)),
]


@pytest.mark.parametrize(("written", "changed", "path", "value"), DUA_RULES)
def test_dua_mapping_rule(written: str, changed: str, path: str, value: Any) -> None:
    assert written in DUA_BODY, f"{written!r} is how full_dua() writes {path}"
    assert _value(_read(DUA_BODY), path) != value
    assert _value(_read([changed if s == written else s for s in DUA_BODY]), path) == value


@pytest.mark.parametrize(("written", "changed", "path", "value"), OE_RULES)
def test_oe_mapping_rule(written: str, changed: str, path: str, value: Any) -> None:
    assert written in OE_BODY, f"{written!r} is how full_oe() writes {path}"
    changed_body = [changed if s == written else s for s in OE_BODY]
    if path != "document_type":
        assert _value(_read(OE_BODY), path) != value
    assert _value(_read(changed_body), path) == value


def test_full_declarations_round_trip_and_render_canonically() -> None:
    for declaration in (full_dua(), full_oe()):
        data = render_declaration(declaration, WireFormat.EDIFACT)
        assert parse_declaration(data) == declaration
        assert render_declaration(parse_declaration(data), WireFormat.EDIFACT) == data


def test_long_names_take_several_lines_and_long_text_several_segments() -> None:
    name = "IMPORTADORA " + "X" * 150  # 162 characters: five 35-character lines
    observations = "".join(f"linea {n:03d} " for n in range(100))  # 1000 characters
    declaration = full_dua().model_copy(
        update={
            "importer": full_dua().importer.model_copy(update={"name": name}),
            "observations_7_38": observations.strip(),
        }
    )
    body = body_of(declaration)
    nad = next(s for s in body if s.startswith("NAD+IM"))
    assert nad.split("+")[4].count(":") == 4
    assert sum(s.startswith("FTX+AAI+++linea") for s in body) == 3
    assert _read(body) == declaration


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("importer.name", "N" * 176, "175"),
        ("importer.address", "A" * 141, "140"),
        ("series.0.unit", "KGMS", "6411"),
        ("totals.packages", 100_000_000, "PAC"),
        ("series.0.quantity", Decimal("123456789012.3456"), "6314"),
    ],
)
def test_what_d96b_cannot_carry_is_refused_when_writing(field: str, value: Any, words: str) -> None:
    data = full_dua().model_dump()
    target = data
    steps = field.split(".")
    for step in steps[:-1]:
        target = target[int(step)] if step.isdigit() else target[step]
    target[steps[-1]] = value
    declaration = DUA.model_validate(data)
    with pytest.raises(DeclarationSyntaxError) as caught:
        render_declaration(declaration, WireFormat.EDIFACT)
    assert caught.value.code == "EDI-LIMIT"
    assert caught.value.position == field.replace(".0.", "[0].").replace("series.0", "series[0]")
    assert words in caught.value.message


def test_the_anticipado_exception_travels_in_a_gis() -> None:
    declaration = full_dua().model_copy(update={"anticipado_exception": "c"})
    body = body_of(declaration)
    assert body[body.index("GIS+c:EXA:ZZZ") - 1] == "DTM+206:19970311:102"
    assert _read(body) == declaration
    error = _error(with_segments(OE_BODY, {"GIS+S:DJR:ZZZ": "GIS+c:EXA:ZZZ"}))
    assert error.code == "EDI-SEGMENT" and "(GIS)" in (error.position or "")


def test_quantity_without_unit_and_unit_without_quantity() -> None:
    series = full_dua().series[0]
    only_quantity = series.model_copy(update={"unit": None})
    only_unit = series.model_copy(update={"quantity": None})
    for item, segment in ((only_quantity, "MEA+AAF++:5.5"), (only_unit, "MEA+AAF++U")):
        declaration = full_dua().model_copy(update={"series": (item, full_dua().series[1])})
        body = body_of(declaration)
        assert segment in body
        assert _read(body) == declaration


# -- tolerance and strictness ---------------------------------------------------------------------


def test_optional_d96b_segments_this_guide_does_not_use_are_skipped() -> None:
    body = list(DUA_BODY)
    body.insert(body.index("LOC+22+118") + 1, "LOC+9+CNSHA")
    body.insert(body.index("LOC+22+118") + 1, "LOC+35+PECLL")
    body.insert(body.index("DTM+132:19970310:102"), "DTM+137:199703031200:203")
    body.insert(body.index("EQD+CN+TGHU7654321") + 1, "SEL+12345")
    body.insert(body.index("RFF+ZZZ:REF-97/0001"), "FTX+ACB+++INSTRUCCIONES")
    body.insert(body.index("RFF+ZZZ:REF-97/0001"), "RFF+ABO:MI-REF-9")
    body.insert(body.index("RFF+ZZZ:REF-97/0001"), "DTM+171:19970301:102")
    consignor = "NAD+CZ+++SHIPPER LTD+1 HARBOUR RD+SHANGHAI++200000+CN"
    body.insert(body.index("NAD+AE+4821") + 1, consignor)
    body.insert(body.index("NAD+AE+4821") + 1, "CTA+IC+:PEREZ")
    body = with_segments(body, {"NAD+AE+4821": "NAD+AE+4821+++++LIMA++15001+PE"})
    body.insert(body.index("MOA+39:2000:USD"), "TOD+1++CIF")
    body.insert(body.index("UNS+D"), "MOA+161:360.00:USD")
    body.insert(body.index("CST+2+8471300000:108:ZZZ"), "TAX+5+IGV+++:::18+S")
    body.insert(body.index("CNT+5:2"), "CNT+11:40")
    assert _read(body) == full_dua()


def test_standard_order_cusdec_from_a_partner_is_read() -> None:
    """A D.96B translator's CUSDEC: the insurance policy's DOC group right before the parties
    (once refused as "parte 'IM' en el seguro"), a consignor, the customs office and the
    exit place in LOC, no heading manifest nor supplier."""
    body = [
        s
        for s in DUA_BODY
        if not s.startswith(("DOC+785", "DOC+704", "NAD+SU", "RFF+IV", "CTA", "COM"))
    ]
    body.insert(body.index("LOC+22+118"), "LOC+35+PECLL")
    body.insert(body.index("NAD+AE+4821") + 1, "NAD+CZ+++SHIPPER LTD++SHANGHAI++200000+CN")
    assert body[body.index("NAD+AE+4821") - 2].startswith("DTM+182")  # the policy's date
    declaration = _read(body)
    assert declaration.importer.doc_number == "20100070970"  # type: ignore[union-attr]
    assert declaration.invoices[0].supplier is None
    assert declaration.transport.manifest is None
    assert declaration.insurance is not None and declaration.insurance.number == "POL-55"


def test_what_the_guide_does_not_use_is_ignored_not_refused() -> None:
    for old, new in (
        ("LOC+22+118", ["LOC+22+118", "LOC+9+CNSHA"]),
        ("MOA+40:2221.50:USD", ["MOA+40:2221.50:USD", "MOA+999:2221.50:USD"]),
        ("NAD+AE+4821", "NAD+AE+4821+++++LIMA"),
        ("FTX+AAI+++Mercadería frágil; ¡no apilar!", "FTX+ACB+++x"),
    ):
        body = with_segments(DUA_BODY, {old: new})
        read = _read(body)
        assert read.agent_code == "4821"


@pytest.mark.parametrize(
    ("old", "new", "code", "tag"),
    [
        ("DTM+132:19970310:102", "DTM+132:199703101200:203", "EDI-VALUE", "(DTM)"),
        ("DTM+132:19970310:102", "DTM+132:19970231:102", "EDI-VALUE", "(DTM)"),
        ("MEA+WT+G+KGM:1000.000", "MEA+WT+G+TNE:1", "EDI-VALUE", "(MEA)"),
        ("MEA+WT+G+KGM:1000.000", "MEA+WT+G+KGM:1.000,5", "EDI-VALUE", "(MEA)"),
        ("MOA+40:2221.50:USD", "MOA+40:2221.50:PEN", "EDI-VALUE", "(MOA)"),
        ("TDT+20++1", "TDT+20++6", "EDI-VALUE", "(TDT)"),
        ("NAD+AE+4821", ["NAD+AE+4821", "NAD+AE+4821"], "EDI-SEGMENT", "(NAD)"),
        ("GIS+N:EST:ZZZ", "GIS+N:XYZ:ZZZ", "EDI-SEGMENT", "(GIS)"),
        ("CST+1+8471300000:108:ZZZ", "CST+1+8471300000:HS:ZZZ", "EDI-VALUE", "(CST)"),
        ("CST+1+8471300000:108:ZZZ", "CST+1+84713000A0:108:ZZZ", "EDI-VALUE", "(CST)"),
        ("PAC+20", "PAC+2.5", "EDI-VALUE", "(PAC)"),
        ("BGM+929+REF-97/0001+9", "BGM+929+REF-97/0001+5", "EDI-VALUE", "(BGM)"),
        ("BGM+929+REF-97/0001+9", "BGM+933+REF-97/0001+9", "EDI-VALUE", "(BGM)"),
        ("DOC+705:::CONSOLIDADO+MSKU-BL-778", "DOC+705:::MIXTO+MSKU-BL-778", "EDI-VALUE", "(DOC)"),
        ("XYZ", "XYZ", "", ""),
    ],
)
def test_what_cannot_be_mapped_is_named_by_its_position(
    old: str, new: str | list[str], code: str, tag: str
) -> None:
    if old == "XYZ":
        body = [*DUA_BODY[:5], "XYZ+1", *DUA_BODY[5:]]
        error = _error(body)
        assert (error.code, error.position) == ("EDI-SEGMENT", "segmento 7 del mensaje (XYZ)")
        return
    body = with_segments(DUA_BODY, {old: new})
    error = _error(body)
    assert error.code == code
    assert error.position is not None and tag in error.position
    changed = [new] if isinstance(new, str) else new
    number = DUA_BODY.index(old) + len(changed) - 1 + 2  # UNH is segment 1 of the message
    assert error.position.startswith(f"segmento {number} del mensaje")


def test_segments_out_of_order_are_refused() -> None:
    body = list(DUA_BODY)
    body.remove("LOC+22+118")
    body.insert(body.index("PAC+20") + 1, "LOC+22+118")
    error = _error(body)
    assert error.code == "EDI-SEGMENT" and "no va en esta posición" in error.message
    assert error.position == f"segmento {body.index('LOC+22+118') + 2} del mensaje (LOC)"


def test_every_error_is_reported_not_only_the_first() -> None:
    body = with_segments(
        DUA_BODY,
        {
            "DTM+132:19970310:102": "DTM+132:19970231:102",
            "TDT+20++1": "TDT+20++6",
            "PAC+10": "PAC+1.5",
        },
    )
    body.insert(body.index("UNS+D"), "QTY+47:1")
    error = _error(body)
    found = [(problem.code, (problem.position or "").split(",")[0]) for problem in error.every]
    tdt = body.index("TDT+20++6") + 2
    qty = body.index("QTY+47:1") + 2
    pacs = [number + 2 for number, segment in enumerate(body) if segment == "PAC+1.5"]
    assert found == [
        ("EDI-VALUE", "segmento 5 del mensaje (DTM)"),
        ("EDI-VALUE", f"segmento {tdt} del mensaje (TDT)"),
        ("EDI-SEGMENT", f"segmento {qty} del mensaje (QTY)"),
        *[("EDI-VALUE", f"segmento {pac} del mensaje (PAC)") for pac in pacs],
    ]
    assert len(pacs) == 2
    response = DeclarationResponse.rejected_unreadable(error, datetime(1997, 3, 3, tzinfo=UTC))
    assert [finding.rule_id for finding in response.findings] == [code for code, _ in found]


def test_a_missing_mandatory_segment_is_named() -> None:
    error = _error([s for s in DUA_BODY if s != "PAC+20"])
    assert error.code == "EDI-SEGMENT" and "PAC (bultos totales" in error.message
    body = [s for s in DUA_BODY if s != "MOA+38:1000:USD"]
    error = _error(body)
    cst = body.index("CST+1+8471300000:108:ZZZ") + 2
    assert "MOA+38" in error.message and error.position == f"segmento {cst} del mensaje (CST)"
    error = _error([s for s in DUA_BODY if s != "UNS+D"])
    assert "UNS" in error.message


def test_the_item_count_in_cnt_is_checked() -> None:
    error = _error(with_segments(DUA_BODY, {"CNT+5:2": "CNT+5:3"}))
    assert error.code == "EDI-COUNT"
    assert (
        error.position
        == f"segmento {len(DUA_BODY) + 1} del mensaje (CNT), elemento 1, componente 2"
    )


def test_a_value_the_model_refuses_is_named() -> None:
    error = _error(with_segments(DUA_BODY, {"LOC+22+118": "LOC+22+1180"}))
    assert error.code == "EDI-VALUE" and error.message.startswith("Aduana de despacho: ")
    assert error.position == "segmento 4 del mensaje (LOC), elemento 2"


def test_a_refusal_names_the_field_as_the_form_does_never_the_models_path() -> None:
    """What the model refuses deep in a list is told with the form's words ("Serie 1",
    "país del proveedor"), not as ``invoices[0].supplier.country``."""
    supplier = "NAD+SU+++Müller GmbH+Köln++++DE"
    body = with_segments(DUA_BODY, {supplier: supplier.replace("+DE", "+D1")})
    body.remove("MOA+38:1000:USD")  # the first series
    found = {problem.code: problem.message for problem in _error(body).every}
    assert found["EDI-VALUE"].startswith(
        "Factura o documento equivalente 1, proveedor de la factura: país del proveedor: "
        "formato no válido; se espera el código ISO de 2 letras"
    )
    assert found["EDI-SEGMENT"] == "Serie 1: falta MOA+38 (valor FOB de la serie)"
    assert not any("[" in message or "_" in message for message in found.values())
