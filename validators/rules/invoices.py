"""INV-ELECTRONIC: an invoice transmitted electronically names the supplier's fax or e-mail.

Seed 004 VII.A.22 b: "Cuando la factura, documento equivalente o contrato haya sido
transmitido por medios electrónicos, los datos del facsímil o correo electrónico del
proveedor deben consignarse en las casillas 3.7 y 3.9 del formato B de la declaración,
respectivamente."
"""

from __future__ import annotations

from collections.abc import Iterator

from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.rules.sources import INTA_PG01A, cite_004

__all__ = ["RULES", "inv_electronic"]


@rule(
    "INV-ELECTRONIC",
    title="Factura electrónica: facsímil o correo del proveedor en las casillas 3.7 y 3.9",
    citation=cite_004("VII.A.22 b"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def inv_electronic(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """An invoice marked as transmitted by electronic means carries the supplier's fax
    (box 3.7) or e-mail (box 3.9), whichever it came by."""
    if not isinstance(declaration, DUA):
        return
    for index, invoice in enumerate(declaration.invoices):
        if invoice.electronic and invoice.supplier_fax is None and invoice.supplier_email is None:
            yield Problem(
                f"invoices[{index}].supplier_email",
                f"Factura {invoice.number}, casillas 3.7 y 3.9 del formato B: la factura fue "
                "transmitida por medios electrónicos; consigne el facsímil (3.7) o el correo "
                "electrónico (3.9) del proveedor por el que se recibió.",
            )


RULES = (inv_electronic,)
