"""Earlier dispatches through the worker and the store: a control document serves one
dispatch, even after a restart; an unregularized urgent dispatch bars the next until the office
records its regularization."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from config import OfficeRegistry
from config.clock import FixedClock
from edi_formats.models import DUA, ControlDocument, Modality
from gateway.pipeline import PipelineWorker
from mailboxes.dispatch_history import OfficeRecords
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.gateway.pipeline.helpers import AGENT, DOMAIN, body_text, flat, mailbox, submission
from tests.gateway.pipeline.helpers import submit as submit_raw
from validators.samples import break_rule, sample_declaration


def _dua(day: date, reference: str, **changes: Any) -> DUA:
    made = sample_declaration("dua", as_of=day, reference=reference, agent_code="4821")
    assert isinstance(made, DUA)
    return DUA.model_validate(made.model_copy(update=changes).model_dump())


def _medicines(day: date, reference: str, permit: str) -> DUA:
    dua = break_rule(_dua(day, reference), "RESTR-DOC")
    document = ControlDocument(
        entity_code="03",
        document_code="08",
        number=permit,
        issued_on=day - timedelta(days=5),
        expires_on=day + timedelta(days=300),
    )
    series = list(dua.series)
    series[0] = series[0].model_copy(update={"control_documents": (document,)})
    return DUA.model_validate(dua.model_copy(update={"series": tuple(series)}).model_dump())


async def _send(
    store: Store, worker: PipelineWorker, clock: FixedClock, day: date, decl: DUA
) -> tuple[str, str]:
    clock.set(datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC))
    before = len(await mailbox(store, AGENT))
    await submit_raw(store, submission(flat(decl), message_id=f"<{decl.agent_reference}@a.pe>"))
    await worker.run_until_idle()
    (reply,) = (await mailbox(store, AGENT))[before:]
    return reply["X-Teledespacho-Status"], " ".join(body_text(reply).split())


async def test_a_control_document_serves_one_dispatch_across_restarts(
    accounts: Store,
    worker: PipelineWorker,
    clock: FixedClock,
    offices: OfficeRegistry,
    database_url: str,
) -> None:
    """Seed 003 VI.10: "El documento de control se utiliza en un solo despacho"."""
    day = date(2026, 11, 2)
    status, _ = await _send(accounts, worker, clock, day, _medicines(day, "M1", "RS-2026-0042"))
    assert status == "accepted"
    first = (await mailbox(accounts, AGENT))[-1]["X-Teledespacho-Number"]
    # A restart: a new store on the same database, a new worker.
    reopened = await Store.open(database_url, clock=clock, hasher=FAST_HASHER)
    try:
        again = PipelineWorker(
            reopened, offices=offices, clock=clock, domain=DOMAIN, retry_delay=0.0
        )
        later = day + timedelta(days=3)
        reused = _medicines(later, "M2", "RS-2026-0042")
        status, text = await _send(reopened, again, clock, later, reused)
        assert status == "rejected"
        assert "CTRL-SINGLE-USE" in text and first in text and "un solo despacho" in text
        fresh = _medicines(later, "M3", "RS-2026-0099")
        status, _ = await _send(reopened, again, clock, later, fresh)
        assert status == "accepted"
    finally:
        await reopened.close()


async def test_an_unregularized_urgent_dispatch_bars_the_next_until_regularized(
    accounts: Store, worker: PipelineWorker, clock: FixedClock
) -> None:
    """Seed 004 VII.B.9: "El plazo para la regularización es de quince (15) días calendario
    siguientes a la fecha del término de la descarga"; VII.B.13: "No se otorga el tratamiento
    de despacho urgente al importador que no regularice sus despachos anteriores dentro del
    plazo establecido". The office records the regularization (VII.B.12, "REGULARIZADA")."""

    def urgent(day: date, reference: str) -> DUA:
        dua = _dua(day, reference)
        transport = dua.transport.model_copy(
            update={"arrival_date": day - timedelta(days=1), "discharge_end_date": day}
        )
        return DUA.model_validate(
            dua.model_copy(
                update={"modality": Modality(code="0-1", category="b"), "transport": transport}
            ).model_dump()
        )

    day = date(2026, 3, 2)
    assert (await _send(accounts, worker, clock, day, urgent(day, "U1")))[0] == "accepted"
    number = (await mailbox(accounts, AGENT))[-1]["X-Teledespacho-Number"]
    within = day + timedelta(days=15)  # the deadline itself: not yet overdue
    assert (await _send(accounts, worker, clock, within, urgent(within, "U2")))[0] == "accepted"
    late = day + timedelta(days=20)
    status, text = await _send(accounts, worker, clock, late, urgent(late, "U3"))
    assert status == "rejected" and "URG-REGULARIZE" in text and number in text
    assert await OfficeRecords(accounts).mark_regularized(number, late)
    status, _ = await _send(accounts, worker, clock, late, urgent(late, "U4"))
    assert status == "accepted"  # U2's deadline runs from its own discharge: not yet overdue
    assert not await OfficeRecords(accounts).mark_regularized(number, late)  # recorded once


async def test_premises_with_code_44_are_refused_through_the_store(
    accounts: Store, worker: PipelineWorker, clock: FixedClock
) -> None:
    """Seed 004 VII.A.51: "El código 44 imposibilita automáticamente que se numere una nueva
    declaración bajo la modalidad de despacho anticipado con traslado en dicho local"."""
    day = date(2026, 11, 2)
    place = "AUTORIZACION ZP: 118-ZP-7 E.A.:0003 AV. ARGENTINA 2833 CALLAO 070101"
    dua = _dua(
        day, "Z1", modality=Modality(code="1-0", arrival_point="04"), observations_7_38=place
    )
    party = (dua.importer.doc_type.value, dua.importer.doc_number)
    await OfficeRecords(accounts).premises_unfit(party, "0003", day - timedelta(days=3))
    status, text = await _send(accounts, worker, clock, day, dua)
    assert status == "rejected" and "MOD-04-PREMISES" in text and "E.A.:0003" in text
    assert await OfficeRecords(accounts).premises_fit(party, "0003", day)
    cured = _dua(
        day, "Z2", modality=Modality(code="1-0", arrival_point="04"), observations_7_38=place
    )
    assert (await _send(accounts, worker, clock, day, cured))[0] == "accepted"
