"""docs/rules.md, written from the catalog: each rule, its dates, offices and source.

The document is generated, never edited by hand: ``teledispatch rules doc > docs/rules.md``
rewrites it, and a test regenerates it and compares, so it cannot drift from what the gateway
enforces. It is written for a customs broker: what each rule asks, from and until when, at
which offices, and under which norm; the source column says where the project keeps the
norm's text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from config.offices import OfficeRegistry
from config.reference import NEVER, ReferenceData, shipped_reference
from validators.findings import Severity
from validators.registry import Rule, RuleRegistry, Validity
from validators.rules.sources import source_of

__all__ = ["render_rules_doc"]

_DAY = timedelta(days=1)
_SEVERITY = {
    Severity.ERROR: "rechaza",
    Severity.WARNING: "aviso (se numera)",
    Severity.INFO: "nota en la aceptación",
}
_DOCUMENTS = {"DUA": "DUA", "OE": "O/E"}

_PREFACE = """\
# Reglas de validación del Teledespacho

Generado desde el catálogo de reglas (`teledispatch rules doc`); no se edita a mano. Para
las reglas en vigor en una fecha y aduana: `teledispatch rules list --as-of AAAA-MM-DD
--office NNN`.

Cada regla se aplica según la fecha de transmisión (día calendario de Lima) y la aduana de
despacho. Una misma regla puede tener varias versiones: cuando una norma posterior la
cambia, o porque antes de existir un procedimiento la regla cita lo que regía entonces.
*Rechaza* impide la numeración; un *aviso* se informa con la aceptación; una *nota* informa
(tasa de despacho, extinción de la obligación tributaria).

Lo que el proyecto decide donde las normas callan:

- **1997.** El servidor de Teledespacho valida la DUA y la O/E "para su aceptación o
  rechazo" (Método de operación del Teledespacho, 1997). Antes de INTA-PG.01-A (2010) las
  reglas de estructura, régimen, remitente y numeración citan ese método; las
  prohibiciones, la norma de cada mercancía con su fecha.
- **Aduanas.** Marítima y Aérea del Callao y las nueve aduanas centralizadas que el método
  de 1997 da como ya operando (Pisco, Salaverry, Arequipa, Cusco, Puno, Chiclayo, Chimbote,
  Pucallpa, Tarapoto) reciben declaraciones desde el 17/02/1997, primera fecha que da; las
  demás desde el 01/01/1998. La Sede Central (000) aloja el servidor de correo y no es
  aduana de despacho. INTA-PG.01-A rige solo en las aduanas de su alcance (I Objetivo):
  no en Paita, Ilo, Mollendo, Pisco, Salaverry, Chimbote ni Desaguadero.
- **RUC.** Hasta el 30/08/2010 basta un número de 8 u 11 dígitos; desde el 31/08/2010 se
  exige el RUC de 11 dígitos con dígito verificador módulo 11 (regla del proyecto: las
  normas citadas no dan la estructura del RUC).
- **Despachos anteriores.** Los documentos de control de cada declaración aceptada quedan
  registrados: un documento ya utilizado se rechaza (INTA-PE.00.06 VI.10). Cada despacho
  urgente o anticipado 04 numerado queda pendiente de regularización hasta 15 días después
  del término de la descarga (o de la llegada, o de la numeración si la DUA no la indica);
  la aduana registra la regularización con `teledispatch declaration regularize NÚMERO`,
  y el código 44 de un local (o su subsanación) con `teledispatch declaration premises`.
- **Aprobaciones previas.** Lo que la aduana aprueba antes de numerar se indica en la
  casilla 7.38: `AUTORIZACION ZP: número` (anticipado 04), `CALIFICACION: número` (urgencia
  inciso n, socorro inciso i), `PRORROGA: número` (despacho diferido prorrogado); los datos
  del vehículo usado, en su descripción (`AÑO FABRICACION`, `TIMON`, `PESO BRUTO
  VEHICULAR`, `CO`), y sus excepciones en la 7.38 (`VEHICULO USADO: DIPLOMATICO`, `MISION`,
  `DONACION SECTOR PUBLICO`, `COLECCION`).
- **Canal.** El canal se asigna al numerar y rige una vez pagada o garantizada la deuda
  (INTA-PG.01-A VI.17). Los porcentajes de rojo de VII.A.45 son de la importación desde
  INTA-PG.01-A; para la O/E y antes, un tope del proyecto.
"""


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _window(validity: Validity) -> str:
    if validity.start == NEVER:
        return "no rige"
    end = validity.end if validity.end is not None and validity.end < NEVER - _DAY else None
    if validity.start is None and end is None:
        return "siempre"
    if end is None:
        return f"desde {_day(validity.start)}" if validity.start else "siempre"
    if validity.start is None:
        return f"hasta {_day(end)}"
    if end < validity.start:
        return "no rige"
    return f"del {_day(validity.start)} al {_day(end)}"


def _offices(item: Rule, offices: OfficeRegistry) -> str:
    if not item.office_validity:
        return "todas"
    parts = []
    for code, window in item.office_validity.items():
        office = offices.get(code)
        name = f"{code} {office.name}" if office is not None else code
        parts.append(f"{name}: {_window(window)}")
    return "todas según la vigencia, salvo " + "; ".join(parts)


def _documents(item: Rule) -> str:
    return ", ".join(_DOCUMENTS[d] for d in sorted(item.applies_to))


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _section(rule_id: str, versions: Iterable[Rule], offices: OfficeRegistry) -> list[str]:
    lines = [f"## {rule_id}", ""]
    for item in versions:
        lines += [
            f"- **{_escape(item.title)}** ({_documents(item)}; {_SEVERITY[item.severity]})",
            f"  - Vigencia: {_window(item.validity)}",
            f"  - Aduanas: {_offices(item, offices)}",
            f"  - Base legal: {item.citation}",
            f"  - Fuente: {source_of(item.citation) or 'regla del proyecto'}",
        ]
    lines.append("")
    return lines


def _goods_tables(reference: ReferenceData) -> list[str]:
    """The prohibited goods with their norm and date (PROHIBITED applies each from its date)."""
    lines = [
        "## Anexo: mercancías prohibidas, su norma y su fecha",
        "",
        "Tabla referencial del proyecto (`config/data/prohibited_goods.csv`, reemplazable por "
        "la lista oficial); anexo 27 de importación, 28 de exportación; cada fila rige desde "
        "la fecha de su norma.",
        "",
        "| anexo | subpartida | mercancía | norma | desde |",
        "|---|---|---|---|---|",
    ]
    for row in reference.prohibited:
        since = _day(row.effective_from) if row.effective_from else "siempre"
        lines.append(
            f"| {row.annex.id} | {row.prefix} | {_escape(row.description)} "
            f"| {_escape(row.legal_basis)} | {since} |"
        )
    lines.append("")
    return lines


def render_rules_doc(
    registry: RuleRegistry, offices: OfficeRegistry, reference: ReferenceData | None = None
) -> str:
    """The whole of docs/rules.md for ``registry`` (and the goods tables of ``reference``)."""
    lines = [_PREFACE]
    for rule_id in registry.ids():
        lines += _section(rule_id, registry.versions(rule_id), offices)
    lines += _goods_tables(reference or shipped_reference())
    return "\n".join(lines).rstrip("\n") + "\n"
