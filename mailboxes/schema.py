"""Tables of the store.

Message bytes live once in ``message_contents``; a mailbox holds ``mailbox_messages`` that
point at them (with the per-mailbox UID and flags). One submission to several recipients is
stored once, and an intake job keeps its bytes even if the office deletes its copy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccountOfficeRow",
    "AccountRow",
    "Base",
    "ChannelMonthRow",
    "DeclarationCounterRow",
    "DeclarationRow",
    "DeclarationStatus",
    "ImportHistoryRow",
    "IntakeJobRow",
    "JobState",
    "MailboxExpungeRow",
    "MailboxMessageRow",
    "MailboxRequestRow",
    "MailboxRow",
    "MessageContentRow",
    "OfficeHandoverRow",
    "PickupSeenRow",
    "RelayRow",
    "Role",
    "SubscriptionRow",
    "UTCDateTime",
    "UidValidityFloorRow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Role(StrEnum):
    AGENT = "agent"
    OFFICE = "office"
    DEPARTMENT = "department"


class JobState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    agent_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    office_code: Mapped[str | None] = mapped_column(String(3))
    password_hash: Mapped[str] = mapped_column(String(255))
    apop_secret: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MailboxRow(Base):
    __tablename__ = "mailboxes"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(255))
    uid_validity: Mapped[int] = mapped_column(BigInteger)
    uid_next: Mapped[int] = mapped_column(BigInteger, default=1)
    message_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    unseen_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Messages without ``\\Seen``: STATUS and SELECT answer without counting rows."""
    highest_modseq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Bumped by every transaction that adds, removes or re-flags messages here (RFC 7162's
    HIGHESTMODSEQ): a session that knows the value it saw asks only for what came after."""


class SubscriptionRow(Base):
    """A mailbox name an account subscribed to over IMAP (RFC 3501 §6.3.6).

    Kept by name, not by mailbox: a subscription may name a mailbox that does not exist
    (yet, or any more), and it survives the mailbox being deleted and created again.
    """

    __tablename__ = "mailbox_subscriptions"
    __table_args__ = (PrimaryKeyConstraint("owner", "name"),)

    owner: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(255))


class UidValidityFloorRow(Base):
    """The highest UIDVALIDITY given to a folder created over IMAP (one row).

    A folder deleted and created again must get a greater UIDVALIDITY than before, or
    clients would trust the UIDs they cached (RFC 3501 §2.3.1.1); the deleted row is gone,
    so the mark is kept here.
    """

    __tablename__ = "uid_validity_floor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class MessageContentRow(Base):
    __tablename__ = "message_contents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MailboxMessageRow(Base):
    __tablename__ = "mailbox_messages"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "uid"),
        Index("ix_mailbox_messages_mailbox_id_modseq", "mailbox_id", "modseq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    uid: Mapped[int] = mapped_column(BigInteger)
    content_id: Mapped[int] = mapped_column(ForeignKey("message_contents.id"), index=True)
    internal_date: Mapped[datetime] = mapped_column(UTCDateTime)
    flags: Mapped[str] = mapped_column(Text, default="")
    """Space-separated IMAP flags, sorted, e.g. ``\\Deleted \\Seen``."""
    modseq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The mailbox's ``highest_modseq`` when this message was filed or last re-flagged."""


class MailboxExpungeRow(Base):
    """A message removed from a mailbox, and the modification sequence that removed it.

    Sessions that saw the mailbox at an earlier modseq learn the removal from here (POP3
    deletions, other IMAP sessions, other processes), without comparing the whole list.
    UIDs are never reused in a mailbox, so (mailbox, uid) is the key.
    """

    __tablename__ = "mailbox_expunges"
    __table_args__ = (
        PrimaryKeyConstraint("mailbox_id", "uid"),
        Index("ix_mailbox_expunges_mailbox_id_modseq", "mailbox_id", "modseq"),
    )

    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    uid: Mapped[int] = mapped_column(BigInteger)
    modseq: Mapped[int] = mapped_column(BigInteger)


class IntakeJobRow(Base):
    """A submission to an office intake address, waiting for the declaration pipeline."""

    __tablename__ = "intake_jobs"
    __table_args__ = (
        Index("ix_intake_jobs_state_id", "state", "id"),
        Index("ix_intake_jobs_state_turn_id", "state", "turn", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("message_contents.id"))
    office_code: Mapped[str] = mapped_column(String(3))
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(16), default=JobState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    turn: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Its place in the queue, which the pipeline reads by turn (``mailboxes.sender_turns``): the
    jobs of different senders are taken in turn, not all of one sender's first."""


class DeclarationStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class DeclarationCounterRow(Base):
    """The last correlative given per office, year and regime: numbers are gap-free.

    Incremented in the transaction that writes the acceptance, so a crash before the commit
    takes the increment back with everything else.
    """

    __tablename__ = "declaration_counters"
    __table_args__ = (PrimaryKeyConstraint("office_code", "year", "regime"),)

    office_code: Mapped[str] = mapped_column(String(3))
    year: Mapped[int] = mapped_column(Integer)
    regime: Mapped[str] = mapped_column(String(2))
    last: Mapped[int] = mapped_column(Integer)


class ChannelMonthRow(Base):
    """An office's control channels of one month and regime: the red share's state.

    Seed 004 VII.A.45 caps (or, for quiet offices, sets a floor to) the share of the month's
    numbered declarations sent to rojo by risk selection; goods of mandatory examination and
    non-random selections (relief shipments) stay outside that share. ``red_limit`` is fixed
    when the month's first declaration is numbered, from the previous month's daily average
    (``at_most:0.50``, ``more_than:0.50``...). Updated in the transaction that numbers each
    declaration, the row locked meanwhile.
    """

    __tablename__ = "channel_months"
    __table_args__ = (PrimaryKeyConstraint("office_code", "year", "month", "regime"),)

    office_code: Mapped[str] = mapped_column(String(3))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    regime: Mapped[str] = mapped_column(String(2))
    red_limit: Mapped[str] = mapped_column(String(32))
    numbered: Mapped[int] = mapped_column(Integer, default=0)
    """Every declaration numbered in the month."""
    base: Mapped[int] = mapped_column(Integer, default=0)
    """Those in the percentage: channel chosen by risk selection."""
    red: Mapped[int] = mapped_column(Integer, default=0)
    """Of ``base``, those sent to rojo."""
    mandatory_red: Mapped[int] = mapped_column(Integer, default=0)
    """Rojo outside the percentage (mandatory physical examination)."""


class ImportHistoryRow(Base):
    """An import numbered to an importer without RUC: the history ID-NORUC counts by year.

    Written in the transaction that numbers the DUA, so the next declaration of the same
    importer (even in the same batch) sees it.
    """

    __tablename__ = "import_history"
    __table_args__ = (
        Index("ix_import_history_party", "party_doc_type", "party_doc_number", "year"),
    )

    number: Mapped[str] = mapped_column(String(18), primary_key=True)
    office_code: Mapped[str] = mapped_column(String(3))
    party_doc_type: Mapped[str] = mapped_column(String(3))
    party_doc_number: Mapped[str] = mapped_column(String(15))
    year: Mapped[int] = mapped_column(Integer)
    fob_cents: Mapped[int] = mapped_column(BigInteger)
    """The DUA's total FOB in US cents (exact on every backend)."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeclarationRow(Base):
    """The answer given to an agent's declaration, keyed by agent code and agent reference.

    An accepted row is final: the same reference from the same agent gets its reply again
    (``reply_content_id``), never a second number. A rejected row only remembers the last
    rejection; a corrected resubmission with the same reference is validated anew.
    """

    __tablename__ = "declarations"
    __table_args__ = (
        UniqueConstraint("agent_code", "agent_reference"),
        UniqueConstraint("number"),
        Index("ix_declarations_office_code_received_at", "office_code", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_code: Mapped[str] = mapped_column(String(16))
    agent_reference: Mapped[str] = mapped_column(String(32))
    document_type: Mapped[str] = mapped_column(String(8))
    regime: Mapped[str] = mapped_column(String(2))
    office_code: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    number: Mapped[str | None] = mapped_column(String(18))
    """``OOO-YYYY-RR-NNNNNN`` when accepted."""
    channel: Mapped[str | None] = mapped_column(String(16))
    """``verde``, ``naranja`` or ``rojo`` when accepted."""
    reply_content_id: Mapped[int] = mapped_column(ForeignKey("message_contents.id"))
    job_id: Mapped[int] = mapped_column(ForeignKey("intake_jobs.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    document_digest: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the declaration as read (``edi_formats`` model), whatever its format."""


class RelayRow(Base):
    """A message waiting to be relayed to the node that hosts its recipient.

    One row per recipient; removed when the peer accepts it or when it is given up (the
    sender then gets a delivery status notification). ``sender`` is empty for the null
    reverse path (replies and notifications, which must never cause a notification).
    """

    __tablename__ = "relay_queue"
    __table_args__ = (Index("ix_relay_queue_next_attempt_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("message_contents.id"), index=True)
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    node: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class PickupSeenRow(Base):
    """A message already imported from an outside mailbox, so it is never imported twice.

    ``mailbox_key`` is the IMAP folder's UIDVALIDITY (a new validity makes every UID new) or
    ``pop3``; ``message_key`` the IMAP UID or the POP3 UIDL.
    """

    __tablename__ = "pickup_seen"
    __table_args__ = (PrimaryKeyConstraint("source", "mailbox_key", "message_key"),)

    source: Mapped[str] = mapped_column(String(64))
    mailbox_key: Mapped[str] = mapped_column(String(64))
    message_key: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OfficeHandoverRow(Base):
    """An office move's numbering handover, as sent by the old node or received by the new.

    ``serial`` is the move's number in the office registry (``move_serial``): the new node
    holds the office's intake jobs until it has received that move's handover, so numbering
    continues where the old node stopped, with no gap and no repeat.
    """

    __tablename__ = "office_handovers"
    __table_args__ = (PrimaryKeyConstraint("office_code", "serial", "direction"),)

    office_code: Mapped[str] = mapped_column(String(3))
    serial: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    """``sent`` or ``received``."""
    from_node: Mapped[str] = mapped_column(String(64))
    to_node: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MailboxRequestRow(Base):
    """A customs agent's request for a mailbox, received by mail, and the office's decision.

    ``id`` is the request number the acknowledgement names. ``requester`` is the envelope
    sender, where every answer goes; ``mailbox`` the address asked for. ``state`` is
    ``pending``, ``approved`` or ``rejected``; ``decided_by``/``decided_at`` say who decided
    and when, ``reason`` why a request was rejected. The mail itself is filed in the
    registration address's INBOX.
    """

    __tablename__ = "mailbox_requests"
    __table_args__ = (Index("ix_mailbox_requests_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    requester: Mapped[str] = mapped_column(String(320))
    client: Mapped[str] = mapped_column(String(64))
    mailbox: Mapped[str] = mapped_column(String(320))
    agent_code: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(255))
    ruc: Mapped[str] = mapped_column(String(11))
    contact: Mapped[str] = mapped_column(String(255))
    offices: Mapped[str] = mapped_column(String(255))
    """Office codes, space-separated."""
    state: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class AccountOfficeRow(Base):
    """The offices an agent's mailbox was granted for (its office scope), by approval."""

    __tablename__ = "account_offices"
    __table_args__ = (PrimaryKeyConstraint("address", "office_code"),)

    address: Mapped[str] = mapped_column(String(320))
    office_code: Mapped[str] = mapped_column(String(3))
