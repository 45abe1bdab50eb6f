"""The pickup worker: import each new message of the configured outside mailboxes once.

Every ``poll_seconds`` it logs in to each source, lists the messages and imports those whose
key it has not recorded, into the same intake as SMTP (``Store.deliver`` to the source's
``deliver_to`` address, resolved like an SMTP recipient). Messages are left on the source:
the keys recorded with each import (``mailboxes.pickup``) make a restart, or a second pass,
import nothing twice. The envelope sender is the message's ``Return-Path`` or ``From``, so
the pipeline answers the agent who wrote it; nobody authenticated that header, so a source
may list its ``senders`` and mail from anyone else is then left where it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from config.clock import Clock
from config.topology import PickupSource
from gateway.directory import LocalDirectory
from gateway.pickup.sources import PickupError, open_reader, unseen
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.errors import AlreadyStored
from mailboxes.pickup import pass_over, seen, seen_keys
from mailboxes.store import Store

__all__ = ["PickupWorker", "envelope_sender"]

log = logging.getLogger(__name__)


def envelope_sender(raw: bytes) -> str:
    """Who to answer: ``Return-Path``, else ``From``; empty if neither is an address."""
    headers = BytesHeaderParser().parsebytes(raw)
    for name in ("Return-Path", "From"):
        _, address = parseaddr(str(headers.get(name, "")))
        with contextlib.suppress(InvalidAddress):
            return normalize_address(address)
    return ""


class PickupWorker:
    def __init__(
        self,
        store: Store,
        *,
        sources: list[PickupSource],
        directory: LocalDirectory,
        clock: Clock,
        timeout: float = 30.0,
    ) -> None:
        self._store = store
        self.sources = sources
        self._directory = directory
        self._clock = clock
        self.timeout = timeout
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(source), name=f"pickup-{source.name}")
            for source in self.sources
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, source: PickupSource) -> None:
        while True:
            try:
                await self.pick_up(source)
            except (OSError, TimeoutError, PickupError) as exc:
                log.warning("pickup from %s failed: %s", source.name, exc)
            except Exception:
                log.exception("pickup from %s failed", source.name)
            await asyncio.sleep(source.poll_seconds)

    async def run_once(self) -> int:
        """One pass over every source; how many messages were imported."""
        return sum([await self.pick_up(source) for source in self.sources])

    async def pick_up(self, source: PickupSource) -> int:
        """Import the new messages of one source; how many."""
        async with self._lock:
            target = await self._directory.resolve(source.deliver_to)
            if target is None or target.relay_to is not None:
                raise PickupError(f"{source.deliver_to} is not hosted by this node")
            imported = 0
            async with open_reader(source, self.timeout) as reader:
                listing = await reader.listing()
                done = await seen_keys(self._store, source.name, listing.mailbox_key)
                for key in unseen(listing.keys, done):
                    raw = await reader.fetch(key)
                    record = seen(source.name, listing.mailbox_key, key, self._clock.now())
                    sender = envelope_sender(raw)
                    try:
                        if source.senders is not None and sender not in source.senders:
                            log.warning(
                                "pickup from %s: message %s from %r is not from one of the "
                                "source's senders; left at the source",
                                source.name,
                                key,
                                sender,
                            )
                            await pass_over(self._store, record)
                            continue
                        await self._store.deliver(sender, [target], raw, also=record)
                    except AlreadyStored:  # another process imported it meanwhile
                        continue
                    imported += 1
            if imported:
                log.info("picked up %d message(s) from %s", imported, source.name)
            return imported
