"""The catalog through the worker: restricted goods, notes in acceptances, the channel in both
mails, and ID-NORUC over a year of imports from the store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from config.clock import FixedClock
from edi_formats.codes import PartyDocType
from edi_formats.models import DUA, ControlDocument
from gateway.pipeline import PipelineWorker
from mailboxes.store import Store
from tests.gateway.pipeline.helpers import (
    AGENT,
    OFFICE,
    as_json,
    attachments,
    body_text,
    declaration,
    flat,
    mailbox,
    submission,
    submit,
)
from validators.samples import break_rule, sample_declaration


def dua(**kwargs: Any) -> DUA:
    made = declaration("dua", **kwargs)
    assert isinstance(made, DUA)
    return made


def first_series(decl: DUA, **changes: Any) -> DUA:
    series = list(decl.series)
    series[0] = series[0].model_copy(update=changes)
    return DUA.model_validate(decl.model_copy(update={"series": tuple(series)}).model_dump())


async def test_a_restricted_dua_without_its_control_document_is_rejected(
    worker: PipelineWorker, accounts: Store
):
    broken = break_rule(dua(reference="MED-1"), "RESTR-DOC")
    await submit(accounts, submission(flat(broken)))
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Status"] == "rejected"
    text = " ".join(body_text(reply).split())
    assert "RESTR-DOC — Serie 1, casilla 7.37: documento de control" in text
    assert "Serie 1, casilla 7.37" in text and "03 (DIGEMID)" in text
    assert "Procedimiento INTA-PE.00.06, VI.5-7" in text
    assert await mailbox(accounts, OFFICE) == []


async def test_with_its_control_document_the_same_goods_are_accepted(
    worker: PipelineWorker, accounts: Store
):
    broken = break_rule(dua(reference="MED-2"), "RESTR-DOC")
    assert isinstance(broken, DUA)
    permit = ControlDocument(
        entity_code="03",
        document_code="08",
        number="RS-E-20451",
        issued_on=date(2026, 1, 15),
        expires_on=date(2031, 1, 14),
    )
    await submit(accounts, submission(flat(first_series(broken, control_documents=(permit,)))))
    await worker.run_until_idle()
    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Status"] == "accepted"


async def test_arms_are_always_examined_and_both_mails_say_rojo(
    worker: PipelineWorker, accounts: Store
):
    permit = ControlDocument(
        entity_code="02",
        document_code="02",
        number="RD-0457",
        issued_on=date(2026, 10, 1),
        expires_on=date(2027, 9, 30),
    )
    arms = first_series(
        dua(reference="ARMAS-1"), subpartida="9302000000", control_documents=(permit,)
    )
    await submit(accounts, submission(flat(arms)))
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    (copy,) = await mailbox(accounts, OFFICE)
    assert reply["X-Teledespacho-Channel"] == copy["X-Teledespacho-Channel"] == "rojo"
    assert "canal ROJO" in reply["Subject"]
    assert "reconocimiento físico obligatorio: serie 1" in " ".join(body_text(copy).split())


async def test_notes_reach_the_acceptance_and_the_office_copy(
    worker: PipelineWorker, accounts: Store
):
    await submit(accounts, submission(as_json(break_rule(dua(reference="TASA-1"), "TASA"))))
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Status"] == "accepted"
    text = " ".join(body_text(reply).split())
    assert "Información sobre su declaración (1):" in text
    assert "TASA — Total CIF" in text
    assert "la tasa de despacho aduanero es aplicable" in text
    assert "Observaciones" not in text
    ((_, response),) = attachments(reply)
    (finding,) = json.loads(response)["findings"]
    assert (finding["rule_id"], finding["severity"]) == ("TASA", "warning")
    (copy,) = await mailbox(accounts, OFFICE)
    assert "Tasa de despacho aduanero" in " ".join(body_text(copy).split())


async def test_a_rejection_does_not_list_notes(worker: PipelineWorker, accounts: Store):
    broken = break_rule(break_rule(dua(reference="DIEZ-2"), "TASA"), "STR-TOTALS")
    await submit(accounts, submission(as_json(broken)))
    await worker.run_until_idle()
    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Status"] == "rejected"
    assert "Tasa de despacho" not in body_text(reply) and "TASA" not in body_text(reply)
    ((_, response),) = attachments(reply)
    assert {f["rule_id"] for f in json.loads(response)["findings"]} == {"STR-TOTALS"}


# -- ID-NORUC across a year ------------------------------------------------------------------------


def _without_ruc(decl: DUA, dni: str) -> DUA:
    importer = decl.importer.model_copy(update={"doc_type": PartyDocType.DNI, "doc_number": dni})
    documents = tuple(
        doc.model_copy(update={"consignee_doc_number": dni}) for doc in decl.transport.documents
    )
    transport = decl.transport.model_copy(update={"documents": documents})
    return DUA.model_validate(
        decl.model_copy(update={"importer": importer, "transport": transport}).model_dump()
    )


def _import(day: date, reference: str, *, small: bool, dni: str = "45871236") -> bytes:
    made = sample_declaration("dua", as_of=day, reference=reference)
    assert isinstance(made, DUA)
    if small:  # four dollars a series: an occasional import well under US$1,000
        made_small = break_rule(made, "FOB-10")
        assert isinstance(made_small, DUA)
        made = made_small
    return flat(_without_ruc(made, dni))


async def _send(
    store: Store, worker: PipelineWorker, clock: FixedClock, day: date, *documents: bytes
) -> list[tuple[str, str]]:
    clock.set(datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC))
    before = len(await mailbox(store, AGENT))
    await submit(store, submission(*documents, message_id=f"<{day}-{before}@agencias.pe>"))
    await worker.run_until_idle()
    replies = (await mailbox(store, AGENT))[before:]
    return [(r["X-Teledespacho-Reference"], r["X-Teledespacho-Status"]) for r in replies]


async def test_id_noruc_counts_an_importers_year(
    worker: PipelineWorker, accounts: Store, clock: FixedClock
):
    """Three occasional imports a year; the single larger one only alone in its year."""
    for n, day in enumerate([date(2026, 1, 12), date(2026, 3, 3), date(2026, 6, 1)], start=1):
        assert await _send(accounts, worker, clock, day, _import(day, f"P{n}", small=True)) == [
            (f"P{n}", "accepted")
        ]
    day = date(2026, 7, 1)
    assert await _send(accounts, worker, clock, day, _import(day, "P4", small=True)) == [
        ("P4", "rejected")
    ]
    (rejection,) = (await mailbox(accounts, AGENT))[-1:]
    text = " ".join(body_text(rejection).split())
    assert "ID-NORUC" in text and "ya registra 3 importaciones en 2026" in text
    day = date(2026, 12, 1)
    assert await _send(accounts, worker, clock, day, _import(day, "G1", small=False)) == [
        ("G1", "rejected")
    ]
    # A new calendar year: the single larger import, then nothing else that year.
    day = date(2027, 1, 5)
    assert await _send(accounts, worker, clock, day, _import(day, "G2", small=False)) == [
        ("G2", "accepted")
    ]
    day = date(2027, 2, 1)
    assert await _send(accounts, worker, clock, day, _import(day, "P5", small=True)) == [
        ("P5", "rejected")
    ]
    # Another importer's history is its own.
    assert await _send(
        accounts, worker, clock, day, _import(day, "Q1", small=False, dni="07654321")
    ) == [("Q1", "accepted")]


async def test_imports_in_one_batch_count_each_other(
    worker: PipelineWorker, accounts: Store, clock: FixedClock
):
    day = date(2026, 5, 4)
    documents = [_import(day, f"B{n}", small=True) for n in range(1, 6)]
    answers = await _send(accounts, worker, clock, day, *documents)
    assert answers == [
        ("B1", "accepted"),
        ("B2", "accepted"),
        ("B3", "accepted"),
        ("B4", "rejected"),
        ("B5", "rejected"),
    ]


async def test_a_resent_accepted_import_is_not_counted_twice(
    worker: PipelineWorker, accounts: Store, clock: FixedClock
):
    day = date(2026, 8, 3)
    document = _import(day, "R1", small=True)
    for _ in range(4):
        assert await _send(accounts, worker, clock, day, document) == [("R1", "accepted")]
    later = day + timedelta(days=1)
    assert await _send(accounts, worker, clock, later, _import(later, "R2", small=True)) == [
        ("R2", "accepted")
    ]
