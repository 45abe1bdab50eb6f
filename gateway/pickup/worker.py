"""The pickup worker: import each new message of the configured outside mailboxes once.

Every ``poll_seconds`` it logs in to each source, lists the messages and imports those whose
key it has not recorded, into the same intake as SMTP (``Store.deliver`` to the source's
``deliver_to`` address, resolved like an SMTP recipient). Messages are left on the source:
the keys recorded with each import (``mailboxes.pickup``) make a restart, or a second pass,
import nothing twice.

Who sent a message found there is decided by the source, never by the message: a header
(``From``, ``Return-Path``) is whatever its writer typed. A source bound to an agent (an
IMAP folder only that agent writes to) is that agent's. A source may instead list its
``senders``: a message is then taken as one of theirs only on a valid DKIM signature of its
``From:`` domain (``gateway.pickup.evidence``). Everything else is logged and left where it
is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from config.clock import Clock
from config.topology import PickupSource
from gateway.clients.pickup_readers import PickupError, open_reader
from gateway.clients.pop3 import MAX_RESPONSE
from gateway.directory import LocalDirectory
from gateway.lane import in_lane
from gateway.pickup.evidence import DnsLookup, signed_sender
from gateway.pickup.outage import Outage, Tell
from gateway.smtp.trace import without_node_fields
from gateway.tasks import cancel_and_wait
from mailboxes.errors import AlreadyStored
from mailboxes.pickup import pass_over, seen, seen_keys
from mailboxes.store import Store

__all__ = ["PickupWorker"]

log = logging.getLogger(__name__)


def unseen(keys: Collection[str], done: Collection[str]) -> list[str]:
    """The keys not imported yet, in the source's order."""
    return [key for key in keys if key not in done]


def _failed(source: PickupSource, outage: Outage, error: Exception, *, expected: bool) -> None:
    """Log a failed poll as ``outage`` tells: a source unreachable or refusing (``expected``)
    as a warning, anything else as an error with its traceback the first time; the polls in
    between at ``DEBUG``."""
    reason = (str(error).splitlines() or [""])[0] or type(error).__name__
    if not expected:
        reason = f"{type(error).__name__}: {reason}"
    tell = outage.failed(reason)
    level = logging.WARNING if expected else logging.ERROR
    if tell is Tell.NEW:
        log.log(
            level,
            "pickup from %s failed: %s; polled again every %g s",
            source.name,
            reason,
            source.poll_seconds,
            exc_info=None if expected else error,
        )
    else:
        log.log(
            level if tell is Tell.STILL else logging.DEBUG,
            "pickup from %s still fails (%d polls in a row): %s",
            source.name,
            outage.failures,
            reason,
        )


class PickupWorker:
    def __init__(
        self,
        store: Store,
        *,
        sources: list[PickupSource],
        directory: LocalDirectory,
        clock: Clock,
        timeout: float = 30.0,
        max_message: int = MAX_RESPONSE,
        dkim_dns: DnsLookup | None = None,
    ) -> None:
        self._store = store
        self.sources = sources
        self._directory = directory
        self._clock = clock
        self.timeout = timeout
        """Seconds each step of a poll may take in all (logging in, the listing, a message)."""
        self.max_message = max_message
        """Largest message taken from a source; a larger one is left there, and said so."""
        self._tasks: list[asyncio.Task[None]] = []
        self._locks: dict[str, asyncio.Lock] = {}
        """One pass at a time over each source; a slow source holds up no other."""
        self._left: dict[str, int] = {}
        self._too_big: dict[str, set[tuple[str, str]]] = {}
        """Per source, the messages left there as too big and already said so: told once, and
        not recorded as taken, so a node restarted with a larger ``max_message_size`` takes
        them. Only the ones still waiting at the last poll are kept."""
        self._dkim_dns = dkim_dns
        """How DKIM keys are looked up (None: the DNS); tests answer from a table."""

    async def _signed_sender(self, source: PickupSource, key: str, raw: bytes) -> str | None:
        assert source.senders is not None
        found = await asyncio.to_thread(signed_sender, raw, source.senders, self._dkim_dns)
        if found.sender is None:
            log.warning(
                "pickup from %s: message %s left at the source: %s", source.name, key, found.reason
            )
        return found.sender

    def _leave(self, source: PickupSource, waiting: int) -> None:
        """Log, once each time the count changes, the mail an unbound source holds."""
        if waiting and self._left.get(source.name) != waiting:
            log.warning(
                "pickup from %s: %d message(s) left at the source: nothing there proves who "
                "wrote them (bind the source to an agent's own folder, see docs/security.md)",
                source.name,
                waiting,
            )
        self._left[source.name] = waiting

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(source), name=f"pickup-{source.name}")
            for source in self.sources
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            await cancel_and_wait(task)

    async def _run(self, source: PickupSource) -> None:
        outage = Outage()
        while True:
            try:
                await self.pick_up(source)
            except (OSError, TimeoutError, PickupError) as exc:
                _failed(source, outage, exc, expected=True)
            except Exception as exc:
                _failed(source, outage, exc, expected=False)
            else:
                if failures := outage.worked():
                    log.info(
                        "pickup from %s works again after %d failed poll(s)", source.name, failures
                    )
            await asyncio.sleep(source.poll_seconds)

    async def run_once(self) -> int:
        """One pass over every source; how many messages were imported."""
        return sum([await self.pick_up(source) for source in self.sources])

    async def pick_up(self, source: PickupSource) -> int:
        """Import the new messages of one source; how many."""
        async with self._locks.setdefault(source.name, asyncio.Lock()):
            target = await self._directory.resolve(source.deliver_to)
            if target is None or target.relay_to is not None:
                raise PickupError(f"{source.deliver_to} is not hosted by this node")
            imported = 0
            async with open_reader(source, self.timeout, self.max_message) as reader:
                listing = await reader.listing()
                done = await seen_keys(self._store, source.name, listing.mailbox_key)
                waiting = unseen(listing.keys, done)
                if source.agent is None and source.senders is None:
                    self._leave(source, len(waiting))
                    return 0
                told = self._too_big.get(source.name, set())
                too_big = self._too_big[source.name] = set()
                for key in waiting:
                    record = seen(source.name, listing.mailbox_key, key, self._clock.now())
                    size = await reader.size(key)
                    if size is not None and size > self.max_message:
                        # Fetching it would fail this poll and every next one, and hold up
                        # the messages after it.
                        if (listing.mailbox_key, key) not in told:
                            log.warning(
                                "pickup from %s: message %s left at the source: %d bytes, "
                                "larger than max_message_size (%d)",
                                source.name,
                                key,
                                size,
                                self.max_message,
                            )
                        too_big.add((listing.mailbox_key, key))
                        continue
                    raw = await reader.fetch(key)
                    sender = source.agent or await self._signed_sender(source, key, raw)
                    try:
                        if sender is None:
                            await pass_over(self._store, record)
                            continue
                        # Only the node writes its own fields, here as in a submission.
                        raw = await in_lane(without_node_fields, raw)
                        await self._store.deliver(sender, [target], raw, also=record)
                    except AlreadyStored:  # another process imported it meanwhile
                        continue
                    imported += 1
            if imported:
                log.info("picked up %d message(s) from %s", imported, source.name)
            return imported
