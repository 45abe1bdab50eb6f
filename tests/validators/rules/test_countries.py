"""STR-COUNTRY: a country box is judged by the ISO 3166-1 codes of the transmission's day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from config import OfficeRegistry
from config.reference import ReferenceFiles, load_reference
from edi_formats.models import OE
from tests.validators.helpers import change, findings_of, sample_dua, sample_oe
from validators.engine import RuleContext


def _oe_to(country: str, as_of: date) -> OE:
    oe = sample_oe(as_of=as_of)
    return change(oe, destination_country=country, consignee=change(oe.consignee, country=country))


def test_a_code_iso_never_assigned_is_refused_in_the_brokers_words(ctx: RuleContext) -> None:
    dua = sample_dua()
    broken = change(dua, series=(change(dua.series[0], origin_country="UK"), *dua.series[1:]))
    (finding,) = findings_of(broken, ctx, "STR-COUNTRY")
    assert finding.field == "series[0].origin_country"
    assert finding.message == (
        "Serie 1, casilla País de origen: UK no es un código de país de la norma ISO 3166-1 "
        "(p. ej. CN, US, DE)."
    )


def test_a_withdrawn_code_names_the_codes_in_force_that_replaced_it(
    offices: OfficeRegistry,
) -> None:
    as_of = date(2025, 3, 3)
    findings = findings_of(
        _oe_to("YU", as_of), RuleContext(as_of=as_of, offices=offices), "STR-COUNTRY"
    )
    assert [f.field for f in findings] == ["destination_country", "consignee.country"]
    assert findings[0].message == (
        "Casilla País de destino: el código YU (Yugoslavia) dejó de usarse el 23/07/2003; "
        "en su lugar se consigna RS o ME."
    )
    assert findings[1].message.startswith("Casilla Consignatario, país: el código YU")


def test_the_replacement_offered_is_the_one_of_the_day(offices: OfficeRegistry) -> None:
    as_of = date(2005, 3, 3)
    (first, _) = findings_of(
        _oe_to("YU", as_of), RuleContext(as_of=as_of, offices=offices), "STR-COUNTRY"
    )
    assert first.message.endswith("en su lugar se consigna CS.")


def test_a_code_of_its_day_is_accepted(offices: OfficeRegistry) -> None:
    """Yugoslavia and the Netherlands Antilles were countries of ISO 3166-1 in 1998."""
    as_of = date(1998, 6, 1)
    ctx = RuleContext(as_of=as_of, offices=offices)
    assert findings_of(_oe_to("YU", as_of), ctx, "STR-COUNTRY") == []
    assert findings_of(_oe_to("AN", as_of), ctx, "STR-COUNTRY") == []


def test_a_code_assigned_after_the_day_is_refused_with_its_date(offices: OfficeRegistry) -> None:
    as_of = date(2010, 3, 3)
    (finding, _) = findings_of(
        _oe_to("SS", as_of), RuleContext(as_of=as_of, offices=offices), "STR-COUNTRY"
    )
    assert finding.message == (
        "Casilla País de destino: el código SS (South Sudan) rige desde el 09/08/2011; "
        "el 03/03/2010 no era un código de país."
    )
    later = date(2011, 8, 9)
    assert (
        findings_of(_oe_to("SS", later), RuleContext(as_of=later, offices=offices), "STR-COUNTRY")
        == []
    )


def test_the_suppliers_country_of_each_invoice(ctx: RuleContext) -> None:
    dua = sample_dua()
    invoice = dua.invoices[0]
    assert invoice.supplier is not None
    wrong = change(invoice, supplier=change(invoice.supplier, country="XX"))
    (finding,) = findings_of(change(dua, invoices=(wrong, *dua.invoices[1:])), ctx, "STR-COUNTRY")
    assert finding.field == "invoices[0].supplier.country"
    assert finding.message.startswith(f"Factura {invoice.number}, país del proveedor: XX no es")


def test_a_deployment_table_decides(tmp_path: Path, offices: OfficeRegistry) -> None:
    """A deployment that accepts Kosovo's user-assigned XK replaces the table, not the code."""
    shipped = (Path(__file__).resolve().parents[3] / "config/data/countries.csv").read_text("utf-8")
    table = tmp_path / "countries.csv"
    table.write_text(shipped + "XK,Kosovo,2008-02-17,,\n", "utf-8")
    reference = load_reference(ReferenceFiles(countries=table))
    as_of = date(2025, 3, 3)
    oe = _oe_to("XK", as_of)
    with_kosovo = RuleContext(as_of=as_of, offices=offices, reference=reference)
    assert findings_of(oe, with_kosovo, "STR-COUNTRY") == []
    shipped_ctx = RuleContext(as_of=as_of, offices=offices)
    assert len(findings_of(oe, shipped_ctx, "STR-COUNTRY")) == 2
