"""Paragraphs wrapped for an 80-column screen, as ``textwrap.fill`` wraps them, cheaply.

Every reply wraps a handful of paragraphs (the subject quoted, each finding, the channel's
meaning), and ``textwrap`` builds a ``TextWrapper``, translates and splits with regular
expressions for each one: a tenth of the CPU of composing an acceptance. The replies wrap
one shape only (words never broken, nor at hyphens; runs of whitespace as one space), for
which a greedy fill over the words gives the same lines (tested against ``textwrap`` on a
table and on random text). Paragraphs that recur in every reply (what each channel means)
are kept once wrapped.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from typing import Final

__all__ = ["hanging", "paragraph", "shorten"]

_CACHED: Final = 256
"""Wrapped paragraphs kept: the fixed texts of the replies, a few dozen."""


def paragraph(text: str, width: int, indent: str = "") -> str:
    """``text``'s words (any run of whitespace is one space) filled to ``width``, each line
    starting with ``indent``; a word longer than a line stands alone on its line.

    The same as ``textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
    subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)``.
    """
    words = text.split()
    if not words:
        return ""
    room = width - len(indent)
    lines: list[str] = []
    line = [words[0]]
    length = len(words[0])
    for word in words[1:]:
        if length + 1 + len(word) > room:
            lines.append(indent + " ".join(line))
            line = [word]
            length = len(word)
        else:
            line.append(word)
            length += 1 + len(word)
    lines.append(indent + " ".join(line))
    return "\n".join(lines)


@lru_cache(maxsize=_CACHED)
def hanging(text: str, width: int, indent: int) -> str:
    """``text`` as it is (its spaces kept), continued on lines indented by ``indent``.

    ``textwrap.fill(text, width, subsequent_indent=" " * indent, break_long_words=False,
    break_on_hyphens=False)``, kept once computed: the replies call it with a few fixed
    texts.
    """
    return textwrap.fill(
        text,
        width,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def shorten(text: str, width: int, placeholder: str = " ...") -> str:
    """``textwrap.shorten``: whitespace collapsed, cut at a word to ``width`` with
    ``placeholder``; the text as it is, collapsed, when it fits (the usual case)."""
    collapsed = " ".join(text.split())
    if len(placeholder.lstrip()) <= width and len(collapsed) <= width:
        return collapsed
    return textwrap.shorten(text, width, placeholder=placeholder)
