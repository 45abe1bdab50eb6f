"""DOCS-REGIME and ANT-MANDATORY: what DS 367-2019-EF asks of a declaration (seed 001).

- DOCS-REGIME (art. 60): the documents of the regime. Import for consumption: the transport
  document, the invoice (or equivalent document or contract, or a sworn statement) and the
  transport insurance document when there is insurance; definitive export: the transport
  document and the invoice or boleta (or a sworn statement). In the anticipado the transport
  document may follow with the complementary information (seed 004 VII.A.3): MOD-ANT-MANIFEST
  warns about it there.
- ANT-MANDATORY (art. 62A): import for consumption is dispatched anticipado unless one of the
  article's incisos applies. The declaration shows three of them (a: FOB up to US$2,000;
  b: urgent dispatch; f: restricted goods); the others the broker declares in the DUA's
  ``anticipado_exception`` box with the inciso's letter.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Final

from edi_formats.codes import ModalityCode
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.goods import has_restricted_goods
from validators.registry import Problem, rule
from validators.rules.sources import DS_367, cite_001
from validators.rules.wording import amount, document_name

__all__ = [
    "ANTICIPADO_EXCEPTIONS",
    "ANTICIPADO_FOB_LIMIT",
    "DECLARED_EXCEPTIONS",
    "RULES",
    "ant_mandatory",
    "docs_regime",
]

ANTICIPADO_FOB_LIMIT: Final = Decimal(2000)
"""Art. 62A a): up to US$2,000 FOB the anticipado is not mandatory."""

ANTICIPADO_EXCEPTIONS: Final[dict[str, str]] = {
    "a": "valor FOB que no excede US$ 2,000.00",
    "b": "despacho urgente",
    "c": "mercancía que se encuentra en el país y fue destinada antes a otro régimen",
    "d": "aplicación de contingentes arancelarios",
    "e": "mercancía proveniente de zonas francas o zonas especiales de desarrollo",
    "f": "mercancía restringida",
    "g": "Ley 29963, eventos internacionales declarados de interés nacional",
    "h": "donaciones",
}
"""The incisos of art. 62A (seed 001)."""

DECLARED_EXCEPTIONS: Final = frozenset("cdegh")
"""The incisos only the broker can state; a, b and f are read from the declaration itself."""

_URGENT: Final = (ModalityCode.URGENCIA, ModalityCode.SOCORRO)
_MODALITY_BOX: Final = "Recuadro Destinación"
_EXCEPTION_BOX: Final = "Casilla Excepción al despacho anticipado"


@rule(
    "DOCS-REGIME",
    title="Documentos del régimen: transporte, factura y seguro",
    citation=cite_001("art. 60"),
    schedule=DS_367,
)
def docs_regime(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Import for consumption: transport document (left to MOD-ANT-MANIFEST in the anticipado),
    invoice, equivalent document or contract, or a sworn statement, and the insurance document
    when insurance is declared. Definitive export: transport document and invoice or boleta,
    or a sworn statement."""
    name = document_name(declaration)
    anticipado = (
        isinstance(declaration, DUA) and declaration.modality.code == ModalityCode.ANTICIPADO
    )
    if not declaration.transport.documents and not anticipado:
        yield Problem(
            "transport.documents",
            f"Casilla Documento de transporte: {name} no indica ningún documento de transporte, "
            "documento del régimen que exige el art. 60 del Reglamento.",
        )
    if not declaration.invoices and not declaration.sworn_statement:
        papers = (
            "factura, documento equivalente o contrato"
            if isinstance(declaration, DUA)
            else "factura o boleta de venta"
        )
        yield Problem(
            "invoices",
            f"Casilla Factura: {name} no indica {papers}, ni declara que la sustituye una "
            "declaración jurada; es documento del régimen (art. 60 del Reglamento).",
        )
    if (
        isinstance(declaration, DUA)
        and declaration.totals.insurance > 0
        and declaration.insurance is None
    ):
        yield Problem(
            "insurance",
            f"Casilla Seguro: la DUA declara un seguro de {amount(declaration.totals.insurance)} "
            "pero no indica el documento de seguro de transporte (póliza o certificado), que el "
            "art. 60 del Reglamento exige cuando corresponde.",
        )


def _shown_exceptions(declaration: DUA, ctx: RuleContext) -> dict[str, bool]:
    """Whether the incisos the declaration itself shows (a, b, f) apply."""
    return {
        "a": declaration.totals.fob <= ANTICIPADO_FOB_LIMIT,
        "b": declaration.modality.code in _URGENT,
        "f": has_restricted_goods(declaration, ctx.reference),
    }


@rule(
    "ANT-MANDATORY",
    title="Importación para el consumo: despacho anticipado obligatorio salvo excepciones",
    citation=cite_001("art. 62A"),
    applies_to={"DUA"},
    schedule=DS_367,
)
def ant_mandatory(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Import for consumption must be anticipado (1-0) unless FOB is up to US$2,000, the
    dispatch is urgent, the goods are restricted (read from the declaration), or the broker
    declares inciso c (already in the country under another regime), d (tariff quota),
    e (free zones), g (Law 29963 events) or h (donations). A declared inciso must exist and,
    for a, b and f, be true."""
    if not isinstance(declaration, DUA) or declaration.regime != "10":
        return
    declared = declaration.anticipado_exception
    if declared is not None and declared not in ANTICIPADO_EXCEPTIONS:
        yield Problem(
            "anticipado_exception",
            f"{_EXCEPTION_BOX}: el inciso '{declared}' no existe en el art. 62A del "
            "Reglamento; los incisos van de la a) a la h).",
        )
        return
    if declaration.modality.code == ModalityCode.ANTICIPADO:
        return
    shown = _shown_exceptions(declaration, ctx)
    if declared is not None and declared in shown and not shown[declared]:
        yield Problem(
            "anticipado_exception",
            f"{_EXCEPTION_BOX}: se invoca el inciso {declared}) del art. 62A "
            f"({ANTICIPADO_EXCEPTIONS[declared]}), pero la declaración no lo cumple. Sin una "
            f"excepción que proceda, la importación para el consumo se destina en la modalidad "
            f"de despacho anticipado ({ModalityCode.ANTICIPADO}).",
        )
        return
    if any(shown.values()) or declared in DECLARED_EXCEPTIONS:
        return
    yield Problem(
        "modality.code",
        f"{_MODALITY_BOX}: la importación para el consumo se destina en la modalidad de "
        f"despacho anticipado ({ModalityCode.ANTICIPADO}); la modalidad "
        f"{declaration.modality.code} solo procede en las excepciones del art. 62A del "
        f"Reglamento, y esta DUA no muestra ninguna (FOB {amount(declaration.totals.fob)}, "
        f"mayor que {amount(ANTICIPADO_FOB_LIMIT)}; sin mercancía restringida). Si corresponde "
        f"otra excepción, indique su inciso en la casilla Excepción al despacho anticipado: "
        f"c) mercancía ya destinada a otro régimen, d) contingente arancelario, e) zona franca "
        f"o zona especial de desarrollo, g) Ley 29963, h) donación.",
    )


RULES = (docs_regime, ant_mandatory)
