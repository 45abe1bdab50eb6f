"""ONE-CONSIGNEE: one consignee and one cargo manifest per declaration (seed 004 VI.8)."""

from __future__ import annotations

from collections.abc import Iterator

from edi_formats.models import DUA, OE, ManifestRef
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.rules.sources import INTA_PG01A, cite_004

__all__ = ["RULES", "one_consignee"]


def _manifest(ref: ManifestRef) -> str:
    return f"{ref.office}-{ref.year}-{ref.number}"


@rule(
    "ONE-CONSIGNEE",
    title="Un solo consignatario y un solo manifiesto",
    citation=cite_004("VI.8"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def one_consignee(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """The goods of one DUA belong to one consignee (the importer) and come in one cargo
    manifest; several transport documents are fine if they agree on both (VI.9)."""
    if not isinstance(declaration, DUA):
        return
    importer = declaration.importer.doc_number
    manifests: dict[str, str] = {}
    if declaration.transport.manifest is not None:
        manifests[_manifest(declaration.transport.manifest)] = "transport.manifest"
    for index, document in enumerate(declaration.transport.documents):
        where = f"transport.documents[{index}]"
        consignee = document.consignee_doc_number
        if consignee is not None and consignee != importer:
            yield Problem(
                f"{where}.consignee_doc_number",
                f"Documento de transporte {document.number}: está consignado a {consignee}, "
                f"no al importador {importer}. Una declaración ampara mercancías de un solo "
                "consignatario.",
            )
        if document.manifest is not None:
            manifests.setdefault(_manifest(document.manifest), f"{where}.manifest")
    if len(manifests) > 1:
        listed = ", ".join(manifests)
        yield Problem(
            list(manifests.values())[1],
            f"Casilla Manifiesto de carga: la declaración ampara mercancías de varios "
            f"manifiestos ({listed}); cada declaración corresponde a un solo manifiesto.",
        )


RULES = (one_consignee,)
