"""The store API: every server and the pipeline go through this one object.

Callers get plain values (``mailboxes.records``), never ORM rows, and each method is one
transaction, most of them one ``Database.run``: a function of a connection that runs whole in
the database thread, its statements built once at import (SQLAlchemy Core, compiled once
per connection and cached). Deliveries are group-committed: concurrent ``deliver`` calls
that arrive while a commit is being written are written together in the next one, so the
cost of a durable commit (an fsync) is shared without delaying a lone delivery.
"""

from __future__ import annotations

import asyncio
import logging
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Row, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import ReturningInsert

from config.clock import Clock
from mailboxes import intake_statement, ledgers, maildrops, modseq
from mailboxes.addresses import normalize_address
from mailboxes.database import Database
from mailboxes.errors import storage_full
from mailboxes.fixed_statements import Insert, scalar
from mailboxes.line_ends import canonical_line_ends
from mailboxes.maildrops import Listing, Maildrops
from mailboxes.migrate import upgrade
from mailboxes.modseq import Reserved
from mailboxes.passwords import PasswordHasher
from mailboxes.records import Account, Change, IntakeJob, MailboxTail, MessageInfo, Recipient
from mailboxes.routing import LOCAL_ONLY, RoutingSource
from mailboxes.schema import (
    AccountRow,
    DeclarationRow,
    IntakeJobRow,
    JobState,
    MailboxMessageRow,
    MailboxRow,
    MessageContentRow,
    RelayRow,
    Role,
    UidValidityFloorRow,
)
from mailboxes.sender_turns import SenderTurns

if TYPE_CHECKING:
    from sqlalchemy import Select

    from mailboxes.notify import ChangeFeed

__all__ = [
    "AccountExists",
    "AlsoWrite",
    "Change",
    "Listing",
    "StorageFull",
    "Store",
    "relay_entry",
]

log = logging.getLogger(__name__)

MAX_BATCH = 256
MIB: Final = 1024 * 1024


class AccountExists(ValueError):
    """An account with that address (or agent code) is already registered."""


class StorageFull(Exception):
    """The database's disk (or its size limit) is full, or would leave less than the store's
    reserve free: nothing was written; try later."""


AlsoWrite = Callable[[Connection], None]
"""More statements for a delivery's own transaction (e.g. noting where it was picked up);
it runs in the database thread with the rest of the delivery."""


@dataclass(slots=True)
class _Delivery:
    sender: str
    recipients: tuple[Recipient, ...]
    raw: bytes
    done: asyncio.Future[list[int]] = field(repr=False)
    also: AlsoWrite | None = None
    turns: tuple[int, ...] = ()
    """The queue turns of its intake copies, in their order (``mailboxes.sender_turns``)."""


def _in_one_statement(delivery: _Delivery) -> bool:
    """Whether ``intake_statement`` can write it: nothing relayed, no statements of its own."""
    return delivery.also is None and all(t.relay_to is None for t in delivery.recipients)


_AccountFields = Row[str, str, str | None, str | None, str, str | None]
"""Address, role, agent code, office code, password hash, APOP secret (``_ACCOUNT``)."""


def _account(row: _AccountFields) -> Account:
    return Account(
        address=row.address,
        role=Role(row.role),
        agent_code=row.agent_code,
        office_code=row.office_code,
    )


def relay_entry(
    content_id: int, sender: str, recipient: str, node: str, now: datetime
) -> dict[str, object]:
    """A ``relay_queue`` row for one recipient, due at once."""
    return {
        "content_id": content_id,
        "sender": sender,
        "recipient": recipient,
        "node": node,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


_ACCOUNT = select(
    AccountRow.address,
    AccountRow.role,
    AccountRow.agent_code,
    AccountRow.office_code,
    AccountRow.password_hash,
    AccountRow.apop_secret,
).where(AccountRow.address == bindparam("address"))

_ACCOUNTS = select(*_ACCOUNT.selected_columns).order_by(AccountRow.address)

# The domains of the accounts' addresses (normalised: one ``@``, lower case), chosen in the
# query; each backend names "what follows the @" its own way.
_ACCOUNT_DOMAINS_SQLITE = select(
    func.substr(AccountRow.address, func.instr(AccountRow.address, "@") + 1)
).distinct()
_ACCOUNT_DOMAINS_POSTGRESQL = select(func.split_part(AccountRow.address, "@", 2)).distinct()

JOB_COLUMNS = (
    IntakeJobRow.id,
    IntakeJobRow.office_code,
    IntakeJobRow.sender,
    IntakeJobRow.recipient,
    IntakeJobRow.state,
    IntakeJobRow.attempts,
    IntakeJobRow.received_at,
)
"""The columns of an ``IntakeJob`` (``intake_job``)."""


_PENDING_TURNS = (
    select(IntakeJobRow.sender, func.min(IntakeJobRow.turn), func.max(IntakeJobRow.turn))
    .where(IntakeJobRow.state == JobState.PENDING.value)
    .group_by(IntakeJobRow.sender)
)
"""Each sender with pending jobs, its lowest and highest turn: the queue's turns as a
restarted node resumes them (``SenderTurns.resume``)."""


def intake_job(row: Any) -> IntakeJob:
    """A job from a row with ``JOB_COLUMNS`` (others may follow)."""
    return IntakeJob(
        id=row.id,
        office_code=row.office_code,
        sender=row.sender,
        recipient=row.recipient,
        state=row.state,
        attempts=row.attempts,
        received_at=row.received_at,
    )


_PENDING_JOBS = (
    select(*JOB_COLUMNS)
    .where(IntakeJobRow.state == JobState.PENDING.value)
    .order_by(IntakeJobRow.id)
)

_MAILBOX = select(MailboxRow.id, MailboxRow.uid_validity).where(
    MailboxRow.owner == bindparam("owner"), MailboxRow.name == bindparam("folder")
)

_READ_MESSAGE = (
    select(MessageContentRow.raw)
    .join(MailboxMessageRow, MailboxMessageRow.content_id == MessageContentRow.id)
    .join(MailboxRow, MailboxRow.id == MailboxMessageRow.mailbox_id)
    .where(
        MailboxRow.owner == bindparam("owner"),
        MailboxRow.name == bindparam("folder"),
        MailboxMessageRow.uid == bindparam("uid"),
    )
)


def _flags(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LISTED: Final = (
    select(
        MailboxMessageRow.uid,
        MailboxRow.uid_validity,
        MessageContentRow.size,
        MailboxMessageRow.internal_date,
        MailboxMessageRow.flags,
    )
    .join(MailboxRow, MailboxRow.id == MailboxMessageRow.mailbox_id)
    .join(MessageContentRow, MessageContentRow.id == MailboxMessageRow.content_id)
)
"""What a listing shows of each message; ``list_messages`` and ``latest_messages`` add which."""


def _message_info(row: Row[int, int, int, datetime, str]) -> MessageInfo:
    return MessageInfo(
        uid=row.uid,
        uid_validity=row.uid_validity,
        size=row.size,
        internal_date=row.internal_date,
        flags=_flags(row.flags),
    )


class Store:
    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        hasher: PasswordHasher,
        routing: RoutingSource = LOCAL_ONLY,
        reserve: int = 0,
        turns: SenderTurns | None = None,
    ) -> None:
        self.database = database
        self.reserve: Final = reserve
        """Bytes of SQLite's disk that deliveries leave free (Postfix's ``queue_minfree``):
        the room the answers to what was taken are written in. Not checked on a server."""
        self.routing: Final = routing
        """Where addresses live and which offices are held (the node's router, whose
        snapshot an office move replaces): the pipeline relays a filing for an address a
        peer hosts, and the queue holds a held office's jobs."""
        self.clock = clock
        self.hasher = hasher
        self._pending: list[_Delivery] = []
        self._flusher: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[Change], None]] = []
        self._feed: ChangeFeed | None = None
        self._maildrops = Maildrops()
        self.turns: Final = SenderTurns() if turns is None else turns
        """The queue's turns (``mailboxes.sender_turns``): taken by deliveries to an intake, moved
        on by the pipeline's claims (``JobQueue.claim``)."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock,
        hasher: PasswordHasher,
        migrate: bool = True,
        routing: RoutingSource = LOCAL_ONLY,
        reserve: int = 0,
    ) -> Store:
        database = Database(url)
        if migrate:
            await upgrade(database)
        pending = await database.run(
            lambda connection: [
                (sender, low, high) for sender, low, high in connection.execute(_PENDING_TURNS)
            ]
        )
        store = cls(
            database,
            clock=clock,
            hasher=hasher,
            routing=routing,
            reserve=reserve,
            turns=SenderTurns.resume(pending),
        )
        if not database.is_sqlite:  # other processes may share the database: hear them
            from mailboxes.notify import ChangeFeed  # asyncpg is only needed here

            feed = ChangeFeed(url, store._notify_local)
            await feed.start()
            store._feed = feed
        return store

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self._feed is not None:
            await self._feed.close()
            self._feed = None
        await self.database.dispose()

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener`` after each commit that adds messages or jobs; returns unsubscribe.

        On PostgreSQL this includes the commits of other processes on the same database.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def notify(self, change: Change) -> None:
        """Tell the listeners (and, on PostgreSQL, other processes) what a commit changed.

        For the modules that commit their own transactions on the store (jobs, folders,
        relay): call it after the commit, never inside the transaction."""
        self._notify_local(change)
        if self._feed is not None:
            self._feed.publish(change)

    def _notify_local(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("store listener failed")

    # region accounts

    async def create_account(
        self,
        address: str,
        password: str,
        *,
        role: Role | str,
        agent_code: str | None = None,
        office_code: str | None = None,
        apop_secret: str | None = None,
    ) -> Account:
        account = Account(
            address=normalize_address(address),
            role=Role(role),
            agent_code=agent_code,
            office_code=office_code,
        )
        values = {
            "address": account.address,
            "role": account.role.value,
            "agent_code": agent_code,
            "office_code": office_code,
            "password_hash": await self.hasher.hash_async(password),
            "apop_secret": apop_secret,
            "created_at": self.clock.now(),
        }
        try:
            await self.database.run(lambda c: c.execute(insert(AccountRow), values), write=True)
        except IntegrityError as exc:
            raise AccountExists(
                f"account {account.address} or agent code {agent_code} exists"
            ) from exc
        return account

    async def get_account(self, address: str) -> Account | None:
        row = await self._account_row(normalize_address(address))
        return None if row is None else _account(row)

    async def list_accounts(
        self, *, roles: Collection[Role] = (), office_code: str | None = None
    ) -> list[Account]:
        """Every account, in address order; only those of ``roles`` (and of the office
        ``office_code``) when given. Chosen in the query: an office's console page or IMAP
        login, which want its departments, once read every agent's account (20 000 of them:
        about 0.1 s holding the interpreter lock, every time)."""
        query = _ACCOUNTS
        if roles:
            query = query.where(AccountRow.role.in_([Role(role).value for role in roles]))
        if office_code is not None:
            query = query.where(AccountRow.office_code == office_code)

        def read(connection: Connection) -> list[Account]:
            return [_account(row) for row in connection.execute(query)]

        return await self.database.run(read)

    async def account_domains(self) -> frozenset[str]:
        """The domains the accounts' addresses are at (the customs domain, the agencies').
        Chosen in the query: reading every account to learn them took 82-128 ms of the
        database thread, holding the interpreter lock, with 20 000 agents; this 3 ms."""
        query = _ACCOUNT_DOMAINS_SQLITE if self.database.is_sqlite else _ACCOUNT_DOMAINS_POSTGRESQL

        def read(connection: Connection) -> frozenset[str]:
            return frozenset(connection.scalars(query))

        return await self.database.run(read)

    async def credentials(self, address: str) -> tuple[Account, str] | None:
        """The account and its stored password hash; ``None`` if there is no such account.

        Logins are checked by ``gateway.logins`` (penalty, cache, threads of their own)."""
        try:
            row = await self._account_row(normalize_address(address))
        except ValueError:
            return None
        return None if row is None else (_account(row), row.password_hash)

    async def set_password(self, address: str, password: str) -> bool:
        """Replace an account's password; ``False`` if there is no such account.

        Logins remembered with the old password stop working: they are checked against the
        stored hash, which changes here.
        """
        change = (
            update(AccountRow)
            .where(AccountRow.address == normalize_address(address))
            .values(password_hash=await self.hasher.hash_async(password))
            .returning(AccountRow.address)
        )
        return await self.database.run(lambda c: c.execute(change).first() is not None, write=True)

    async def apop_secret(self, address: str) -> str | None:
        """The APOP shared secret, for the accounts that opted in (RFC 1939 §7 needs it)."""
        try:
            row = await self._account_row(normalize_address(address))
        except ValueError:
            return None
        return None if row is None else row.apop_secret

    async def _account_row(self, address: str) -> _AccountFields | None:
        def read(connection: Connection) -> _AccountFields | None:
            return connection.execute(_ACCOUNT, {"address": address}).one_or_none()

        return await self.database.run(read)

    # endregion
    # region delivery

    def check_room(self, size: int) -> None:
        """Raise ``StorageFull`` when writing ``size`` more bytes of a client's mail would
        leave less than ``reserve`` free on SQLite's disk (one statvfs: microseconds)."""
        if not self.reserve:
            return
        free = self.database.free_bytes()
        if free is not None and free - size < self.reserve:
            raise StorageFull(
                f"{free // MIB:,} MiB free on its disk, {self.reserve // MIB:,} MiB kept "
                "for the answers"
            )

    async def deliver(
        self,
        sender: str,
        recipients: Sequence[str | Recipient],
        raw: bytes,
        *,
        also: AlsoWrite | None = None,
        own: bool = False,
        line_ends_canonical: bool = False,
    ) -> list[int]:
        """Store ``raw`` once for all recipients; return the intake job ids it queued.

        Returns only after the transaction is committed. ``also`` runs in that transaction:
        if it fails, the delivery fails too (and its batch neighbours are written alone).
        Raises ``StorageFull`` when the disk is full, or (unless ``own``: the gateway's own
        notice, written in the room kept for answers) would keep less than ``reserve`` free
        once ``raw`` is written. ``line_ends_canonical``: the caller has passed ``raw``
        through ``canonical_line_ends`` already (off the event loop, for a large mail: 24 ms
        for 20 MB), so the store does not read it again here.
        """
        targets = tuple(
            Recipient(normalize_address(r)) if isinstance(r, str) else r for r in recipients
        )
        if not targets:
            raise ValueError("a delivery needs at least one recipient")
        if not own:
            self.check_room(len(raw))
        loop = asyncio.get_running_loop()
        if not line_ends_canonical:
            raw = canonical_line_ends(raw)
        # Taken here, on the event loop, where the claims tell the turns what they took. A
        # batch that fails has taken its senders' turns all the same: they come a little later.
        turns = tuple(
            self.turns.take(sender, len(raw))
            for t in targets
            if t.intake_office is not None and t.relay_to is None
        )
        request = _Delivery(sender, targets, raw, loop.create_future(), also, turns)
        self._pending.append(request)
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        try:
            # A caller cancelled meanwhile cancels ``done``, not the delivery: it is written
            # with its batch all the same, and its result dropped.
            return await request.done
        except Exception as exc:
            if storage_full(exc):
                raise StorageFull(str(exc).partition("\n")[0]) from exc
            raise

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    results = await self._write_batch(batch)
                except Exception:
                    if len(batch) == 1:
                        raise
                    # One bad delivery must not fail its neighbours: write them one by one.
                    for request in batch:
                        await self._write_alone(request)
                    continue
                for request, job_ids in zip(batch, results, strict=True):
                    if not request.done.done():
                        request.done.set_result(job_ids)
        except Exception as exc:
            for request in batch:
                if not request.done.done():
                    request.done.set_exception(exc)
        finally:
            self._flusher = None
            if self._pending:  # arrived after the loop test; never leave them stranded
                self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _write_alone(self, request: _Delivery) -> None:
        try:
            (job_ids,) = await self._write_batch([request])
        except Exception as exc:
            if not request.done.done():
                request.done.set_exception(exc)
        else:
            if not request.done.done():
                request.done.set_result(job_ids)

    async def _write_batch(self, batch: Sequence[_Delivery]) -> list[list[int]]:
        """Write a batch in one transaction with a handful of bulk statements, all of it one
        hand-off to the database thread (``_write_rows``); then tell the listeners.

        On PostgreSQL a batch filed in existing mailboxes is written with one statement
        instead (``intake_statement``): one round trip from the event loop, not six.
        """
        now = self.clock.now()
        if not self.database.is_sqlite and all(_in_one_statement(r) for r in batch):
            delivered = [(r.sender, r.raw, r.recipients, r.turns) for r in batch]
            try:
                results = await self.database.run(
                    partial(intake_statement.write, batch=delivered, now=now),
                    write=True,
                    one_statement=True,
                )
            except IntegrityError:  # a mailbox's first delivery: the transaction creates it
                pass
            else:
                self.notify(
                    Change(
                        frozenset((t.address, t.folder) for r in batch for t in r.recipients),
                        tuple(job_id for jobs in results for job_id in jobs),
                    )
                )
                return results
        change, results = await self.database.run(partial(self._write_rows, batch, now), write=True)
        self.notify(change)
        return results

    def _write_rows(
        self, batch: Sequence[_Delivery], now: datetime, connection: Connection
    ) -> tuple[Change, list[list[int]]]:
        """A statement per message and recipient would cost more than SQLite itself: each
        table gets one multi-row insert."""
        content_ids = self.insert_numbered(
            connection,
            MessageContentRow,
            [{"raw": r.raw, "size": len(r.raw), "created_at": now} for r in batch],
        )
        wanted = Counter(
            (t.address, t.folder) for r in batch for t in r.recipients if t.relay_to is None
        )
        next_uid: dict[tuple[str, str], tuple[int, int]] = {}
        modseq_of: dict[int, int] = {}
        for (owner, folder), count in wanted.items():
            mailbox_id, reserved = reserve_uids(connection, owner, folder, count, now)
            next_uid[owner, folder] = (mailbox_id, reserved.first_uid)
            modseq_of[mailbox_id] = reserved.modseq
        entries: list[tuple[object, ...]] = []
        jobs: list[dict[str, object]] = []
        job_content: list[int] = []
        relays: list[dict[str, object]] = []
        for request, content_id in zip(batch, content_ids, strict=True):
            next_turn = iter(request.turns)
            for target in request.recipients:
                if target.relay_to is not None:
                    relays.append(
                        relay_entry(
                            content_id, request.sender, target.address, target.relay_to, now
                        )
                    )
                    continue
                mailbox_id, uid = next_uid[target.address, target.folder]
                next_uid[target.address, target.folder] = (mailbox_id, uid + 1)
                # in _INSERT_ENTRIES' columns
                entries.append((mailbox_id, uid, content_id, now, "", modseq_of[mailbox_id]))
                if target.intake_office is not None:
                    job_content.append(content_id)
                    jobs.append(
                        {
                            "content_id": content_id,
                            "office_code": target.intake_office,
                            "sender": request.sender,
                            "recipient": target.address,
                            "state": JobState.PENDING.value,
                            "attempts": 0,
                            "received_at": now,
                            "turn": next(next_turn),
                        }
                    )
        _INSERT_ENTRIES.run(connection, entries)
        if relays:
            connection.execute(_INSERT_RELAYS, relays)
        for request in batch:
            if request.also is not None:
                request.also(connection)
        job_ids: list[int] = []
        if jobs:
            job_ids = self.insert_numbered(connection, IntakeJobRow, jobs)
        jobs_of: dict[int, list[int]] = {content_id: [] for content_id in content_ids}
        for content_id, job_id in zip(job_content, job_ids, strict=True):
            jobs_of[content_id].append(job_id)
        change = Change(frozenset(wanted), tuple(job_ids), relayed=bool(relays))
        return change, [jobs_of[content_id] for content_id in content_ids]

    def insert_numbered(
        self,
        connection: Connection,
        table: type[MessageContentRow] | type[IntakeJobRow],
        rows: list[dict[str, object]],
    ) -> list[int]:
        """Insert rows with an integer ``id`` key; their ids, in the order of ``rows``.

        On SQLite, ``RETURNING`` in parameter order makes SQLAlchemy send one statement per
        row (SQLite does not promise the order of a multi-row insert's ``RETURNING``). Its
        single writer holds the database for the whole transaction, so the ids are taken
        here and the rows go in one ``executemany``. PostgreSQL batches the ``RETURNING``.
        """
        if not self.database.is_sqlite:
            return list(connection.scalars(_returning_insert(table), rows))
        highest = scalar(connection, _highest_id(table)) or 0
        ids = list(range(highest + 1, highest + 1 + len(rows)))
        statement = _numbered_insert(table, tuple(rows[0]))
        columns = statement.columns[1:]
        statement.run(
            connection,
            [
                (id_, *(row[column] for column in columns))
                for row, id_ in zip(rows, ids, strict=True)
            ],
        )
        return ids

    # endregion
    # region reading

    async def list_folders(self, address: str) -> list[str]:
        owner = normalize_address(address)

        def read(connection: Connection) -> list[str]:
            return list(
                connection.scalars(
                    select(MailboxRow.name)
                    .where(MailboxRow.owner == owner)
                    .order_by(MailboxRow.name)
                )
            )

        return await self.database.run(read)

    async def list_messages(
        self, address: str, folder: str = "INBOX", *, after: int = 0, limit: int | None = None
    ) -> list[MessageInfo]:
        """Messages of a mailbox in ascending UID order: those past UID ``after``, at most
        ``limit`` of them (empty if the mailbox does not exist). A page is read through the
        mailbox's UID index, so it costs what it holds, not what the mailbox holds."""
        owner = normalize_address(address)
        statement = _LISTED.where(
            MailboxRow.owner == owner, MailboxRow.name == folder, MailboxMessageRow.uid > after
        ).order_by(MailboxMessageRow.uid)
        if limit is not None:
            statement = statement.limit(limit)

        def read(connection: Connection) -> list[MessageInfo]:
            return [_message_info(row) for row in connection.execute(statement)]

        return await self.database.run(read)

    async def latest_messages(self, address: str, folder: str, count: int) -> MailboxTail:
        """How many messages a mailbox holds and its last ``count`` of them, ascending UID:
        what a page showing the newest mail needs, read without the rest of the mailbox."""
        owner = normalize_address(address)
        newest = (
            _LISTED.where(MailboxRow.owner == owner, MailboxRow.name == folder)
            .order_by(MailboxMessageRow.uid.desc())
            .limit(count)
        )
        total = select(MailboxRow.message_count).where(
            MailboxRow.owner == owner, MailboxRow.name == folder
        )

        def read(connection: Connection) -> MailboxTail:
            rows = list(connection.execute(newest))
            held = connection.scalar(total) or 0
            return MailboxTail(held, [_message_info(row) for row in reversed(rows)])

        return await self.database.run(read)

    async def maildrop(self, address: str, folder: str = "INBOX") -> Listing:
        """UIDs and sizes of a mailbox, ascending UID, for POP3 (empty if it does not exist).

        The listing made last is kept and brought up to date by modseq (``maildrops``);
        a mailbox listed for the first time is read in pages of ``maildrops.PAGE``, each a
        unit of work of its own, just the two columns POP3 needs.
        """
        key = (normalize_address(address), folder)
        kept = self._maildrops.get(key)
        if kept is not None:
            current = await self.database.run(partial(maildrops.catch_up, kept, *key))
            if current is not None:
                self._maildrops.keep(key, current)
                return current.listing()
            self._maildrops.forget(key)
        found = await self.database.run(partial(maildrops.state, *key))
        if found is None:
            return Listing(0, array("q"), array("q"))
        whole = Maildrops.whole(found)
        after = 0
        while True:
            uids, sizes = await self.database.run(partial(maildrops.page, found.mailbox_id, after))
            whole.uids.extend(uids)
            whole.sizes.extend(sizes)
            if len(uids) < maildrops.PAGE:
                break
            after = uids[-1]
        self._maildrops.keep(key, whole)
        return whole.listing()

    async def read_message(self, address: str, folder: str, uid: int) -> bytes:
        """The message's bytes; ``KeyError`` if there is no such message (any more)."""
        parameters = {"owner": normalize_address(address), "folder": folder, "uid": uid}

        def read(connection: Connection) -> bytes | None:
            raw = connection.execute(_READ_MESSAGE, parameters).scalar()
            return None if raw is None else bytes(raw)

        raw = await self.database.run(read)
        if raw is None:
            raise KeyError((address, folder, uid))
        return raw

    async def read_filed(self, mailbox_id: int, uid: int) -> bytes | None:
        """The bytes of the message filed in that mailbox row under ``uid``; ``None`` if it
        is gone (or the mailbox is: a deleted and re-created folder is another row)."""

        def read(connection: Connection) -> bytes | None:
            raw = connection.execute(_READ_FILED, {"mailbox": mailbox_id, "uid": uid}).scalar()
            return None if raw is None else bytes(raw)

        return await self.database.run(read)

    # endregion
    # region removal

    async def expunge(self, address: str, folder: str, uids: Collection[int]) -> None:
        """Remove those messages in one transaction; contents nobody references go too.

        Listeners hear of it, so an IMAP session idling on the mailbox sees a POP3 DELE at once.
        """
        if not uids:
            return
        owner = normalize_address(address)

        def remove(connection: Connection) -> list[int]:
            found = connection.execute(_MAILBOX, {"owner": owner, "folder": folder}).first()
            if found is None:
                return []
            content_ids = modseq.remove(connection, found.id, uids)
            drop_orphans(connection, content_ids)
            return content_ids

        if await self.database.run(remove, write=True):
            self.notify(Change(frozenset({(owner, folder)})))

    # endregion
    # region jobs

    async def pending_jobs(self) -> list[IntakeJob]:
        def read(connection: Connection) -> list[IntakeJob]:
            return [intake_job(row) for row in connection.execute(_PENDING_JOBS)]

        return await self.database.run(read)

    async def job_content(self, job_id: int) -> bytes:
        def read(connection: Connection) -> bytes | None:
            raw = connection.execute(_JOB_CONTENT, {"job": job_id}).scalar()
            return None if raw is None else bytes(raw)

        raw = await self.database.run(read)
        if raw is None:
            raise KeyError(job_id)
        return raw

    async def channel_month(self, key: ledgers.MonthKey) -> ledgers.ChannelMonth | None:
        """An office's channel month of one regime (None before its first number)."""
        return await self.database.run(partial(ledgers.channel_month, key=key))

    async def count_contents(self) -> int:
        def count(connection: Connection) -> int:
            return int(connection.scalar(select(func.count(MessageContentRow.id))) or 0)

        return await self.database.run(count)

    # endregion


_READ_FILED = (
    select(MessageContentRow.raw)
    .join(MailboxMessageRow, MailboxMessageRow.content_id == MessageContentRow.id)
    .where(
        MailboxMessageRow.mailbox_id == bindparam("mailbox"),
        MailboxMessageRow.uid == bindparam("uid"),
    )
)

_JOB_CONTENT = (
    select(MessageContentRow.raw)
    .join(IntakeJobRow, IntakeJobRow.content_id == MessageContentRow.id)
    .where(IntakeJobRow.id == bindparam("job"))
)


def reserve_uids(
    connection: Connection, owner: str, folder: str, count: int, now: datetime
) -> tuple[int, Reserved]:
    """Reserve ``count`` consecutive UIDs for unseen messages (creating the mailbox on first
    delivery), inside the caller's transaction. The mailbox id, the first UID and the
    modseq to stamp."""
    found = modseq.reserve(connection, (owner, folder), count, unseen=count)
    if found is not None:
        return found
    mailbox_id = connection.scalar(
        insert(MailboxRow)
        .values(
            owner=owner,
            name=folder,
            uid_validity=next_uid_validity(connection, now),
            uid_next=count + 1,
            message_count=count,
            unseen_count=count,
            highest_modseq=1,
        )
        .returning(MailboxRow.id)
    )
    assert mailbox_id is not None
    return mailbox_id, Reserved(first_uid=1, modseq=1)


def next_uid_validity(connection: Connection, now: datetime) -> int:
    """The UIDVALIDITY of a mailbox being created, inside the caller's transaction.

    A mailbox deleted and created again (by IMAP, or by a delivery) must not get its old
    UIDVALIDITY back, or clients would trust the UIDs they cached (RFC 3501 §2.3.1.1), and
    the clock may not have moved since: take the larger of the time and one more than any
    UIDVALIDITY given or remembered.
    """
    highest = connection.scalar(select(func.max(MailboxRow.uid_validity)))
    floor = connection.scalar(
        select(UidValidityFloorRow.value).where(UidValidityFloorRow.id == 1).with_for_update()
    )
    validity = max(int(now.timestamp()), max(highest or 0, floor or 0) + 1)
    if floor is None:
        connection.execute(insert(UidValidityFloorRow).values(id=1, value=validity))
    else:
        connection.execute(
            update(UidValidityFloorRow).where(UidValidityFloorRow.id == 1).values(value=validity)
        )
    return validity


def drop_orphans(connection: Connection, content_ids: Sequence[int]) -> None:
    """Inside the caller's transaction: delete those contents nothing references any more.

    A few hundred ids a statement: PostgreSQL takes at most 32 767 parameters in one, and an
    EXPUNGE of a folder of 33 000 messages failed whole when they were named at once.
    """
    for chunk in modseq.chunks(content_ids):
        connection.execute(
            delete(MessageContentRow).where(
                MessageContentRow.id.in_(chunk),
                ~exists().where(MailboxMessageRow.content_id == MessageContentRow.id),
                ~exists().where(IntakeJobRow.content_id == MessageContentRow.id),
                # The reply given to a declaration is re-sent on a duplicate submission.
                ~exists().where(DeclarationRow.reply_content_id == MessageContentRow.id),
                ~exists().where(RelayRow.content_id == MessageContentRow.id),
            )
        )


_INSERT_ENTRIES: Final = Insert(
    MailboxMessageRow, ("mailbox_id", "uid", "content_id", "internal_date", "flags", "modseq")
)
_INSERT_RELAYS: Final = insert(RelayRow)
"""A delivery's statements, built once (as ``_highest_id``, ``_numbered_insert``): every
intake batch runs them."""


@cache
def _highest_id(table: type[MessageContentRow] | type[IntakeJobRow]) -> Select[tuple[int]]:
    """``insert_numbered``'s read of the highest id on SQLite, built once: building it anew
    cost more than running it, in a transaction every delivery and answer takes."""
    return select(func.max(table.id))


@cache
def _returning_insert(
    table: type[MessageContentRow] | type[IntakeJobRow],
) -> ReturningInsert[tuple[int]]:
    """``insert_numbered``'s insert on PostgreSQL, built once: built anew for every intake
    batch, the call took a quarter more CPU (287 µs against 225 for three rows)."""
    return insert(table).returning(table.id, sort_by_parameter_order=True)


@cache
def _numbered_insert(
    table: type[MessageContentRow] | type[IntakeJobRow], columns: tuple[str, ...]
) -> Insert:
    """``insert_numbered``'s insert of ``columns`` (the rows' keys) and the ``id`` first."""
    return Insert(table, ("id", *columns))
