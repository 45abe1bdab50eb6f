"""Plain values the store hands out: callers never hold ORM rows or sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailboxes.schema import Role

__all__ = ["Account", "Change", "IntakeJob", "MailboxTail", "MessageInfo", "Recipient"]


@dataclass(frozen=True, slots=True)
class Account:
    address: str
    role: Role
    agent_code: str | None
    office_code: str | None


@dataclass(frozen=True, slots=True)
class MessageInfo:
    uid: int
    uid_validity: int
    size: int
    internal_date: datetime
    flags: frozenset[str]


@dataclass(frozen=True, slots=True)
class MailboxTail:
    """The newest messages of a mailbox, and how many it holds in all."""

    total: int
    messages: list[MessageInfo]
    """Ascending UID, the last of the mailbox last."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where one copy of a delivered message goes.

    ``intake_office`` set means the address is that office's declaration intake: the copy is
    filed in ``folder`` and an intake job is queued for the pipeline in the same transaction.
    ``relay_to`` set means another node hosts the address: the copy is queued, in the same
    transaction, for relay to that node instead of being filed here.
    """

    address: str
    folder: str = "INBOX"
    intake_office: str | None = None
    relay_to: str | None = None


@dataclass(frozen=True, slots=True)
class IntakeJob:
    id: int
    office_code: str
    sender: str
    recipient: str
    state: str
    attempts: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """What a committed transaction changed: the (owner, folder) pairs that gained or lost
    messages, new job ids, and whether it queued messages for relay to another node.

    Here rather than in ``mailboxes.store``: the store sends it to other processes through
    ``mailboxes.notify``, which must not import the store back.
    """

    mailboxes: frozenset[tuple[str, str]]
    job_ids: tuple[int, ...] = ()
    relayed: bool = False
