"""The store side of mailbox requests: file a request with its acknowledgement, list them,
and commit the office's decision (the account, its office scope, the letter) at once.

Every method is one short transaction; the letters are composed by the caller beforehand.
A request's number is chosen before its acknowledgement is written (``next_number``) and
taken when the request is filed: a number another process took meanwhile raises
``NumberTaken`` and the caller composes again with the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailboxes.records import Recipient
from mailboxes.schema import (
    AccountOfficeRow,
    AccountRow,
    MailboxMessageRow,
    MailboxRequestRow,
    MessageContentRow,
    RelayRow,
    Role,
)
from mailboxes.store import AccountExists, Change, Store, relay_entry

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


def _request(row: MailboxRequestRow) -> MailboxRequest:
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


class MailboxRequests:
    def __init__(self, store: Store) -> None:
        self._store = store

    # region reading

    async def next_number(self) -> int:
        async with self._store.database.read_session() as session:
            highest = await session.scalar(select(func.max(MailboxRequestRow.id)))
        return int(highest or 0) + 1

    async def get(self, number: int) -> MailboxRequest | None:
        async with self._store.database.read_session() as session:
            row = await session.get(MailboxRequestRow, number)
            return None if row is None else _request(row)

    async def listing(self, *, pending_only: bool = False) -> list[MailboxRequest]:
        query = select(MailboxRequestRow).order_by(MailboxRequestRow.id)
        if pending_only:
            query = query.where(MailboxRequestRow.state == RequestState.PENDING.value)
        async with self._store.database.read_session() as session:
            return [_request(row) for row in await session.scalars(query)]

    async def agent_code_holder(self, agent_code: str) -> str | None:
        """The address of the account that holds ``agent_code``, if any."""
        async with self._store.database.read_session() as session:
            address: str | None = await session.scalar(
                select(AccountRow.address).where(AccountRow.agent_code == agent_code)
            )
            return address

    async def office_scope(self, address: str) -> frozenset[str]:
        """The offices an approved agent mailbox was granted for (empty: none recorded)."""
        async with self._store.database.read_session() as session:
            codes = await session.scalars(
                select(AccountOfficeRow.office_code).where(AccountOfficeRow.address == address)
            )
            return frozenset(codes)

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
        try:
            async with self._store.database.write_session() as session, session.begin():
                change = await self._file_mails(session, now, [Letter(original, raw), answer])
                session.add(
                    MailboxRequestRow(
                        id=request.number,
                        requester=request.requester,
                        client=request.client,
                        mailbox=request.mailbox,
                        agent_code=request.agent_code,
                        agency=request.agency,
                        ruc=request.ruc,
                        contact=request.contact,
                        offices=" ".join(request.offices),
                        state=request.state.value,
                        received_at=request.received_at,
                    )
                )
        except IntegrityError as exc:
            raise NumberTaken(request.number) from exc
        self._store.notify(change)

    async def file_unfit(self, *, original: Recipient, raw: bytes, answer: Letter | None) -> None:
        """File a mail that is not a request, and the answer that says what is missing."""
        now = self._store.clock.now()
        async with self._store.database.write_session() as session, session.begin():
            change = await self._file_mails(session, now, [Letter(original, raw), answer])
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
        try:
            async with self._store.database.write_session() as session, session.begin():
                row = await self._decide(session, number, RequestState.APPROVED, by, now, None)
                session.add(
                    AccountRow(
                        address=row.mailbox,
                        role=Role.AGENT.value,
                        agent_code=row.agent_code,
                        office_code=None,
                        password_hash=password_hash,
                        apop_secret=None,
                        created_at=now,
                    )
                )
                await session.flush()
                if row.offices:
                    await session.execute(
                        insert(AccountOfficeRow),
                        [{"address": row.mailbox, "office_code": c} for c in row.offices.split()],
                    )
                change = await self._file_mails(session, now, [letter])
                decided = _request(row)
        except IntegrityError as exc:
            raise AccountExists(f"{number}: the address or the agent code is taken") from exc
        self._store.notify(change)
        return decided

    async def reject(self, number: int, *, reason: str, by: str, letter: Letter) -> MailboxRequest:
        """Record the rejection and file the letter giving its reason."""
        now = self._store.clock.now()
        async with self._store.database.write_session() as session, session.begin():
            row = await self._decide(session, number, RequestState.REJECTED, by, now, reason)
            change = await self._file_mails(session, now, [letter])
            decided = _request(row)
        self._store.notify(change)
        return decided

    @staticmethod
    async def _decide(
        session: AsyncSession,
        number: int,
        state: RequestState,
        by: str,
        now: datetime,
        reason: str | None,
    ) -> MailboxRequestRow:
        decided = await session.execute(
            update(MailboxRequestRow)
            .where(
                MailboxRequestRow.id == number,
                MailboxRequestRow.state == RequestState.PENDING.value,
            )
            .values(state=state.value, decided_by=by, decided_at=now, reason=reason)
        )
        if getattr(decided, "rowcount", 0) != 1:
            raise AlreadyDecided(number)
        row = await session.get(MailboxRequestRow, number, populate_existing=True)
        assert row is not None
        return row

    async def _file_mails(
        self, session: AsyncSession, now: datetime, letters: list[Letter | None]
    ) -> Change:
        """Inside the caller's transaction: file each letter, or queue it for its peer."""
        touched: set[tuple[str, str]] = set()
        relayed = False
        for letter in letters:
            if letter is None:
                continue
            target = letter.recipient
            content_id = await session.scalar(
                insert(MessageContentRow)
                .values(raw=letter.raw, size=len(letter.raw), created_at=now)
                .returning(MessageContentRow.id)
            )
            assert content_id is not None
            if target.relay_to is not None:
                await session.execute(
                    insert(RelayRow),
                    [relay_entry(content_id, "", target.address, target.relay_to, now)],
                )
                relayed = True
                continue
            mailbox_id, reserved = await self._store.allocate_uids(
                session, target.address, target.folder, 1, now
            )
            await session.execute(
                insert(MailboxMessageRow).values(
                    mailbox_id=mailbox_id,
                    uid=reserved.first_uid,
                    content_id=content_id,
                    internal_date=now,
                    flags="",
                    modseq=reserved.modseq,
                )
            )
            touched.add((target.address, target.folder))
        return Change(frozenset(touched), relayed=relayed)

    # endregion
