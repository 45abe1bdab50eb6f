"""Office moves on a running node: follow the registry file, hand numbering over.

``teledispatch office move`` rewrites the deployment's office registry. Every node watches
that file and, when it changes, routes the office's new mail to its new node at once.

- The old node keeps answering the declarations it already received, then sends its
  counters for the office to the new node (``traspaso-<code>@``, through the relay queue).
- The new node accepts the office's new submissions but holds them until that handover has
  arrived, so its first number follows the old node's last: never a gap, never a repeat.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from config.clock import Clock
from config.offices import OfficeRegistry, load_offices
from gateway.limits import FAILURE_LOG_INTERVAL, RateLimitedLog
from gateway.routing import handover
from gateway.routing.router import Router
from gateway.tasks import cancel_and_wait
from mailboxes.handover import CounterValue, handovers, receive_handover, send_handover
from mailboxes.store import Change, Store

__all__ = ["OfficeMoves"]

log = logging.getLogger(__name__)


class OfficeMoves:
    def __init__(
        self,
        store: Store,
        *,
        router: Router,
        clock: Clock,
        registry_file: Path | None,
        poll_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._router = router
        self._clock = clock
        self._file = registry_file
        self.poll_seconds = poll_seconds
        self._stamp: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._failed_passes = RateLimitedLog(FAILURE_LOG_INTERVAL)

    @property
    def node_name(self) -> str:
        return self._router.node_name

    async def start(self) -> None:
        if self._file is not None:
            self._stamp = self._file.stat().st_mtime
        await self.settle()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="office-moves")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.refresh()
            except Exception:  # the store unreachable: pass after pass, one line a minute
                self._failed_passes.exception(
                    log, asyncio.get_running_loop().time(), "office registry refresh failed"
                )

    async def refresh(self) -> None:
        """Reload the registry if its file changed, then settle the moves."""
        if self._file is not None:
            stamp = self._file.stat().st_mtime
            if stamp != self._stamp:
                self._stamp = stamp
                self.apply(load_offices(self._file))
                log.info("office registry reloaded from %s", self._file)
        await self.settle()

    def apply(self, offices: OfficeRegistry) -> None:
        """Route with ``offices`` from now on: one new snapshot for everyone at once."""
        self._router.replace(self._router.current.with_offices(offices))

    async def settle(self) -> None:
        """Hold what waits for a handover here; send the handovers this node owes."""
        if self._router.current.host_all_offices:
            return
        async with self._lock:
            me = self.node_name
            received = await handovers(self._store, "received")
            # Decided on the snapshot as it is now (the registry may have been reloaded
            # while the handovers were read), and replaced in the same step.
            routes = self._router.current
            offices = list(routes.offices.values())
            self._router.replace(
                routes.with_held(
                    frozenset(
                        o.code
                        for o in offices
                        if o.node == me
                        and o.moved_from not in (None, me)
                        and (o.code, o.move_serial) not in received
                    )
                )
            )
            for office in offices:
                if office.moved_from == me and office.node != me:
                    await self._send(office.code, office.move_serial, office.node)

    async def _send(self, code: str, serial: int, to_node: str) -> None:
        domain = self._router.domain
        now = self._clock.now()

        def render(counters: list[CounterValue]) -> bytes:
            message = handover.Handover(code, serial, self.node_name, to_node, counters)
            return handover.render(message, domain=domain, now=now)

        queued = await send_handover(
            self._store,
            office=code,
            serial=serial,
            from_node=self.node_name,
            to_node=to_node,
            recipient=handover.handover_address(code, domain),
            now=now,
            render=render,
        )
        if queued:
            log.info("numbering of office %s handed over to %s", code, to_node)

    async def receive(self, peer: str, raw: bytes) -> None:
        """A handover from ``peer`` (raises ``HandoverError`` if it is not acceptable)."""
        message = handover.parse(raw)
        if message.from_node != peer or message.to_node != self.node_name:
            raise handover.HandoverError("handover not from that peer or not for this node")
        freed = await receive_handover(
            self._store,
            office=message.office,
            serial=message.serial,
            from_node=message.from_node,
            to_node=message.to_node,
            counters=message.counters,
            now=self._clock.now(),
        )
        log.info("numbering of office %s received from %s", message.office, peer)
        await self.settle()
        if freed:  # wake the pipeline for the jobs it held
            self._store.notify(Change(frozenset(), tuple(freed)))
