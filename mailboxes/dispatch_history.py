"""What numbered declarations leave behind for later ones: control documents used, and
dispatches that must be regularized.

- Seed 003 VI.10: "El documento de control se utiliza en un solo despacho" (and 5.1.4 d, the
  narcotics certificate "válidos para un (01) sólo despacho"; 4.1.3 a.2, the OTO permit
  "debe ser tramitado para cada embarque"). Each control document of an accepted declaration
  is recorded once; the primary key makes a second use impossible even for two workers.
- Seed 004 VII.B.13: no urgent dispatch "al importador que no regularice sus despachos
  anteriores dentro del plazo establecido", and VI.15: no anticipado 04 for an owner "que
  tengan despachos similares pendientes de regularización cuyo plazo se encuentra vencido".
  Each urgent or anticipado-04 DUA numbered is recorded with its regularization deadline;
  the office records the regularization (the SIGAD's "REGULARIZADA" of VII.B.12) with
  ``teledispatch declaration regularize``, the closest event the gateway sees.

- Seed 004 VII.A.51: code 44 ("local no apto para la realización del reconocimiento físico
  en Despacho Anticipado") "imposibilita automáticamente que se numere una nueva declaración
  bajo la modalidad de despacho anticipado con traslado en dicho local" until the importer's
  expedient clears it; a second code 44 within a year restricts the premises for a year from
  the second. The office records both (``teledispatch declaration premises``).

Written and read inside the answering transaction (through ``mailboxes.jobs.Answering``),
so they commit with the number or not at all, and survive restarts; the office's records go
through ``OfficeRecords``, a transaction of their own. Each function is a statement on the
unit of work's connection (``Database.run``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import partial

from sqlalchemy import Connection, Date, Index, String, bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Mapped, mapped_column

from mailboxes.schema import Base, UTCDateTime
from mailboxes.store import Store

__all__ = [
    "ControlDocumentKey",
    "ControlDocumentUseRow",
    "OfficeRecords",
    "PendingKind",
    "RegularizationRow",
    "UnfitPremisesRow",
    "clear_unfit_premises",
    "mark_regularized",
    "overdue_regularizations",
    "premises_incidents",
    "record_control_documents",
    "record_pending_regularization",
    "record_unfit_premises",
    "used_control_documents",
]


class ControlDocumentUseRow(Base):
    """A control document (entity, document code, number) used by a numbered declaration."""

    __tablename__ = "control_document_uses"

    entity_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    document_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    number: Mapped[str] = mapped_column(String(35), primary_key=True)
    declaration_number: Mapped[str] = mapped_column(String(18))
    office_code: Mapped[str] = mapped_column(String(3))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PendingKind(StrEnum):
    URGENT = "urgente"
    ANTICIPADO_04 = "anticipado-04"


class RegularizationRow(Base):
    """A dispatch that must be regularized by ``due_on``; ``regularized_on`` once it was."""

    __tablename__ = "regularizations"
    __table_args__ = (
        Index("ix_regularizations_party", "party_doc_type", "party_doc_number", "kind"),
    )

    declaration_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    office_code: Mapped[str] = mapped_column(String(3))
    party_doc_type: Mapped[str] = mapped_column(String(3))
    party_doc_number: Mapped[str] = mapped_column(String(15))
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    regularized_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class UnfitPremisesRow(Base):
    """A code 44 recorded for an importer's premises (establishment code of box 7.38)."""

    __tablename__ = "unfit_premises"

    party_doc_type: Mapped[str] = mapped_column(String(3), primary_key=True)
    party_doc_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    establishment: Mapped[str] = mapped_column(String(4), primary_key=True)
    recorded_on: Mapped[date] = mapped_column(Date, primary_key=True)
    cleared_on: Mapped[date | None] = mapped_column(Date, nullable=True)


@dataclass(frozen=True, slots=True, order=True)
class ControlDocumentKey:
    entity_code: str
    document_code: str
    number: str


def used_control_documents(
    connection: Connection, keys: Iterable[ControlDocumentKey]
) -> Mapping[ControlDocumentKey, str]:
    """The declaration number that already used each of ``keys``, for those used."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = connection.execute(
        _USED, {"keys": [(k.entity_code, k.document_code, k.number) for k in wanted]}
    )
    return {ControlDocumentKey(e, d, n): number for e, d, n, number in rows}


def record_control_documents(
    connection: Connection,
    keys: Iterable[ControlDocumentKey],
    *,
    declaration_number: str,
    office: str,
    used_at: datetime,
) -> None:
    """Record the control documents of a declaration being numbered (written at once, so a
    later declaration of the same transaction sees them)."""
    rows = [
        {
            "entity_code": key.entity_code,
            "document_code": key.document_code,
            "number": key.number,
            "declaration_number": declaration_number,
            "office_code": office,
            "used_at": used_at,
        }
        for key in sorted(set(keys))
    ]
    if rows:
        connection.execute(insert(ControlDocumentUseRow), rows)


def record_pending_regularization(
    connection: Connection,
    *,
    declaration_number: str,
    office: str,
    party: tuple[str, str],
    kind: PendingKind,
    due_on: date,
) -> None:
    """Record a dispatch numbered that must be regularized by ``due_on``."""
    connection.execute(
        insert(RegularizationRow).values(
            declaration_number=declaration_number,
            office_code=office,
            party_doc_type=party[0],
            party_doc_number=party[1],
            kind=kind.value,
            due_on=due_on,
            regularized_on=None,
        )
    )


def overdue_regularizations(
    connection: Connection, party: tuple[str, str], kind: PendingKind, as_of: date
) -> tuple[str, ...]:
    """The importer's dispatches of ``kind`` still unregularized after their deadline."""
    numbers = connection.scalars(
        _OVERDUE, {"doc_type": party[0], "doc_number": party[1], "kind": kind.value, "as_of": as_of}
    )
    return tuple(numbers)


def record_unfit_premises(
    connection: Connection, party: tuple[str, str], establishment: str, on: date
) -> None:
    """Record a code 44 for the premises on ``on``."""
    connection.execute(
        insert(UnfitPremisesRow).values(
            party_doc_type=party[0],
            party_doc_number=party[1],
            establishment=establishment,
            recorded_on=on,
            cleared_on=None,
        )
    )


def clear_unfit_premises(
    connection: Connection, party: tuple[str, str], establishment: str, on: date
) -> bool:
    """Record the expedient that cures the premises' open code 44; False if none is open."""
    result = connection.execute(
        update(UnfitPremisesRow)
        .where(
            UnfitPremisesRow.party_doc_type == party[0],
            UnfitPremisesRow.party_doc_number == party[1],
            UnfitPremisesRow.establishment == establishment,
            UnfitPremisesRow.cleared_on.is_(None),
        )
        .values(cleared_on=on)
    )
    return bool(result.rowcount)


def premises_incidents(
    connection: Connection, party: tuple[str, str], establishment: str
) -> tuple[tuple[date, date | None], ...]:
    """The premises' code 44 records: (recorded on, cleared on), oldest first."""
    rows = connection.execute(
        _PREMISES, {"doc_type": party[0], "doc_number": party[1], "establishment": establishment}
    )
    return tuple((recorded, cleared) for recorded, cleared in rows)


def mark_regularized(connection: Connection, declaration_number: str, on: date) -> bool:
    """Record that a dispatch was regularized on ``on``; False if it is not pending."""
    result = connection.execute(
        update(RegularizationRow)
        .where(
            RegularizationRow.declaration_number == declaration_number,
            RegularizationRow.regularized_on.is_(None),
        )
        .values(regularized_on=on)
    )
    return bool(result.rowcount)


_USED = select(
    ControlDocumentUseRow.entity_code,
    ControlDocumentUseRow.document_code,
    ControlDocumentUseRow.number,
    ControlDocumentUseRow.declaration_number,
).where(
    tuple_(
        ControlDocumentUseRow.entity_code,
        ControlDocumentUseRow.document_code,
        ControlDocumentUseRow.number,
    ).in_(bindparam("keys", expanding=True))
)
_OVERDUE = (
    select(RegularizationRow.declaration_number)
    .where(
        RegularizationRow.party_doc_type == bindparam("doc_type"),
        RegularizationRow.party_doc_number == bindparam("doc_number"),
        RegularizationRow.kind == bindparam("kind"),
        RegularizationRow.regularized_on.is_(None),
        RegularizationRow.due_on < bindparam("as_of"),
    )
    .order_by(RegularizationRow.declaration_number)
)
_PREMISES = (
    select(UnfitPremisesRow.recorded_on, UnfitPremisesRow.cleared_on)
    .where(
        UnfitPremisesRow.party_doc_type == bindparam("doc_type"),
        UnfitPremisesRow.party_doc_number == bindparam("doc_number"),
        UnfitPremisesRow.establishment == bindparam("establishment"),
    )
    .order_by(UnfitPremisesRow.recorded_on)
)


class OfficeRecords:
    """What the office records on dispatches (``teledispatch declaration``): one short
    transaction each, on the store's writer."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def mark_regularized(self, declaration_number: str, on: date) -> bool:
        return await self._store.database.run(
            partial(mark_regularized, declaration_number=declaration_number, on=on), write=True
        )

    async def premises_unfit(self, party: tuple[str, str], establishment: str, on: date) -> None:
        await self._store.database.run(
            partial(record_unfit_premises, party=party, establishment=establishment, on=on),
            write=True,
        )

    async def premises_fit(self, party: tuple[str, str], establishment: str, on: date) -> bool:
        return await self._store.database.run(
            partial(clear_unfit_premises, party=party, establishment=establishment, on=on),
            write=True,
        )
