"""The relay worker: send queued messages to the peers that host their recipients.

Each pass takes the messages due (``mailboxes.relay.RelayQueue``), opens one SMTP session
per peer (aiosmtplib, authenticated as this node with the secret shared with that peer) and
settles each message: accepted -> removed; refused for good (5xx) -> a delivery status
notification to the sender, removed; anything else (peer down, 4xx) -> retried with
exponential backoff until the configured give-up time, then the notification.

The queue is in the store, so a restart loses nothing: due messages are simply sent by the
next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import aiosmtplib

from config.clock import Clock
from config.topology import Peer, RelayTiming
from gateway.limits import FAILURE_LOG_INTERVAL, RateLimitedLog
from gateway.routing.dsn import FailedDelivery, delivery_status_notification
from gateway.routing.router import Router
from gateway.tasks import cancel_and_wait
from mailboxes.records import Recipient
from mailboxes.relay import RelayItem, RelayQueue
from mailboxes.store import Change, Store

__all__ = ["PassReport", "RelayWorker"]

log = logging.getLogger(__name__)


class _Permanent(Exception):
    """The peer refused the message for good (5xx)."""


@dataclass
class PassReport:
    """What one pass did, by queue row id."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    bounced: list[int] = field(default_factory=list)


def _code_of(error: BaseException) -> int | None:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        return error.recipients[0].code
    code = getattr(error, "code", None)
    return code if isinstance(code, int) else None


def _describe(error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        refused = error.recipients[0]
        return f"{refused.code} {refused.message}"
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}"
    return f"{type(error).__name__}: {error}"


class RelayWorker:
    def __init__(
        self,
        store: Store,
        *,
        router: Router,
        clock: Clock,
        reporting_host: str,
        timing: RelayTiming | None = None,
    ) -> None:
        self._store = store
        self._queue = RelayQueue(store)
        self._router = router
        self._clock = clock
        self._reporting_host = reporting_host
        self.timing = timing or router.topology.relay
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._failed_passes = RateLimitedLog(FAILURE_LOG_INTERVAL)

    @property
    def queue(self) -> RelayQueue:
        return self._queue

    # region lifecycle

    async def start(self) -> None:
        if self._task is not None:
            return
        self._unsubscribe = self._store.subscribe(self._on_change)
        self._wake.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="relay-worker")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    def _on_change(self, change: Change) -> None:
        if change.relayed:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:  # the store unreachable: pass after pass, one line a minute
                self._failed_passes.exception(
                    log, asyncio.get_running_loop().time(), "relay pass failed"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.timing.poll_seconds)

    # endregion
    # region a pass

    async def run_once(self) -> PassReport:
        """Send every message due now; report what became of each."""
        report = PassReport()
        async with self._lock:
            while True:
                now = self._clock.now()
                lease = timedelta(seconds=self.timing.timeout_seconds * 4)
                items = await self._queue.take_due(now, lease=lease)
                if not items:
                    return report
                by_node: dict[str, list[RelayItem]] = defaultdict(list)
                for item in items:
                    by_node[item.node].append(item)
                await asyncio.gather(
                    *(self._send_to(node, batch, report) for node, batch in by_node.items())
                )

    async def _send_to(self, node: str, items: list[RelayItem], report: PassReport) -> None:
        peer = self._router.topology.peers.get(node)
        if peer is None:
            for item in items:
                await self._fail(item, _Permanent(f"no route to node {node}"), report)
            return
        try:
            client = await self._connect(peer)
        except Exception as exc:
            log.info("relay to %s: cannot connect (%s)", node, _describe(exc))
            for item in items:
                await self._fail(item, exc, report)
            return
        try:
            for item in items:
                try:
                    await client.sendmail(item.sender, [item.recipient], item.raw)
                except Exception as exc:
                    await self._fail(item, exc, report)
                    if not client.is_connected:
                        for rest in items[items.index(item) + 1 :]:
                            await self._fail(rest, exc, report)
                        return
                else:
                    await self._queue.remove(item.id)
                    report.sent.append(item.id)
        finally:
            with contextlib.suppress(Exception):
                await client.quit()

    async def _connect(self, peer: Peer) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=peer.host,
            port=peer.smtp_port,
            timeout=self.timing.timeout_seconds,
            use_tls=False,
            start_tls=False,
            local_hostname=self._reporting_host,
        )
        await client.connect()
        try:
            await client.login(self._router.node_name, peer.secret.get_secret_value())
        except BaseException:
            with contextlib.suppress(Exception):
                await client.quit()
            raise
        return client

    async def _fail(self, item: RelayItem, error: BaseException, report: PassReport) -> None:
        code = _code_of(error)
        permanent = isinstance(error, _Permanent) or (code is not None and 500 <= code < 600)
        now = self._clock.now()
        described = _describe(error)
        if not permanent and now - item.created_at < self.timing.give_up_after:
            when = now + self.timing.delay(item.attempts + 1)
            await self._queue.retry_at(item.id, when, described)
            report.retried.append(item.id)
            return
        status = "5.0.0" if permanent else "4.4.7"
        log.warning("relay of %d to %s given up: %s", item.id, item.recipient, described)
        await self._notify_sender(item, FailedDelivery(item.recipient, status, described))
        await self._queue.remove(item.id)
        report.bounced.append(item.id)

    async def _notify_sender(self, item: RelayItem, failure: FailedDelivery) -> None:
        if not item.sender:  # null reverse path: replies and notices never bounce
            return
        raw = delivery_status_notification(
            reporting_host=self._reporting_host,
            postmaster=f"postmaster@{self._router.domain}",
            sender=item.sender,
            failures=[failure],
            original=item.raw,
            arrival=item.created_at,
            now=self._clock.now(),
        )
        node = self._router.remote_node(item.sender)
        await self._store.deliver("", [Recipient(item.sender, relay_to=node)], raw, own=True)

    # endregion
