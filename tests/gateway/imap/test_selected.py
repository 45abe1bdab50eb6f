"""The incremental selected mailbox answers exactly as pymap's own, at a cost per change.

pymap's ``SelectedMailbox`` compares full copies of the session's view; ours keeps a log.
Both are driven through the same random histories (new messages, flag changes, expunges,
hidden expunges during non-UID FETCH/STORE, ``\\Recent``, ``.SILENT`` stores) and must
give the same untagged responses after every command and the same answer to every
sequence set.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from pymap.flags import FlagOp, PermanentFlags, SessionFlags
from pymap.parsing.specials import ObjectId, SequenceSet
from pymap.parsing.specials.flag import Deleted, Flag, Flagged, Recent, Seen, get_system_flags
from pymap.parsing.specials.sequenceset import MaxValue
from pymap.selected import SelectedMailbox

from gateway.imap.mailbox import Message
from gateway.imap.selected import IncrementalMessages, IncrementalSelected, RecentFlags

WHEN = datetime(1997, 3, 3, tzinfo=UTC)
MAILBOX = ObjectId(b"F1_1")
FLAG_CHOICES = [frozenset(), frozenset({Seen}), frozenset({Seen, Flagged}), frozenset({Deleted})]


class _Command:
    """What ``fork`` reads of a command: whether it was a UID command."""

    def __init__(self, uid: bool) -> None:
        self.uid = uid


NOOP: Any = _Command(uid=False)


def message(uid: int, flags: frozenset[Flag]) -> Message:
    return Message(uid, WHEN, flags)


def pair() -> tuple[SelectedMailbox, SelectedMailbox]:
    permanent = PermanentFlags(get_system_flags() - {Recent})
    theirs = SelectedMailbox(MAILBOX, False, permanent, SessionFlags({Recent}))
    ours = IncrementalSelected.open(MAILBOX, False, permanent, RecentFlags({Recent}), None, "INBOX")
    return theirs, ours


def rendered(responses: object) -> list[bytes]:
    return [bytes(response) for response in responses]  # type: ignore[attr-defined]


def random_set(rng: random.Random, uid: bool) -> SequenceSet:
    elements: list[object] = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.3:
            elements.append(rng.randint(1, 40))
        elif kind < 0.4:
            elements.append(MaxValue())
        elif kind < 0.8:
            elements.append((rng.randint(1, 40), rng.randint(1, 40)))
        else:
            elements.append((rng.randint(1, 40), MaxValue()))
    return SequenceSet(elements, uid=uid)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(40))
def test_same_responses_as_pymap(seed: int) -> None:
    rng = random.Random(seed)
    theirs, ours = pair()
    present: dict[int, frozenset[Flag]] = {}
    next_uid = 1
    for uid in range(1, rng.randint(0, 12) + 1):
        present[uid] = rng.choice(FLAG_CHOICES)
        next_uid = uid + 1
    for view in (theirs, ours):
        view.add_updates([message(u, f) for u, f in present.items()], [])
    theirs, first = theirs.fork(NOOP)
    ours, also_first = ours.fork(NOOP)
    assert rendered(first) == rendered(also_first) == []

    for step in range(30):
        uid_command = rng.random() < 0.5
        hide = not uid_command and rng.random() < 0.4
        for view in (theirs, ours):
            view.hide_expunged = hide
        changed: list[Message] = []
        expunged: list[int] = []
        for _ in range(rng.randint(0, 3)):
            action = rng.random()
            if action < 0.35:
                present[next_uid] = rng.choice(FLAG_CHOICES)
                changed.append(message(next_uid, present[next_uid]))
                next_uid += 1
            elif action < 0.65 and present:
                uid = rng.choice(sorted(present))
                present[uid] = rng.choice(FLAG_CHOICES)
                changed.append(message(uid, present[uid]))
            elif present:
                uid = rng.choice(sorted(present))
                del present[uid]
                expunged.append(uid)
                changed = [m for m in changed if m.uid != uid]
        if rng.random() < 0.2 and present:
            recent_uid = rng.choice(sorted(present))
            for view in (theirs, ours):
                view.session_flags.add_recent(recent_uid)
        if rng.random() < 0.2:
            silenced = random_set(rng, uid_command)
            for view in (theirs, ours):
                view.silence(silenced, frozenset({Seen}), FlagOp.ADD)
        for view in (theirs, ours):
            view.add_updates(changed, expunged)
        probe = random_set(rng, rng.random() < 0.5)
        assert [(s, m.uid) for s, m in ours.messages.get_all(probe)] == [
            (s, m.uid) for s, m in theirs.messages.get_all(probe)
        ], f"step {step}: {bytes(probe)!r}"
        assert ours.messages.get_uids(probe) == theirs.messages.get_uids(probe)
        assert (ours.messages.exists, ours.messages.max_uid) == (
            theirs.messages.exists,
            theirs.messages.max_uid,
        )
        command = _Command(uid_command)
        theirs, their_untagged = theirs.fork(command)  # type: ignore[arg-type]
        ours, our_untagged = ours.fork(command)  # type: ignore[arg-type]
        assert rendered(our_untagged) == rendered(their_untagged), f"step {step}"


def test_deleted_mailbox_says_bye() -> None:
    _, ours = pair()
    ours, _ = ours.fork(NOOP)
    ours.set_deleted()
    _, untagged = ours.fork(NOOP)
    assert rendered(untagged) == [b"* BYE Selected mailbox no longer exists.\r\n"]


def test_a_lookup_costs_what_it_names() -> None:
    """``UID FETCH <last>`` on a large view touches one message, not all of them."""
    messages = IncrementalMessages()
    messages._update(message(uid, frozenset()) for uid in range(1, 50_001))
    touched: list[int] = []

    class Counting(dict[int, object]):
        def __getitem__(self, key: int) -> object:
            touched.append(key)
            return super().__getitem__(key)

    messages._entries = Counting(messages._entries)  # type: ignore[assignment]
    assert [(s, m.uid) for s, m in messages.get_all(SequenceSet([50_000], uid=True))] == [
        (50_000, 50_000)
    ]
    assert touched == [50_000]


def test_fetch_and_uid_commands_are_told_apart() -> None:
    """A non-UID FETCH hides expunges (RFC 3501 §7.4.1); the next command announces them."""
    theirs, ours = pair()
    for view in (theirs, ours):
        view.add_updates([message(1, frozenset()), message(2, frozenset())], [])
    theirs, _ = theirs.fork(NOOP)
    ours, _ = ours.fork(NOOP)
    fetch = _Command(uid=False)
    for view in (theirs, ours):
        view.hide_expunged = True
        view.add_updates([], [1])
    theirs, hidden = theirs.fork(fetch)  # type: ignore[arg-type]
    ours, also_hidden = ours.fork(fetch)  # type: ignore[arg-type]
    assert rendered(hidden) == rendered(also_hidden) == []
    noop = NOOP
    for view in (theirs, ours):
        view.add_updates([], [])
    theirs, shown = theirs.fork(noop)
    ours, also_shown = ours.fork(noop)
    assert rendered(shown) == rendered(also_shown) == [b"* 1 EXPUNGE\r\n"]


def test_sessions_share_a_view_until_theirs_changes() -> None:
    """A later SELECT copied the whole view (50 000 entries: 2 ms) even with nothing new;
    now it is copied once the session's view first changes, and never changed in place."""
    _, first = pair()
    first.add_updates([message(u, frozenset()) for u in (1, 2, 3)], [])
    shared = first.log.share(MAILBOX, modseq=7)
    sessions = []
    for _ in range(2):
        _, later = pair()
        later.log.adopt(shared)
        later, _ = later.fork(NOOP)  # the SELECT's own answer
        sessions.append(later)
    quiet, busy = sessions
    assert quiet.log._sorted is shared.uids and quiet.log._entries is shared.messages
    busy.add_updates([message(2, frozenset({Seen})), message(4, frozenset())], [1])
    busy, untagged = busy.fork(NOOP)
    assert rendered(untagged)[:2] == [b"* 1 EXPUNGE\r\n", b"* 3 EXISTS\r\n"]
    assert [m.uid for _, m in busy.messages.get_all(SequenceSet([1]))] == [2]
    assert shared.uids == [1, 2, 3] and shared.messages[2][1] == ""  # as it was
    assert quiet.log._sorted is shared.uids and quiet.messages.exists == 3
