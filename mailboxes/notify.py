"""Change notices between processes that share one PostgreSQL database (LISTEN/NOTIFY).

``Store.subscribe`` listeners hear about commits made through their own ``Store``. When
several nodes or workers share a PostgreSQL database, an IMAP session in one process must
still wake when another process delivers to its mailbox, and a pipeline worker must see jobs
queued elsewhere. Each store publishes its changes on a channel after the commit and
listens on that channel for the others' (its own notices, recognised by origin, are
dropped: its listeners already heard them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sqlalchemy.engine import make_url

from config.backoff import Backoff, told_again
from mailboxes.records import Change

__all__ = ["CHANNEL", "ChangeFeed", "decode_change", "encode_change", "merged"]

log = logging.getLogger(__name__)

CHANNEL = "teledespacho_changes"
MAX_PAYLOAD = 7000
"""PostgreSQL refuses notices of 8000 bytes or more; larger changes are sent in parts."""
MAX_WAITING = 1000
"""Changes waiting to be sent beyond this many are merged into one, which keeps only the
newest ``MAX_WAITING`` job numbers. Only a connection that cannot be restored while the
database still takes commits (its ``max_connections`` reached) lets them pile up; the jobs
whose numbers are dropped are found on the other processes' poll interval."""
CONNECT_TIMEOUT = 10.0
"""Seconds a (re)connection may take before it counts as failed."""


def encode_change(origin: str, change: Change) -> list[str]:
    """The notice payloads for ``change`` (JSON), each under ``MAX_PAYLOAD`` bytes."""
    payloads: list[str] = []
    mailboxes = sorted(change.mailboxes)
    jobs = list(change.job_ids)
    while True:
        part: dict[str, Any] = {
            "origin": origin,
            "mailboxes": [],
            "jobs": [],
            "relayed": change.relayed,
        }
        while mailboxes or jobs:
            if mailboxes:
                part["mailboxes"].append(list(mailboxes[0]))
            else:
                part["jobs"].append(jobs[0])
            if len(json.dumps(part).encode()) > MAX_PAYLOAD and (
                len(part["mailboxes"]) + len(part["jobs"]) > 1
            ):
                (part["mailboxes"] if mailboxes else part["jobs"]).pop()
                break
            if mailboxes:
                mailboxes.pop(0)
            else:
                jobs.pop(0)
        payloads.append(json.dumps(part))
        if not mailboxes and not jobs:
            return payloads


def decode_change(payload: str) -> tuple[str, Change]:
    """The origin and change of a notice (``ValueError`` if it is not one of ours)."""
    try:
        data = json.loads(payload)
        origin = str(data["origin"])
        mailboxes = frozenset((str(owner), str(folder)) for owner, folder in data["mailboxes"])
        jobs = tuple(int(job) for job in data["jobs"])
        relayed = bool(data.get("relayed", False))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a change notice: {payload[:80]!r}") from exc
    return origin, Change(mailboxes, jobs, relayed)


def merged(changes: Sequence[Change]) -> Change:
    """One change that names what they all name, their jobs in order."""
    return Change(
        frozenset().union(*(change.mailboxes for change in changes)),
        tuple(job for change in changes for job in change.job_ids),
        any(change.relayed for change in changes),
    )


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _refused_by_the_server(error: Exception) -> bool:
    """Whether a failed notice is the server's answer to it, over a connection that still
    works, rather than a sign that the connection is gone.

    Not only the driver's connection errors mean gone: a restart whose goodbye was read
    before the end of the connection leaves asyncpg refusing every operation
    (``InternalClientError``) without ever calling the termination listeners.
    """
    return isinstance(error, asyncpg.PostgresError) and not isinstance(
        error, asyncpg.PostgresConnectionError | asyncpg.exceptions.OperatorInterventionError
    )


class ChangeFeed:
    """One connection that publishes this store's changes and hears the other stores'.

    When the server drops the connection (a restart, an administrator's
    ``pg_terminate_backend``, ``idle_session_timeout`` on a quiet node) the feed says so
    once, keeps what it still has to publish, and reconnects on the project's backoff;
    once listening again it says so once more and sends what waited. Notices the other
    stores sent meanwhile are not heard again, and need not be: the pipeline worker, the
    relay queue and IMAP IDLE look at the store on their poll interval anyway.
    """

    def __init__(
        self, url: str, on_remote: Callable[[Change], None], *, backoff: Backoff | None = None
    ) -> None:
        self._dsn = _dsn(url)
        self._on_remote = on_remote
        self._backoff = backoff or Backoff()
        self.origin = uuid.uuid4().hex
        self._open = False
        self._connection: Any = None
        """``None`` before ``start``, after ``close`` and while reconnecting."""
        self._waiting: list[Change] = []
        self._dropped_jobs = 0
        self._sender: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None

    @property
    def application_name(self) -> str:
        """What the server's ``pg_stat_activity`` shows for this feed's connection."""
        return f"teledespacho-notices-{self.origin}"

    async def start(self) -> None:
        self._connection = await self._connect()
        self._open = True

    async def _connect(self) -> Any:
        connection = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT,
            server_settings={"application_name": self.application_name},
        )
        try:
            await connection.add_listener(CHANNEL, self._received)
        except BaseException:
            connection.terminate()
            raise
        connection.add_termination_listener(self._terminated)
        return connection

    def publish(self, change: Change) -> None:
        """Send ``change`` in the background (called after the commit, from sync code).

        Changes published while a notice is on its way wait for it and go together, as
        one: under load a node commits faster than it can notify, and each notice is a
        round trip, a commit on the server and a notice heard by every store listening,
        this one included. Listeners lose nothing by it: a notice says which mailboxes and
        jobs to look at, not what happened to them. While the connection is being
        restored they wait for it, at most ``MAX_WAITING`` changes' worth (see there).
        """
        if not self._open:
            return
        self._waiting.append(change)  # merged when sent: once, however long the wait
        if len(self._waiting) > MAX_WAITING:
            self._compact_waiting()
        if self._sender is None and self._connection is not None:
            self._sender = asyncio.get_running_loop().create_task(self._send_waiting())

    def _compact_waiting(self) -> None:
        whole = merged(self._waiting)
        kept = whole.job_ids[-MAX_WAITING:]
        self._dropped_jobs += len(whole.job_ids) - len(kept)
        self._waiting = [Change(whole.mailboxes, kept, whole.relayed)]

    async def _send_waiting(self) -> None:
        try:
            while self._waiting and self._connection is not None:
                connection = self._connection
                changes, self._waiting = self._waiting, []
                try:
                    for payload in encode_change(self.origin, merged(changes)):
                        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                except Exception as error:
                    if _refused_by_the_server(error) and not connection.is_closed():
                        log.exception("cannot publish a change notice")
                        continue
                    self._waiting[:0] = changes  # sent again once reconnected
                    self._lost(connection, error)
        finally:
            self._sender = None

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            origin, change = decode_change(payload)
        except ValueError:
            log.warning("ignoring a notice on %s that is not a change", CHANNEL)
            return
        if origin != self.origin:
            self._on_remote(change)

    def _terminated(self, connection: Any) -> None:
        self._lost(connection, None)

    def _lost(self, connection: Any, error: BaseException | None) -> None:
        """``connection`` is gone: say so once and reconnect in the background."""
        if connection is not self._connection or not self._open:
            return  # already known, or closed by ``close``
        self._connection = None
        connection.terminate()  # if the driver still holds it open, half dead
        log.warning(
            "lost the connection for change notices (%s); reconnecting, and until then "
            "the other processes' changes are seen on the poll interval",
            error or "closed by the server",
        )
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        attempts = 0
        while True:
            await asyncio.sleep(self._backoff.next_delay())
            attempts += 1
            try:
                connection = await self._connect()
            except Exception as error:  # whatever it is, the next attempt may succeed
                log.log(
                    logging.WARNING if told_again(attempts) else logging.DEBUG,
                    "change notices: reconnection attempt %d failed: %s",
                    attempts,
                    error,
                )
                continue
            break
        self._backoff.reset()
        self._connection, self._reconnecting = connection, None
        dropped, self._dropped_jobs = self._dropped_jobs, 0
        log.info(
            "change notices restored after %d attempts; %d changes waited to be sent%s",
            attempts,
            len(self._waiting),
            f" ({dropped} job numbers dropped; their jobs are found on the poll interval)"
            if dropped
            else "",
        )
        if self._waiting and self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_waiting())

    async def close(self) -> None:
        self._open = False
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            await asyncio.gather(self._reconnecting, return_exceptions=True)
            self._reconnecting = None
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
