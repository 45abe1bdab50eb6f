"""The keyword limits: what a flag change or a new message may add."""

from __future__ import annotations

import pytest

from mailboxes.keywords import MAX_KEYWORD_LENGTH, MAX_KEYWORDS, refused_keywords

MANY = frozenset(f"$tag{n}" for n in range(MAX_KEYWORDS))
LONG = "k" * (MAX_KEYWORD_LENGTH + 1)


@pytest.mark.parametrize(
    ("current", "updated", "refused"),
    [
        ((), ("\\Seen", "$Forwarded", "$label1", "Junk"), None),
        ((), MANY, None),
        ((), MANY | {"$one-more"}, "at most 64 keywords"),
        ((), ("k" * MAX_KEYWORD_LENGTH,), None),
        ((), (LONG,), "at most 50 characters"),
        # system flags are not keywords: never counted, never refused
        (MANY, MANY | {"\\Seen", "\\Flagged", "\\Answered", "\\Draft", "\\Deleted"}, None),
        # what a message already carries is kept: only what a change adds is refused
        (MANY | {"$extra", LONG}, MANY | {"$extra", LONG, "\\Seen"}, None),
        (MANY | {"$extra", LONG}, {"$extra"}, None),
        (MANY | {"$extra"}, MANY | {"$extra", "$another"}, "at most 64 keywords"),
        ((LONG,), (LONG, "x" * 60), "at most 50 characters"),
    ],
)
def test_what_a_change_may_add(
    current: frozenset[str], updated: frozenset[str], refused: str | None
) -> None:
    reason = refused_keywords(current, updated)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason
