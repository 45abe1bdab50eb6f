"""MOD-*: the modality of an import and what each modality must carry (seed 004 VII.A.2-4)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from edi_formats.codes import (
    ARRIVAL_POINT_PRIMARY_ZONE,
    ARRIVAL_POINT_TERMINAL_OR_WAREHOUSE,
    RELIEF_CATEGORIES,
    URGENCY_CATEGORIES,
    ModalityCode,
    TransportDocType,
    TransportMode,
)
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.findings import Severity
from validators.registry import Problem, rule
from validators.rules.box_7_38 import place_text
from validators.rules.sources import INTA_PG01A, cite_004

__all__ = ["PLACE_7_38", "RULES", "mod_04_place", "mod_ant_manifest", "mod_code", "mod_tdoc"]

_BOX = "Recuadro Destinación"
_VALID_CODES: Final = frozenset(code.value for code in ModalityCode)
_VALID_LIST: Final = ", ".join(code.value for code in ModalityCode)

PLACE_7_38: Final = re.compile(
    r"^E\.A\.:\s*(?P<code>\d{4})\s+(?P<address>.*?[A-Za-zÁÉÍÓÚÑáéíóúñ].*?)"
    r"\s+(?:UBIGEO\s*:?\s*)?(?P<ubigeo>\d{6})\s*$",
    re.IGNORECASE | re.DOTALL,
)
"""Box 7.38 for anticipado 04: ``E.A.:XXXX <dirección> [UBIGEO:]NNNNNN``.

The seed asks for the establishment code (``0000`` for the main address), the detailed
address and the ubigeo code; the project fixes their order: code first, ubigeo last.
"""


def _is_anticipado(declaration: DUA | OE) -> bool:
    return isinstance(declaration, DUA) and declaration.modality.code == ModalityCode.ANTICIPADO


@rule(
    "MOD-CODE",
    title="Modalidad y sus códigos",
    citation=cite_004("VII.A.2"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def mod_code(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Anticipado ``1-0`` with point of arrival ``03`` (A terminal, B temporary warehouse) or
    ``04``; urgente ``0-1`` (urgency categories a-n) or ``0-2`` (relief categories a-i);
    excepcional ``0-0``. Codes that do not belong to the modality are errors too."""
    if not isinstance(declaration, DUA):
        return
    m = declaration.modality
    if m.code not in _VALID_CODES:
        yield Problem(
            "modality.code",
            f"{_BOX}: la modalidad {m.code} no existe; use una de {_VALID_LIST} "
            "(anticipado, urgencia, socorro, excepcional).",
        )
        return
    if m.code == ModalityCode.ANTICIPADO:
        yield from _anticipado_codes(declaration)
        return
    if m.arrival_point is not None or m.arrival_option is not None:
        yield Problem(
            "modality.arrival_point",
            f"{_BOX}: el punto de llegada (03/04) solo se indica en el despacho anticipado 1-0.",
        )
    if m.code in (ModalityCode.URGENCIA, ModalityCode.SOCORRO):
        allowed = URGENCY_CATEGORIES if m.code == ModalityCode.URGENCIA else RELIEF_CATEGORIES
        kind = "envíos de urgencia" if m.code == ModalityCode.URGENCIA else "envíos de socorro"
        last = max(allowed)
        if m.category is None:
            yield Problem(
                "modality.category",
                f"{_BOX}: el despacho urgente {m.code} ({kind}) requiere el inciso de la "
                f"mercancía (a-{last}).",
            )
        elif m.category not in allowed:
            yield Problem(
                "modality.category",
                f"{_BOX}: el inciso {m.category} no existe para {kind} ({m.code}); use a-{last}.",
            )
    elif m.category is not None:
        yield Problem(
            "modality.category",
            f"{_BOX}: el inciso de urgencia o socorro no corresponde al despacho excepcional.",
        )


def _anticipado_codes(declaration: DUA) -> Iterator[Problem]:
    m = declaration.modality
    if m.category is not None:
        yield Problem(
            "modality.category",
            f"{_BOX}: el inciso de urgencia o socorro no corresponde al despacho anticipado.",
        )
    if m.arrival_point == ARRIVAL_POINT_TERMINAL_OR_WAREHOUSE:
        if m.arrival_option not in ("A", "B"):
            yield Problem(
                "modality.arrival_option",
                f"{_BOX}: en el anticipado con punto de llegada 03 indique la opción A "
                "(terminal portuario, terminal de carga aérea u otras vías) o B (depósito "
                "temporal).",
            )
    elif m.arrival_point == ARRIVAL_POINT_PRIMARY_ZONE:
        if m.arrival_option is not None:
            yield Problem(
                "modality.arrival_option",
                f"{_BOX}: el punto de llegada 04 (zona primaria con autorización especial) "
                "no lleva opción A/B.",
            )
    else:
        got = f"'{m.arrival_point}'" if m.arrival_point is not None else "ninguno"
        yield Problem(
            "modality.arrival_point",
            f"{_BOX}: el despacho anticipado 1-0 requiere el punto de llegada 03 (terminal o "
            f"depósito temporal) o 04 (zona primaria con autorización especial); se indicó "
            f"{got}.",
        )


@rule(
    "MOD-TDOC",
    title="Anticipado: tipo de documento de transporte; 03-A marítimo sin depósito",
    citation=cite_004("VII.A.2 a"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def mod_tdoc(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Anticipado carries the transport-document type (1 directo, 2 consolidado,
    3 consolidado 1 a 1) on every transport document; in option 03-A by sea the temporary
    warehouse code (CODI_ALMA) stays empty."""
    if not isinstance(declaration, DUA) or not _is_anticipado(declaration):
        return
    transport = declaration.transport
    for index, document in enumerate(transport.documents):
        if document.doc_type is None:
            yield Problem(
                f"transport.documents[{index}].doc_type",
                f"Documento de transporte {document.number}: en el despacho anticipado indique "
                f"su tipo: {TransportDocType.DIRECT} directo, {TransportDocType.CONSOLIDATED} "
                f"consolidado, {TransportDocType.CONSOLIDATED_ONE_TO_ONE} consolidado 1 a 1.",
            )
    m = declaration.modality
    if (
        m.arrival_point == ARRIVAL_POINT_TERMINAL_OR_WAREHOUSE
        and m.arrival_option == "A"
        and transport.mode is TransportMode.MARITIME
        and transport.warehouse_code is not None
    ):
        yield Problem(
            "transport.warehouse_code",
            f"Casilla Depósito temporal: en el anticipado 03-A por vía marítima no se "
            f"transmite el código del depósito temporal (CODI_ALMA debe quedar vacío); se "
            f"indicó {transport.warehouse_code}.",
        )


@rule(
    "MOD-04-PLACE",
    title="Anticipado 04: local de traslado en la casilla 7.38",
    citation=cite_004("VII.A.4"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def mod_04_place(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Anticipado 04 states in box 7.38 the establishment code (``E.A.:XXXX``, ``E.A.:0000``
    for the main address), the detailed address and the ubigeo code."""
    if not isinstance(declaration, DUA) or not _is_anticipado(declaration):
        return
    if declaration.modality.arrival_point != ARRIVAL_POINT_PRIMARY_ZONE:
        return
    text = place_text(declaration.observations_7_38)
    if text is None or PLACE_7_38.match(text) is None:
        found = "está vacía" if text is None else f"dice '{text[:80]}'"
        yield Problem(
            "observations_7_38",
            "Casilla 7.38: en el anticipado con traslado a zona primaria con autorización "
            "especial (04) consigne el local: 'E.A.:XXXX' (código del establecimiento anexo, "
            "o E.A.:0000 para el domicilio principal), la dirección detallada y el código de "
            f"ubigeo (6 dígitos); la casilla {found}.",
        )


@rule(
    "MOD-ANT-MANIFEST",
    title="Anticipado: manifiesto y documento máster (contenedores, de corresponder)",
    citation=cite_004("VII.A.3"),
    applies_to={"DUA"},
    severity=Severity.WARNING,
    schedule=INTA_PG01A,
)
def mod_ant_manifest(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Anticipado should carry the manifest and the master transport document. Missing ones
    are warnings: the seed lets them follow as complementary information, so the declaration
    can still be numbered. Containers are asked "de corresponder" (VII.A.3): the DUA does not
    say whether the cargo travels in containers (break-bulk and bulk cargo carry none), so a
    declaration without containers is not warned about them."""
    if not isinstance(declaration, DUA) or not _is_anticipado(declaration):
        return
    transport = declaration.transport
    later = "transmítalo con la información complementaria de la declaración."
    if transport.manifest is None:
        yield Problem("transport.manifest", f"Casilla Manifiesto de carga: no se indicó; {later}")
    if not transport.documents:
        yield Problem(
            "transport.documents",
            f"Casilla Documento de transporte: no se indicó ninguno; {later}",
        )
    for index, document in enumerate(transport.documents):
        consolidated = document.doc_type in (
            TransportDocType.CONSOLIDATED,
            TransportDocType.CONSOLIDATED_ONE_TO_ONE,
        )
        if consolidated and document.master_number is None:
            yield Problem(
                f"transport.documents[{index}].master_number",
                f"Documento de transporte {document.number} (consolidado): falta el número "
                f"del documento de transporte máster; {later}",
            )


RULES = (mod_code, mod_tdoc, mod_04_place, mod_ant_manifest)
