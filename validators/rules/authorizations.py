"""MOD-04-AUTH and MOD-QUALIFY: modalities that need an approval before numbering.

- MOD-04-AUTH (seed 004 VI.14): the anticipado with transfer to a primary zone with special
  authorization (04) needs the "Autorización Especial de Zona Primaria", which "debe haber
  sido aprobada (procedente) ... antes de la numeración de la declaración".
- MOD-QUALIFY (seed 004 VII.A.2, Anexo 6): urgent shipments of inciso n) ("Otras mercancías
  que a criterio del jefe del área ... merezcan tal calificación") and relief shipments of
  inciso i) need the head of the area's qualification, asked with the Anexo 6 request.

The gateway cannot see either approval: the broker states its number in box 7.38
(``validators.rules.box_7_38``), and the rule refuses a declaration that states none.
"""

from __future__ import annotations

from collections.abc import Iterator

from edi_formats.codes import ARRIVAL_POINT_PRIMARY_ZONE, ModalityCode
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.rules.box_7_38 import AUTHORIZATION, QUALIFICATION, stated
from validators.rules.sources import INTA_PG01A, cite_004

__all__ = ["QUALIFIED_INCISOS", "RULES", "mod_04_auth", "mod_qualify"]

QUALIFIED_INCISOS: dict[str, str] = {
    ModalityCode.URGENCIA: "n",
    ModalityCode.SOCORRO: "i",
}
"""Seed 004 VII.A.2: the incisos the head of the area qualifies (Anexo 6)."""


@rule(
    "MOD-04-AUTH",
    title="Anticipado 04: autorización especial de zona primaria aprobada antes de numerar",
    citation=cite_004("VI.14"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def mod_04_auth(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Anticipado 04 states in box 7.38 the approved special authorization
    (``AUTORIZACION ZP: número``)."""
    if not isinstance(declaration, DUA):
        return
    modality = declaration.modality
    if modality.code != ModalityCode.ANTICIPADO:
        return
    if modality.arrival_point != ARRIVAL_POINT_PRIMARY_ZONE:
        return
    if stated(AUTHORIZATION, declaration.observations_7_38) is None:
        yield Problem(
            "observations_7_38",
            "Casilla 7.38: el despacho anticipado con traslado a zona primaria con autorización "
            "especial (04) requiere la solicitud de Autorización Especial de Zona Primaria "
            "aprobada (procedente) antes de la numeración; indique su número en la casilla "
            "7.38 ('AUTORIZACION ZP: número').",
        )


@rule(
    "MOD-QUALIFY",
    title="Urgencia inciso n) y socorro inciso i): calificación del jefe del área (Anexo 6)",
    citation=cite_004("VII.A.2 b, Anexo 6"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def mod_qualify(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A shipment declared under urgency inciso n) or relief inciso i) states in box 7.38 the
    number of its approved qualification request (``CALIFICACION: número``)."""
    if not isinstance(declaration, DUA):
        return
    modality = declaration.modality
    inciso = QUALIFIED_INCISOS.get(modality.code)
    if inciso is None or modality.category != inciso:
        return
    if stated(QUALIFICATION, declaration.observations_7_38) is None:
        kind = "envíos de urgencia" if modality.code == ModalityCode.URGENCIA else "socorro"
        yield Problem(
            "observations_7_38",
            f"Casilla 7.38: la mercancía declarada en el inciso {inciso}) de {kind} "
            f"({modality.code}) requiere la calificación del jefe del área que administra el "
            "régimen, solicitada con el modelo del Anexo 6 y autorizada antes de numerar; "
            "indique el número de la solicitud aprobada en la casilla 7.38 "
            "('CALIFICACION: número'), o declare el inciso que corresponde a la mercancía.",
        )


RULES = (mod_04_auth, mod_qualify)
