"""RESTR-NARCOTICS (seed 003 VII.A 5.1.4 c) and INV-ELECTRONIC (seed 004 VII.A.22 b)."""

from __future__ import annotations

from datetime import timedelta

from edi_formats.models import DUA, ControlDocument
from tests.validators.conftest import AS_OF
from tests.validators.helpers import change, findings_of, rule_ids, sample_dua, sample_oe
from validators.engine import RuleContext
from validators.samples import break_rule


def _digemid(code: str, number: str) -> ControlDocument:
    return ControlDocument(
        entity_code="03",
        document_code=code,
        number=number,
        issued_on=AS_OF - timedelta(days=10),
        expires_on=AS_OF + timedelta(days=150),
    )


def test_narcotics_need_the_certificate_and_the_resolution(ctx: RuleContext) -> None:
    """Seed 003 VII.A 5.1.4 c: "El ingreso o salida al país de estas sustancias así como de
    los medicamentos que los contienen requieren de certificado oficial de importación o
    exportación del Ministerio de Salud, ... así como de la respectiva Resolución Directoral
    de autorización de internamiento o de salida, expedida por la DIGEMID"."""
    for declaration in (sample_dua(), sample_oe()):
        only_certificate = break_rule(declaration, "RESTR-NARCOTICS")
        (finding,) = findings_of(only_certificate, ctx, "RESTR-NARCOTICS")
        assert "resolución directoral" in finding.message and "03 02" in finding.message
        series = list(only_certificate.series)
        both = (*series[0].control_documents, _digemid("02", "RD-DIGEMID-2025-0077"))
        series[0] = change(series[0], control_documents=both)
        complete = change(only_certificate, series=tuple(series))
        assert rule_ids(complete, ctx) == set()
        series[0] = change(series[0], control_documents=(both[1],))
        (finding,) = findings_of(change(complete, series=tuple(series)), ctx, "RESTR-NARCOTICS")
        assert "certificado oficial" in finding.message


def test_other_restricted_goods_need_one_document(ctx: RuleContext) -> None:
    medicines = break_rule(sample_dua(), "RESTR-DOC")
    series = list(medicines.series)
    series[0] = change(series[0], control_documents=(_digemid("08", "RS-2025-1"),))
    assert findings_of(change(medicines, series=tuple(series)), ctx, "RESTR-NARCOTICS") == []


def test_an_electronic_invoice_names_the_suppliers_fax_or_email(ctx: RuleContext) -> None:
    """Seed 004 VII.A.22 b: "Cuando la factura ... haya sido transmitido por medios
    electrónicos, los datos del facsímil o correo electrónico del proveedor deben consignarse
    en las casillas 3.7 y 3.9 del formato B de la declaración, respectivamente.\""""
    broken = break_rule(sample_dua(), "INV-ELECTRONIC")
    assert isinstance(broken, DUA)
    (finding,) = findings_of(broken, ctx, "INV-ELECTRONIC")
    assert "3.7" in finding.message and "3.9" in finding.message
    by_mail = change(broken.invoices[0], supplier_email="ventas@proveedor.example")
    assert findings_of(change(broken, invoices=(by_mail,)), ctx, "INV-ELECTRONIC") == []
    by_fax = change(broken.invoices[0], supplier_fax="+86 21 5555 0101")
    assert findings_of(change(broken, invoices=(by_fax,)), ctx, "INV-ELECTRONIC") == []
    paper = change(broken.invoices[0], electronic=False)
    assert findings_of(change(broken, invoices=(paper,)), ctx, "INV-ELECTRONIC") == []
