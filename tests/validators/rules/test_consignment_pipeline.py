from __future__ import annotations

from edi_formats.models import ManifestRef
from tests.validators.helpers import change, findings_of, sample_dua, sample_oe
from validators.engine import RuleContext
from validators.rules.pipeline import dup, number


def test_transport_documents_of_the_importer_in_one_manifest(ctx: RuleContext) -> None:
    dua = sample_dua()
    second = change(dua.transport.documents[0], number="HLCUSHA2100001")
    two_documents = change(
        dua, transport=change(dua.transport, documents=(*dua.transport.documents, second))
    )
    assert findings_of(two_documents, ctx, "ONE-CONSIGNEE") == []


def test_two_manifests_are_rejected(ctx: RuleContext) -> None:
    dua = sample_dua()
    other = ManifestRef(office="118", year=2025, number="9999")
    document = change(dua.transport.documents[0], manifest=other)
    declaration = change(dua, transport=change(dua.transport, documents=(document,)))
    (finding,) = findings_of(declaration, ctx, "ONE-CONSIGNEE")
    assert finding.field == "transport.documents[0].manifest"
    assert "118-2025-004512" in finding.message and "118-2025-9999" in finding.message


def test_number_and_dup_are_no_ops_in_the_pure_engine(ctx: RuleContext) -> None:
    for declaration in (sample_dua(), sample_oe()):
        assert all(list(version.check(declaration, ctx)) == [] for version in number)
        assert list(dup.check(declaration, ctx)) == []
