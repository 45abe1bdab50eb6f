"""How many keywords a message may carry, and how long each may be.

IMAP lets a client make up keywords (``$Forwarded``, ``$label1``, a tag of its own) with
any ``STORE`` or ``APPEND``, and the store keeps them beside the message. Unbounded, one
``STORE 1:* +FLAGS (...)`` of 60 KB of keywords added 60 KB to every message of a mailbox,
and each repetition added more: the rows and every session's view of the mailbox grew
without end. Here a message holds at most ``MAX_KEYWORDS`` keywords of at most
``MAX_KEYWORD_LENGTH`` characters (Dovecot's ``mail_max_keyword_length``; Cyrus refuses the
129th keyword of a mailbox), so a message's flags stay small beside the message itself.

Only what a change adds is refused: a message stored with more (before these limits) can
still lose keywords and gain or lose system flags.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

__all__ = ["MAX_KEYWORDS", "MAX_KEYWORD_LENGTH", "KeywordLimit", "refused_keywords"]

MAX_KEYWORDS: Final = 64
MAX_KEYWORD_LENGTH: Final = 50


class KeywordLimit(Exception):
    """A flag change or an appended message over the keyword limits; says which."""


def _keywords(flags: Collection[str]) -> set[str]:
    return {flag for flag in flags if not flag.startswith("\\")}


def refused_keywords(current: Collection[str], updated: Collection[str]) -> str | None:
    """Why a message with ``current`` flags may not have ``updated`` instead; None if it may.

    A new message is ``refused_keywords((), its_flags)``.
    """
    added = _keywords(updated) - _keywords(current)
    if not added:
        return None
    if any(len(keyword) > MAX_KEYWORD_LENGTH for keyword in added):
        return f"A keyword is at most {MAX_KEYWORD_LENGTH} characters long."
    if len(_keywords(updated)) > MAX_KEYWORDS:
        return f"A message carries at most {MAX_KEYWORDS} keywords."
    return None
