"""FETCH and STORE over many messages, answered a slice at a time (and the announcements
after any command, such as an EXPUNGE's, sent a slice at a time).

pymap answers a command whole before writing it. On a mailbox of 50 000 messages a
``UID FETCH 1:* (FLAGS)`` built 50 000 message objects and responses in one step of the
event loop, and every other client of the node waited for it: 2.5 s, and 3.5 s for
``STORE 1:* +FLAGS (\\Seen)`` (mail clients send both on large folders). Here a FETCH or
STORE naming more than ``SLICE`` messages, or a FETCH reading more than one message, is
resolved once against the session's view to UIDs (so the sequence numbers in the answer
stay those the client knows), cut into slices, and each slice is read, answered and
written before the next: the loop serves the other clients between slices, and what the
node holds is a slice, not the mailbox (and, of a slice's messages, those the client has
not yet taken: the connection waits for a slow client as it goes).

Each slice is done as pymap's ``do_fetch``/``do_store`` do a whole command, with the same
response objects; the mailbox's changes are announced once, after the last slice, as pymap
does after any command (an ``EXPUNGE`` must not come while a FETCH or STORE is answered,
RFC 3501 section 7.4.1). A STORE's slices are stored one transaction each, as a client
may see from another session; a failure part way ends the command with ``NO`` after the
slices already answered. Upstream, pymap's ``do_fetch``/``do_store`` would yield their
responses as an async iterator that the connection writes as they come.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

from pymap.bytes import WriteStream
from pymap.exceptions import ResponseError
from pymap.interfaces.session import SessionInterface
from pymap.parsing.command.select import FetchCommand, StoreCommand
from pymap.parsing.primitives import List, Number
from pymap.parsing.response import (
    CommandResponse,
    Response,
    ResponseCode,
    ResponseOk,
    UntaggedResponse,
)
from pymap.parsing.response.specials import FetchResponse
from pymap.parsing.specials import FetchAttribute, FetchRequirement, FetchValue, SequenceSet
from pymap.selected import SelectedMailbox

from gateway.imap.fetch_values import fetch_response
from gateway.imap.selected import IncrementalMessages

__all__ = [
    "SLICE",
    "Sink",
    "SlicedResponse",
    "answer_in_slices",
    "answered_in_slices",
    "send_in_slices",
    "uids_named",
]

SLICE: Final = 500
"""Messages read and answered in one step of the event loop: 10-30 ms of work, up to about
0.14 s for an ``ENVELOPE`` of each. Slices of 100 for a FETCH that reads the messages cut
that to 0.07 s but doubled the whole command's time (50 000 ENVELOPEs: 31 s against 23)."""

_FLAGS: Final = FetchAttribute(b"FLAGS")
_UID: Final = FetchAttribute(b"UID")
_EXPUNGE_ISSUED: Final = ResponseCode.of(b"EXPUNGEISSUED")

Many = FetchCommand | StoreCommand


class Sink(Protocol):
    """Where a slice's responses go: written, then the loop is free for a moment."""

    async def send(self, responses: Sequence[UntaggedResponse]) -> None: ...


class SlicedResponse(CommandResponse):
    """A command's answer made while it is written: ``answer(sink)`` sends its untagged
    responses slice by slice and returns the tagged response that ends it (``final``)."""

    def __init__(self, tag: bytes, answer: Callable[[Sink], Awaitable[Response]]) -> None:
        super().__init__(tag)
        self.answer = answer
        self.final: Response | None = None

    @property
    def is_bad(self) -> bool:
        return self.final is not None and self.final.is_bad

    @property
    def is_terminal(self) -> bool:
        return super().is_terminal or (self.final is not None and self.final.is_terminal)

    def write(self, writer: WriteStream) -> None:
        """The tagged line once answered (for the debug log; the slices went before it)."""
        if self.final is None:
            raise TypeError("a sliced response is written by answer(), a slice at a time")
        self.final.write(writer)


async def send_in_slices(sink: Sink, responses: Sequence[UntaggedResponse]) -> None:
    """``responses`` into ``sink`` ``SLICE`` at a time (a mailbox's changes announced after
    a command: 50 000 ``EXPUNGE`` lines after an EXPUNGE that removed as many)."""
    for start in range(0, len(responses), SLICE):
        await sink.send(responses[start : start + SLICE])


def answered_in_slices(cmd: Many, uids: Sequence[int]) -> bool:
    """Whether ``cmd`` over ``uids`` is answered here: more than a slice, or a FETCH that
    reads more than one message (its bytes, size or envelope: pymap made such an answer
    whole before writing any of it, 80 MB for 40 messages of 2 MB, and more again in the
    socket's buffer for a client slow to read)."""
    if len(uids) > SLICE:
        return True
    if not isinstance(cmd, FetchCommand) or len(uids) < 2:
        return False
    needed = FetchRequirement.reduce(attribute.requirement for attribute in cmd.attributes)
    return not needed.has_none(FetchRequirement.CONTENT)


def uids_named(selected: SelectedMailbox, sequence_set: SequenceSet) -> list[int] | None:
    """The UIDs a command's set names in the session's view, in order; ``None`` for a view
    that cannot say without reading messages (the command then goes to pymap whole)."""
    view = selected.messages
    if not isinstance(view, IncrementalMessages):
        return None
    return [uid for _, uid in view.get_uids(sequence_set)]


async def answer_in_slices(
    cmd: Many,
    uids: Sequence[int],
    session: SessionInterface,
    selected: SelectedMailbox,
    sink: Sink,
) -> tuple[Response, SelectedMailbox | None]:
    """``cmd`` answered over ``uids`` a slice at a time into ``sink``: the tagged response,
    and the mailbox whose changes are to be announced after it (pymap's ``fork``)."""
    # The sequence numbers stay those the client knows until the last slice: a message
    # another session expunges meanwhile is announced after it, as pymap does for FETCH
    # and STORE. A UID command's too here (pymap may renumber during one), since its slices
    # are read one after another and each would otherwise see the removal.
    selected.hide_expunged = True
    done = ResponseOk(cmd.tag, cmd.command + b" completed.")
    updates: SelectedMailbox | None = None
    try:
        for start in range(0, len(uids), SLICE):
            part = SequenceSet.build(uids[start : start + SLICE], uid=True)
            if isinstance(cmd, FetchCommand):
                answered = await _fetch_slice(cmd, part, session, selected)
            else:
                answered = await _store_slice(cmd, part, session, selected)
            responses, updates, expunged = answered
            if expunged:
                done.code = _EXPUNGE_ISSUED
            await sink.send(responses)
    except ResponseError as exc:  # as pymap answers a command that raised: no updates
        return exc.get_response(cmd.tag), None
    return done, updates


async def _fetch_slice(
    cmd: FetchCommand,
    part: SequenceSet,
    session: SessionInterface,
    selected: SelectedMailbox,
) -> tuple[list[UntaggedResponse], SelectedMailbox, bool]:
    """pymap's ``do_fetch`` for the messages of ``part``."""
    set_seen = not selected.readonly and any(attr.set_seen for attr in cmd.attributes)
    messages, updates = await session.fetch_messages(selected, part, set_seen)
    responses: list[UntaggedResponse] = []
    expunged = False
    for seq, message in messages:
        expunged = expunged or message.expunged
        responses.append(fetch_response(seq, message, selected, cmd.attributes))
    return responses, updates, expunged


async def _store_slice(
    cmd: StoreCommand,
    part: SequenceSet,
    session: SessionInterface,
    selected: SelectedMailbox,
) -> tuple[list[UntaggedResponse], SelectedMailbox, bool]:
    """pymap's ``do_store`` for the messages of ``part``."""
    # Silenced whether or not the client asked: without .SILENT it is told each message's
    # flags in this slice, and the announcements after the last slice must not tell it
    # again (pymap merges the two into one FETCH when all is written at once).
    selected.silence(part, cmd.flag_set, cmd.mode)
    messages, updates = await session.update_flags(selected, part, cmd.flag_set, cmd.mode)
    session_flags = selected.session_flags
    responses: list[UntaggedResponse] = []
    expunged = False
    for seq, message in messages:
        if message.expunged:
            expunged = True
        elif cmd.silent:
            continue
        values = [FetchValue.of(_FLAGS, List(message.get_flags(session_flags), sort=True))]
        if cmd.uid:
            values.append(FetchValue.of(_UID, Number(message.uid)))
        responses.append(FetchResponse(seq, values))
    return responses, updates, expunged
