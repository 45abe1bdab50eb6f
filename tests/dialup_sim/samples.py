"""Test data: English-like mail text and incompressible bytes, same every run."""

from __future__ import annotations

import random

_SENTENCE = (
    "the customs agent sends a declaration to the office and the mail server answers "
    "with the number of the declaration and the control channel or with the reasons "
    "why it was rejected by the rules of the regulation in force on that date"
)
_WORDS = _SENTENCE.split(" ")


def mail_text(size: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out: list[str] = []
    length = 0
    while length < size:
        line = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 12))) + "\r\n"
        out.append(line)
        length += len(line)
    return "".join(out).encode("ascii")[:size]


def random_bytes(size: int, seed: int = 11) -> bytes:
    return random.Random(seed).randbytes(size)
