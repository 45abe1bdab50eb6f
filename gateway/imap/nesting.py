"""How deeply an IMAP command nests, read before pymap parses it.

pymap's parser descends once per parenthesized list and once per ``OR`` or ``NOT`` of a
SEARCH, and Python's recursion limit stops it a few hundred levels down: a 60 KB ``SEARCH
((((...`` ended the session with ``[SERVERBUG]`` and logged a traceback of 3 000 lines,
as often as a client cared to send one. The node refuses such a command before it is parsed
(``BAD [LIMIT]``, the session goes on).

Sans-IO: bytes in, a number out. The bound it gives is conservative: each ``(`` open at a
point counts, and every ``OR`` and ``NOT`` of the command counts, wherever it stands, since
no nesting can be deeper than that. Quoted strings and literals are data, not syntax, and are
skipped (a literal's bytes follow its ``{N}`` or ``{N+}`` and line end, as the command's
pieces are joined).

Upstream, pymap's search-key parser would gather an ``OR`` chain in a loop (as Dovecot does)
and count its lists, rather than recurse without a bound.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_NESTING", "nesting"]

MAX_NESTING: Final = 100
"""Levels a command may nest: open parentheses and SEARCH's ``OR`` and ``NOT`` together.
Clients build searches a few levels deep; pymap's parser gives out past about 240."""

_TOKEN: Final = re.compile(
    rb"""
      (\()                                      # 1: a list opens
    | (\))                                      # 2: a list closes
    | "(?:[^"\\\r\n]|\\.)*"?                   # a quoted string, skipped
    | \{(\d{1,20})\+?\}\r?\n                    # 3: a literal's length; its bytes follow
    | (?<![^\ (])(?:OR|NOT)(?=[\ ()\r\n]|\Z)   # a search key's operator
    """,
    re.IGNORECASE | re.VERBOSE,
)


def nesting(command: bytes, cap: int = MAX_NESTING + 1) -> int:
    """The bound on how deeply ``command`` (its line, literals and later lines joined) nests;
    counting stops at ``cap``, so that a command of 30 000 ``(`` costs a hundred steps."""
    depth = deepest = operators = 0
    position = 0
    end = len(command)
    while position < end and deepest + operators < cap:
        match = _TOKEN.search(command, position)
        if match is None:
            break
        position = match.end()
        if match.group(1):
            depth += 1
            deepest = max(deepest, depth)
        elif match.group(2):
            depth = max(depth - 1, 0)
        elif match.group(3):
            position += int(match.group(3))  # the literal's bytes
        elif match.group(0)[:1] != b'"':
            operators += 1
    return deepest + operators
