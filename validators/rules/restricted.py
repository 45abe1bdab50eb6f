"""PROHIBITED and RESTR-*: prohibited and restricted goods (seed 003; seed 004 VI.4-6).

A series is *prohibited* or *restricted* when its national subpartida starts with a prefix of
the reference tables (``config/data``; replaceable by SUNAT's official annex lists) for the
declaration's flow: import for a DUA, export for an O/E. TPROD 97, 98 or 99 takes a series
out (``validators.goods``). Each rule checks one thing, so a rejection says which:

- PROHIBITED     prohibited goods cannot be declared (003 VII.B; 004 VI.4);
- RESTR-DOC      a restricted series carries its control document, written as 003 VI.6
                 asks (Annex A entity, Annex B document, number, issue and expiry dates),
                 and no control document is expired on the transmission date;
- RESTR-ENTITY   the document's entity is the one competent for the goods (003 VII.A), so
                 each restricted product travels in its own series with its own documents;
- RESTR-TPROD    TPROD holds 97, 98 or 99, and only where the goods' subpartida calls for it;
- RESTR-OFFICE   goods confined to some offices enter or leave only through them;
- RESTR-VALIDITY the control document is within the term its entity grants (003 VII.A).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from config.reference import Flow, RestrictedGoods
from edi_formats.codes import ModalityCode
from edi_formats.models import DUA, OE, ControlDocument, ExportSeries, ImportSeries
from validators.context import RuleContext
from validators.dates import plus_months, plus_years, shifted
from validators.findings import Severity
from validators.goods import (
    TPROD_CODES,
    TPROD_NEITHER,
    TPROD_NOT_PROHIBITED,
    TPROD_NOT_RESTRICTED,
    competent_entities,
    flow_of,
    prohibited_goods,
    restricted_goods,
)
from validators.registry import Problem, rule
from validators.rules.sources import INTA_PE0006, cite_003, cite_goods_norm
from validators.rules.wording import control_box, crossing, day, joined, series_label

__all__ = [
    "AUTHORIZED_OFFICE",
    "RULES",
    "VALIDITY_TERMS",
    "ValidityTerm",
    "document_text",
    "prohibited",
    "restr_doc",
    "restr_entity",
    "restr_office",
    "restr_tprod",
    "restr_validity",
]

Series = ImportSeries | ExportSeries

AUTHORIZED_OFFICE: Final = re.compile(r"ADUANA\s+AUTORIZADA\s*:?\s*(\d{3})", re.IGNORECASE)
"""Box 7.37 (4.13) text by which a broker states that the control document names an office
besides those of the annex (DICSCAMEC, 003 VII.A 3.1 a): ``ADUANA AUTORIZADA: 154``."""

_STRUCTURE: Final = (
    "con la estructura: código de entidad (Anexo A), código de documento (Anexo B), número, "
    "fecha de emisión y fecha de vencimiento (XX XX número dd/mm/aaaa dd/mm/aaaa)"
)


def document_text(document: ControlDocument) -> str:
    """A control document as box 7.37 writes it: ``02 02 RD-0457 01/03/2025 01/03/2026``."""
    expires = day(document.expires_on) if document.expires_on is not None else "(sin vencimiento)"
    return (
        f"{document.entity_code} {document.document_code} {document.number} "
        f"{day(document.issued_on)} {expires}"
    )


def _series(declaration: DUA | OE) -> Sequence[Series]:
    return declaration.series


def _where(index: int, doc_index: int | None = None, attr: str | None = None) -> str:
    path = f"series[{index}]"
    if doc_index is None:
        return f"{path}.control_documents"
    return f"{path}.control_documents[{doc_index}]" + (f".{attr}" if attr else "")


def _entities(ctx: RuleContext, codes: frozenset[str]) -> str:
    return joined([ctx.reference.entity_label(code) for code in sorted(codes)])


def _annexes(goods: Sequence[RestrictedGoods]) -> str:
    seen = dict.fromkeys(
        f"{row.annex.label}: {row.annex.title}"
        + (f", {row.legal_basis}" if row.legal_basis else "")
        for row in goods
    )
    return "; ".join(seen)


def _prohibited(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Goods of prohibited import (Annex 27) or export (Annex 28) cannot be declared, from the
    date of the norm that prohibits them (each row of the table has its norm and date: used
    clothing from DL 25789, 21.10.1992; used tyres from DS 003-97-SA, 07.06.1997). From
    INTA-PE.00.06 the message names its annex, and TPROD 97 or 99 states that goods
    classified there are not the prohibited ones."""
    flow = flow_of(declaration)
    regime = "importación para el consumo" if flow is Flow.IMPORT else "exportación definitiva"
    procedure = _under_pe0006(declaration, ctx)
    for index, item in enumerate(_series(declaration)):
        for row in prohibited_goods(item, flow, ctx.reference, ctx.as_of)[:1]:
            used = " usada" if row.state == "U" else ""
            annex = f"; INTA-PE.00.06 {row.annex.label}" if procedure else ""
            tprod = (
                f" Si su mercancía no es la prohibida aunque se clasifique en esa subpartida, "
                f"consigne el código {TPROD_NOT_PROHIBITED} en la casilla TPROD."
                if procedure
                else ""
            )
            yield Problem(
                f"series[{index}].subpartida",
                f"{series_label(item.number)}, casilla Subpartida nacional: la subpartida "
                f"{item.subpartida} comprende mercancía{used} de {crossing(declaration)} "
                f"prohibida: {row.description} ({row.legal_basis}{annex}). Las mercancías "
                f"prohibidas no pueden destinarse a la {regime}.{tprod}",
            )


def _under_pe0006(declaration: DUA | OE, ctx: RuleContext) -> bool:
    return ctx.reference.schedule(INTA_PE0006).start_for(declaration.office) <= ctx.as_of


prohibited = (
    rule(
        "PROHIBITED",
        title="Mercancía prohibida por su norma: no puede declararse",
        citation=cite_goods_norm("prohíbe"),
        until=INTA_PE0006,
    )(_prohibited),
    rule(
        "PROHIBITED",
        title="Mercancía prohibida: no puede declararse",
        citation=f"{cite_003('VI.8, VII.B')}; {cite_goods_norm('prohíbe')}",
        schedule=INTA_PE0006,
    )(_prohibited),
)
"""Before INTA-PE.00.06 a prohibition rests on its own norm alone; from then on the procedure's
annexes and TPROD codes too. Either way each row applies from its norm's date."""


@rule(
    "RESTR-DOC",
    title="Mercancía restringida: documento de control completo y vigente",
    citation=cite_003("VI.5-7; VII.A 6.1.1 d"),
    schedule=INTA_PE0006,
)
def restr_doc(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Each restricted series carries its control document in box 7.37 (DUA) or 4.13 (O/E),
    written ``XX XX number dd/mm/aaaa dd/mm/aaaa``: an Annex A entity, an Annex B document,
    the number, the issue and the expiry date. No control document may be issued after the
    transmission or be expired on the transmission date."""
    flow = flow_of(declaration)
    box = control_box(declaration)
    for index, item in enumerate(_series(declaration)):
        label = f"{series_label(item.number)}, {box}"
        goods = restricted_goods(item, flow, ctx.reference, ctx.as_of)
        if goods and not item.control_documents and _later_allowed(declaration, goods):
            yield _later_warning(declaration, index, label, goods)
        elif goods and not item.control_documents:
            yield Problem(
                _where(index),
                f"{label}: la subpartida {item.subpartida} corresponde a mercancía "
                f"restringida ({_annexes(goods)}). Consigne en la serie el documento de control "
                f"de {_entities(ctx, competent_entities(goods))}, {_STRUCTURE}. Si la "
                f"mercancía no es restringida aunque se clasifique en esa subpartida, consigne "
                f"el código {TPROD_NOT_RESTRICTED} en la casilla TPROD.",
            )
        for doc_index, document in enumerate(item.control_documents):
            yield from _document_problems(ctx, label, index, doc_index, document)


LATER_ANNEXES: Final = frozenset({"18"})
"""Annexes whose control document may come after numbering: SENASA's plant products, whose
inspection report is the document "para la regularización de los despachos urgentes y
anticipados" (seed 003 VII.A 6.1.1 d)."""

REGULARIZATION_DAYS: Final = 15
"""Seed 004 VII.B.1 and 9: regularization within 15 calendar days after the end of discharge."""


def _later_allowed(declaration: DUA | OE, goods: Sequence[RestrictedGoods]) -> bool:
    """Whether every annex of the goods lets the document come at regularization, and the
    dispatch is one that is regularized (anticipado or urgent import)."""
    if not isinstance(declaration, DUA):
        return False
    if declaration.modality.code not in (
        ModalityCode.ANTICIPADO,
        ModalityCode.URGENCIA,
        ModalityCode.SOCORRO,
    ):
        return False
    return all(row.annex.id in LATER_ANNEXES for row in goods)


def _later_warning(
    declaration: DUA | OE, index: int, label: str, goods: Sequence[RestrictedGoods]
) -> Problem:
    assert isinstance(declaration, DUA)
    discharged = declaration.transport.discharge_end_date
    deadline = (
        f"hasta el {day(shifted(discharged, REGULARIZATION_DAYS))}"
        if discharged is not None
        else f"dentro de los {REGULARIZATION_DAYS} días calendario siguientes al término de "
        "la descarga"
    )
    return Problem(
        _where(index),
        f"{label}: la mercancía es restringida ({_annexes(goods)}) y la serie no indica su "
        "documento de control. En el despacho anticipado o urgente el número del informe de "
        "inspección y verificación del SENASA puede consignarse en la regularización: "
        f"transmítalo {deadline}; sin él no procede el levante.",
        Severity.WARNING,
    )


def _document_problems(
    ctx: RuleContext, label: str, index: int, doc_index: int, document: ControlDocument
) -> Iterator[Problem]:
    text = f"{label}, documento de control {document_text(document)}"
    if document.entity_code not in ctx.reference.entities:
        yield Problem(
            _where(index, doc_index, "entity_code"),
            f"{text}: el código de entidad {document.entity_code} no figura en el Anexo A de "
            "INTA-PE.00.06 (códigos de las entidades que emiten los documentos de control).",
        )
    if document.document_code not in ctx.reference.documents:
        yield Problem(
            _where(index, doc_index, "document_code"),
            f"{text}: el código de documento {document.document_code} no figura en el Anexo B "
            "de INTA-PE.00.06 (códigos de documentos de control).",
        )
    if document.issued_on > ctx.as_of:
        yield Problem(
            _where(index, doc_index, "issued_on"),
            f"{text}: la fecha de emisión {day(document.issued_on)} es posterior a la "
            f"transmisión ({day(ctx.as_of)}).",
        )
    if document.expires_on is None:
        yield Problem(
            _where(index, doc_index, "expires_on"),
            f"{text}: falta la fecha de vencimiento; el documento de control se consigna "
            f"{_STRUCTURE}.",
        )
    elif document.expires_on < ctx.as_of:
        yield Problem(
            _where(index, doc_index, "expires_on"),
            f"{text}: venció el {day(document.expires_on)} y la transmisión es del "
            f"{day(ctx.as_of)}. Transmita la declaración con un documento de control vigente.",
        )


@rule(
    "RESTR-ENTITY",
    title="El documento de control es de la entidad competente",
    citation=cite_003("VI.5, VII.A; Anexos A y B"),
    schedule=INTA_PE0006,
)
def restr_entity(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """The control documents of a restricted series come from the entity competent for its
    goods (MTC 08 telecom, DICSCAMEC 02 arms, DIGEMID 03 pharmaceuticals... per annex). A
    document of another entity belongs to another restricted product, which takes its own
    series (003 VI.5). Codes outside Annex A are RESTR-DOC's."""
    flow = flow_of(declaration)
    box = control_box(declaration)
    for index, item in enumerate(_series(declaration)):
        goods = restricted_goods(item, flow, ctx.reference)
        if not goods:
            continue
        competent = competent_entities(goods)
        for doc_index, document in enumerate(item.control_documents):
            entity = document.entity_code
            if entity in competent or entity not in ctx.reference.entities:
                continue
            yield Problem(
                _where(index, doc_index, "entity_code"),
                f"{series_label(item.number)}, {box}, documento de control "
                f"{document_text(document)}: la entidad {ctx.reference.entity_label(entity)} "
                f"no es la competente para la mercancía de la serie ({_annexes(goods)}); "
                f"corresponde a {_entities(ctx, competent)}. Si ese documento ampara otro "
                "producto restringido, declárelo en una serie propia: cada producto "
                "restringido va en su serie, con su documento de control.",
            )


@rule(
    "RESTR-TPROD",
    title="Código TPROD 97, 98 o 99, solo donde corresponde",
    citation=cite_003("VI.8"),
    schedule=INTA_PE0006,
)
def restr_tprod(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """TPROD holds 97 (not prohibited), 98 (not restricted) or 99 (neither); another code is
    an error. Each code is for goods classified in a subpartida of the prohibited (97), the
    restricted (98) or either list (99): used elsewhere it is a warning, since the shipped
    lists are a reference and the official ones may be longer."""
    flow = flow_of(declaration)
    reference = ctx.reference
    codes = ", ".join(f"{code} ({meaning})" for code, meaning in TPROD_CODES.items())
    for index, item in enumerate(_series(declaration)):
        code = item.tprod
        if code is None:
            continue
        where = f"series[{index}].tprod"
        label = f"{series_label(item.number)}, casilla TPROD"
        if code not in TPROD_CODES:
            yield Problem(where, f"{label}: el código {code} no existe; use {codes}.")
            continue
        in_prohibited = bool(reference.prohibited_for(item.subpartida, flow, item.state))
        in_restricted = bool(reference.restricted_for(item.subpartida, flow))
        fits = {
            TPROD_NOT_PROHIBITED: in_prohibited,
            TPROD_NOT_RESTRICTED: in_restricted,
            TPROD_NEITHER: in_prohibited or in_restricted,
        }[code]
        if not fits:
            yield Problem(
                where,
                f"{label}: el código {code} ({TPROD_CODES[code]}) no corresponde: la subpartida "
                f"{item.subpartida} no figura en la relación referencial de mercancías "
                f"{'prohibidas' if code == TPROD_NOT_PROHIBITED else 'restringidas'}"
                f"{' ni prohibidas' if code == TPROD_NEITHER else ''}. Retírelo si no aplica.",
                Severity.WARNING,
            )


def _authorized_offices(item: Series) -> set[str]:
    return set(AUTHORIZED_OFFICE.findall(item.observations or ""))


def _office_names(ctx: RuleContext, codes: frozenset[str]) -> str:
    names = []
    for code in sorted(codes):
        office = ctx.offices.get(code)
        names.append(f"{code} ({office.name})" if office is not None else code)
    return joined(names)


@rule(
    "RESTR-OFFICE",
    title="Mercancías que solo ingresan o salen por determinadas aduanas",
    citation=cite_003("VII.A 3.1 a, 4.1.1 a, 5.1.4"),
    schedule=INTA_PE0006,
)
def restr_office(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Arms, ammunition and explosives only through Maritime or Airport Callao, or an office
    the DICSCAMEC resolution names (stated in box 7.37 as ``ADUANA AUTORIZADA: NNN``);
    DIQPF chemical inputs only through Callao, Ilo, Tacna, Iquitos, Paita, Pisco, Mollendo,
    Puno and Tumbes; narcotics and psychotropics for medical use only through Callao (coca
    leaves may also leave through Mollendo-Matarani and Salaverry)."""
    flow = flow_of(declaration)
    office = declaration.office
    going = "ingresar al país" if flow is Flow.IMPORT else "salir del país"
    for _index, item in enumerate(_series(declaration)):
        reported: set[str] = set()
        for row in restricted_goods(item, flow, ctx.reference):
            allowed = row.offices_for(flow)
            if not allowed or office in allowed or row.annex.id in reported:
                continue
            if row.annex.offices_by_authorization and office in _authorized_offices(item):
                continue
            reported.add(row.annex.id)
            more = (
                f", o por la que la resolución de autorización consigne expresamente (indíquelo "
                f"en la {control_box(declaration)} como 'ADUANA AUTORIZADA: {office}')"
                if row.annex.offices_by_authorization
                else ""
            )
            yield Problem(
                "office",
                f"Casilla Aduana: la mercancía de la serie {item.number} ({row.description}; "
                f"INTA-PE.00.06 {row.annex.label}) solo puede {going} por las "
                f"intendencias de aduana {_office_names(ctx, allowed)}{more}; no por la aduana "
                f"{office}.",
            )


# -- RESTR-VALIDITY -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValidityTerm:
    """How long an entity's control document is valid, by seed 003.

    ``annex`` limits the term to documents of series of that annex; ``regimes`` to
    declarations of those regimes; ``last_day`` gives the last valid day from the issue date.
    """

    entity: str
    what: str
    term: str
    where: str
    last_day: Callable[[date], date]
    annex: str | None = None
    regimes: frozenset[str] | None = None


VALIDITY_TERMS: Final = (
    ValidityTerm(
        "17",
        "la autorización de ingreso o salida de la DIQPF",
        "treinta días calendario computados a partir del día siguiente de su emisión",
        "VII.A 4.1.1 c",
        lambda issued: shifted(issued, 30),
    ),
    ValidityTerm(
        "02",
        "la resolución directoral de la DICSCAMEC",
        "un año desde la fecha que indica la resolución",
        "VII.A 3.1 b",
        lambda issued: plus_years(issued, 1),
    ),
    ValidityTerm(
        "03",
        "el certificado oficial de importación o exportación de estupefacientes",
        "ciento ochenta días calendario contados desde su emisión",
        "VII.A 5.1.4 d",
        lambda issued: shifted(issued, 179),
        annex="12",
    ),
    ValidityTerm(
        "05",
        "el permiso zoosanitario de importación del SENASA",
        "noventa días calendario contados a partir de su emisión",
        "VII.A 6.1.3 a",
        lambda issued: shifted(issued, 89),
        annex="20",
    ),
    ValidityTerm(
        "18",
        "el permiso de importación de la OTO",
        "únicamente el año de la autorización",
        "VII.A 4.1.3 a.2",
        lambda issued: date(issued.year, 12, 31),
    ),
    ValidityTerm(
        "08",
        "el permiso de internamiento del MTC para importación temporal",
        "hasta seis meses",
        "VII.A 1 d",
        lambda issued: plus_months(issued, 6),
        regimes=frozenset({"20"}),
    ),
)
"""The terms seed 003 gives; other entities' documents carry only their own expiry date."""


def _terms_for(
    declaration: DUA | OE, document: ControlDocument, annexes: set[str]
) -> Iterator[ValidityTerm]:
    for term in VALIDITY_TERMS:
        if term.entity != document.entity_code:
            continue
        if term.annex is not None and term.annex not in annexes:
            continue
        if term.regimes is not None and declaration.regime not in term.regimes:
            continue
        yield term


@rule(
    "RESTR-VALIDITY",
    title="Documento de control dentro de la vigencia que le da su entidad",
    citation=cite_003("VII.A 1 d, 3.1 b, 4.1.1 c, 4.1.3, 5.1.4 d, 6.1.3 a"),
    schedule=INTA_PE0006,
)
def restr_validity(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A control document is valid only for the term its entity grants: a DIQPF authorization
    thirty calendar days from the day after issue, a DICSCAMEC resolution one year, DIGEMID's
    official narcotics certificates 180 days, a SENASA zoosanitary permit 90 days, an OTO
    permit its calendar year, an MTC permit for temporary import six months. The expiry date
    declared may not go beyond the term, and the term must not have ended on the
    transmission date (a declared expiry already past is RESTR-DOC's)."""
    flow = flow_of(declaration)
    box = control_box(declaration)
    for index, item in enumerate(_series(declaration)):
        annexes = {row.annex.id for row in ctx.reference.restricted_for(item.subpartida, flow)}
        for doc_index, document in enumerate(item.control_documents):
            for term in _terms_for(declaration, document, annexes):
                last = term.last_day(document.issued_on)
                text = (
                    f"{series_label(item.number)}, {box}, documento de control "
                    f"{document_text(document)}: {term.what} tiene vigencia de {term.term} "
                    f"(INTA-PE.00.06 {term.where})"
                )
                expires = document.expires_on
                if expires is not None and expires > last:
                    yield Problem(
                        _where(index, doc_index, "expires_on"),
                        f"{text}; emitido el {day(document.issued_on)}, vence a más tardar el "
                        f"{day(last)}, no el {day(expires)}.",
                    )
                if last < ctx.as_of and (expires is None or expires >= ctx.as_of):
                    yield Problem(
                        _where(index, doc_index, "issued_on"),
                        f"{text}; emitido el {day(document.issued_on)}, venció el {day(last)} y "
                        f"la transmisión es del {day(ctx.as_of)}.",
                    )


RULES = (*prohibited, restr_doc, restr_entity, restr_tprod, restr_office, restr_validity)
