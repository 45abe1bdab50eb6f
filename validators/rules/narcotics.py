"""RESTR-NARCOTICS: narcotics, psychotropics and precursors travel with both DIGEMID documents.

Seed 003 VII.A 5.1.4 c: "El ingreso o salida al país de estas sustancias así como de los
medicamentos que los contienen requieren de certificado oficial de importación o exportación
del Ministerio de Salud, según corresponda, así como de la respectiva Resolución Directoral de
autorización de internamiento o de salida, expedida por la DIGEMID" (and 5.1.5 a for the
import of narcotics). RESTR-DOC asks for *a* control document; this rule asks for both: the
certificate (Annex B code 03) and the resolution (code 02), each of DIGEMID (Annex A 03).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from edi_formats.models import DUA, OE, ExportSeries, ImportSeries
from validators.context import RuleContext
from validators.goods import flow_of, restricted_goods
from validators.registry import Problem, rule
from validators.rules.sources import INTA_PE0006, cite_003
from validators.rules.wording import control_box, joined, series_label

__all__ = ["CERTIFICATE", "DIGEMID", "NARCOTICS_ANNEX", "RESOLUTION", "RULES", "restr_narcotics"]

NARCOTICS_ANNEX: Final = "12"
DIGEMID: Final = "03"
CERTIFICATE: Final = "03"
RESOLUTION: Final = "02"


@rule(
    "RESTR-NARCOTICS",
    title="Estupefacientes, psicotrópicos y precursores: certificado oficial y resolución",
    citation=cite_003("VII.A 5.1.4 c, 5.1.5 a"),
    schedule=INTA_PE0006,
)
def restr_narcotics(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A series of Annex 12 goods that carries control documents carries both DIGEMID ones:
    the official certificate (03 03) and the directoral resolution (03 02). A series with
    none is RESTR-DOC's, which asks for the document in the first place."""
    flow = flow_of(declaration)
    box = control_box(declaration)
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, item in enumerate(series):
        rows = restricted_goods(item, flow, ctx.reference)
        if not item.control_documents or all(r.annex.id != NARCOTICS_ANNEX for r in rows):
            continue
        codes = {d.document_code for d in item.control_documents if d.entity_code == DIGEMID}
        missing = []
        if CERTIFICATE not in codes:
            missing.append(
                f"el certificado oficial de importación o exportación ({DIGEMID} {CERTIFICATE})"
            )
        if RESOLUTION not in codes:
            missing.append(
                "la resolución directoral de autorización de internamiento o de salida "
                f"({DIGEMID} {RESOLUTION})"
            )
        if missing:
            yield Problem(
                f"series[{index}].control_documents",
                f"{series_label(item.number)}, {box}: las sustancias estupefacientes, "
                "psicotrópicas y precursores, y los medicamentos que las contienen, requieren el "
                "certificado oficial del Ministerio de Salud y la resolución directoral de la "
                f"DIGEMID; falta {joined(missing)}.",
            )


RULES = (restr_narcotics,)
