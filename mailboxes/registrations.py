"""The store side of mailbox requests: file a request with its acknowledgement, list them,
and commit the office's decision (the account, its office scope, the letter) at once.

Every method is one short transaction, one unit of work (``Database.run``) with statements
built once here; the letters are composed by the caller beforehand.
A request's number is chosen before its acknowledgement is written (``next_number``) and
taken when the request is filed: a number another process took meanwhile raises
``NumberTaken`` and the caller composes again with the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mailboxes.records import Recipient
from mailboxes.schema import (
    AccountOfficeRow,
    AccountRow,
    MailboxMessageRow,
    MailboxRequestRow,
    MessageContentRow,
    RelayRow,
    Role,
    UTCDateTime,
)
from mailboxes.store import AccountExists, Change, Store, relay_entry, reserve_uids

__all__ = [
    "AlreadyDecided",
    "Letter",
    "MailboxRequest",
    "MailboxRequests",
    "NumberTaken",
    "RequestState",
]


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class NumberTaken(Exception):
    """Another process filed a request under that number first: compose again."""


class AlreadyDecided(Exception):
    """The request is not pending (any more), or does not exist."""


@dataclass(frozen=True, slots=True)
class Letter:
    """A mail the node files for someone: ``recipient`` says where (a mailbox here, or a
    peer's relay queue), ``raw`` is the whole message."""

    recipient: Recipient
    raw: bytes


@dataclass(frozen=True, slots=True)
class MailboxRequest:
    number: int
    requester: str
    client: str
    mailbox: str
    agent_code: str
    agency: str
    ruc: str
    contact: str
    offices: tuple[str, ...]
    state: RequestState
    received_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


def _request(row: Row[Any]) -> MailboxRequest:
    return MailboxRequest(
        number=row.id,
        requester=row.requester,
        client=row.client,
        mailbox=row.mailbox,
        agent_code=row.agent_code,
        agency=row.agency,
        ruc=row.ruc,
        contact=row.contact,
        offices=tuple(row.offices.split()),
        state=RequestState(row.state),
        received_at=row.received_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
    )


_requests = MailboxRequestRow.__table__

_HIGHEST = select(func.max(MailboxRequestRow.id))

_REQUEST = select(_requests).where(MailboxRequestRow.id == bindparam("number"))

_LISTING = select(_requests).order_by(MailboxRequestRow.id)

_PENDING = _LISTING.where(MailboxRequestRow.state == RequestState.PENDING.value)

_HOLDER = select(AccountRow.address).where(AccountRow.agent_code == bindparam("agent_code"))

_SCOPE = select(AccountOfficeRow.office_code).where(
    AccountOfficeRow.address == bindparam("address")
)

_FILE_REQUEST = insert(MailboxRequestRow)

_DECIDE = (
    update(MailboxRequestRow)
    .where(
        MailboxRequestRow.id == bindparam("number"),
        MailboxRequestRow.state == RequestState.PENDING.value,
    )
    # Not the columns' own names: an UPDATE keeps those for the values it sets.
    .values(
        state=bindparam("new_state"),
        decided_by=bindparam("decider"),
        decided_at=bindparam("decision_time", type_=UTCDateTime),
        reason=bindparam("why"),
    )
    .returning(*_requests.c)
)

_ACCOUNT = insert(AccountRow)

_SCOPE_OFFICE = insert(AccountOfficeRow)

_CONTENT = insert(MessageContentRow).returning(MessageContentRow.id)

_RELAY = insert(RelayRow)

_FILED = insert(MailboxMessageRow)


class MailboxRequests:
    def __init__(self, store: Store) -> None:
        self._store = store

    # region reading

    async def next_number(self) -> int:
        def read(connection: Connection) -> int:
            return int(connection.scalar(_HIGHEST) or 0) + 1

        return await self._store.database.run(read)

    async def get(self, number: int) -> MailboxRequest | None:
        def read(connection: Connection) -> MailboxRequest | None:
            row = connection.execute(_REQUEST, {"number": number}).first()
            return None if row is None else _request(row)

        return await self._store.database.run(read)

    async def listing(self, *, pending_only: bool = False) -> list[MailboxRequest]:
        query = _PENDING if pending_only else _LISTING

        def read(connection: Connection) -> list[MailboxRequest]:
            return [_request(row) for row in connection.execute(query)]

        return await self._store.database.run(read)

    async def agent_code_holder(self, agent_code: str) -> str | None:
        """The address of the account that holds ``agent_code``, if any."""

        def read(connection: Connection) -> str | None:
            address: str | None = connection.scalar(_HOLDER, {"agent_code": agent_code})
            return address

        return await self._store.database.run(read)

    async def office_scope(self, address: str) -> frozenset[str]:
        """The offices an approved agent mailbox was granted for (empty: none recorded)."""

        def read(connection: Connection) -> frozenset[str]:
            return frozenset(connection.scalars(_SCOPE, {"address": address}))

        return await self._store.database.run(read)

    # endregion
    # region writing

    async def file(
        self,
        request: MailboxRequest,
        *,
        original: Recipient,
        raw: bytes,
        answer: Letter | None,
    ) -> None:
        """File the request mail (``raw``, for ``original``), its row and its answer.

        Raises ``NumberTaken`` when ``request.number`` is no longer free.
        """
        now = self._store.clock.now()
        row = {
            "id": request.number,
            "requester": request.requester,
            "client": request.client,
            "mailbox": request.mailbox,
            "agent_code": request.agent_code,
            "agency": request.agency,
            "ruc": request.ruc,
            "contact": request.contact,
            "offices": " ".join(request.offices),
            "state": request.state.value,
            "received_at": request.received_at,
        }

        def write(connection: Connection) -> Change:
            connection.execute(_FILE_REQUEST, row)
            return _file_mails(connection, now, [Letter(original, raw), answer])

        try:
            change = await self._store.database.run(write, write=True)
        except IntegrityError as exc:
            raise NumberTaken(request.number) from exc
        self._store.notify(change)

    async def file_unfit(self, *, original: Recipient, raw: bytes, answer: Letter | None) -> None:
        """File a mail that is not a request, and the answer that says what is missing."""
        now = self._store.clock.now()
        letters = [Letter(original, raw), answer]

        def write(connection: Connection) -> Change:
            return _file_mails(connection, now, letters)

        change = await self._store.database.run(write, write=True)
        self._store.notify(change)

    async def approve(
        self,
        number: int,
        *,
        password_hash: str,
        by: str,
        letter: Letter,
    ) -> MailboxRequest:
        """Create the agent's account with its office scope, record the decision, file the
        letter, in one transaction. Raises ``AlreadyDecided`` or ``AccountExists``."""
        now = self._store.clock.now()

        def write(connection: Connection) -> tuple[MailboxRequest, Change]:
            row = _decide(connection, number, RequestState.APPROVED, by, now, None)
            connection.execute(
                _ACCOUNT,
                {
                    "address": row.mailbox,
                    "role": Role.AGENT.value,
                    "agent_code": row.agent_code,
                    "office_code": None,
                    "password_hash": password_hash,
                    "apop_secret": None,
                    "created_at": now,
                },
            )
            if row.offices:
                connection.execute(
                    _SCOPE_OFFICE,
                    [{"address": row.mailbox, "office_code": c} for c in row.offices.split()],
                )
            return _request(row), _file_mails(connection, now, [letter])

        try:
            decided, change = await self._store.database.run(write, write=True)
        except IntegrityError as exc:
            raise AccountExists(f"{number}: the address or the agent code is taken") from exc
        self._store.notify(change)
        return decided

    async def reject(self, number: int, *, reason: str, by: str, letter: Letter) -> MailboxRequest:
        """Record the rejection and file the letter giving its reason."""
        now = self._store.clock.now()

        def write(connection: Connection) -> tuple[MailboxRequest, Change]:
            row = _decide(connection, number, RequestState.REJECTED, by, now, reason)
            return _request(row), _file_mails(connection, now, [letter])

        decided, change = await self._store.database.run(write, write=True)
        self._store.notify(change)
        return decided

    # endregion


def _decide(
    connection: Connection,
    number: int,
    state: RequestState,
    by: str,
    now: datetime,
    reason: str | None,
) -> Row[Any]:
    """Inside the caller's transaction: decide a pending request; its row as decided."""
    row = connection.execute(
        _DECIDE,
        {
            "number": number,
            "new_state": state.value,
            "decider": by,
            "decision_time": now,
            "why": reason,
        },
    ).first()
    if row is None:
        raise AlreadyDecided(number)
    return row


def _file_mails(connection: Connection, now: datetime, letters: Sequence[Letter | None]) -> Change:
    """Inside the caller's transaction: file each letter, or queue it for its peer."""
    touched: set[tuple[str, str]] = set()
    relayed = False
    for letter in letters:
        if letter is None:
            continue
        target = letter.recipient
        content_id = connection.execute(
            _CONTENT, {"raw": letter.raw, "size": len(letter.raw), "created_at": now}
        ).scalar_one()
        if target.relay_to is not None:
            connection.execute(
                _RELAY, relay_entry(content_id, "", target.address, target.relay_to, now)
            )
            relayed = True
            continue
        mailbox_id, reserved = reserve_uids(connection, target.address, target.folder, 1, now)
        connection.execute(
            _FILED,
            {
                "mailbox_id": mailbox_id,
                "uid": reserved.first_uid,
                "content_id": content_id,
                "internal_date": now,
                "flags": "",
                "modseq": reserved.modseq,
            },
        )
        touched.add((target.address, target.folder))
    return Change(frozenset(touched), relayed=relayed)
