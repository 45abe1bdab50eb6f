"""Benchmark (not a test): MB/s splitting an EDIFACT interchange, our lexer vs pydifact's.

Both split the same text into segments, elements and components, release characters undone:
``edi_formats.edifact.lexer.segments`` against pydifact's ``Tokenizer`` plus ``Parser`` (the
tokenizer alone yields tokens, not segments). The interchange is the sample DUA with
``--series`` customs items, every tenth description holding released separators. Writing the
segments back (``lexer.serialize`` against pydifact's ``Serializer``) is printed too. Rounds
alternate between the two so that both see the same machine. The last line is
``ratio: X.XX``: our reading MB/s divided by pydifact's.

    python bench/edifact_read.py [--rounds 5] [--series 2000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date

from pydifact.control.characters import Characters
from pydifact.parser import Parser, TokenIterator
from pydifact.segments import Segment
from pydifact.serializer import Serializer
from pydifact.tokenizer import Tokenizer

from edi_formats.codec import WireFormat, render_declaration
from edi_formats.edifact.lexer import WRITE_CHARS, segments, serialize
from validators.samples import sample_declaration


def _interchange(series: int) -> str:
    declaration = sample_declaration("dua", as_of=date(1997, 3, 3), series_count=series)
    items = [
        item.model_copy(update={"description": f"LOTE {index}: CAJAS + BOLSAS 'A'?"})
        if index % 10 == 0
        else item
        for index, item in enumerate(declaration.series)
    ]
    declaration = declaration.model_copy(update={"series": tuple(items)})
    return render_declaration(declaration, WireFormat.EDIFACT).decode("latin-1")


def ours(text: str) -> int:
    return sum(1 for _ in segments(text, WRITE_CHARS, 9))


def theirs(text: str) -> int:
    characters = Characters()  # type: ignore[no-untyped-call]
    tokens = TokenIterator(Tokenizer().get_tokens(text[9:], characters))
    return sum(1 for _ in Parser().convert_tokens_to_raw_segments(tokens))


def _write_rates(text: str) -> tuple[float, float]:
    """MB/s writing the same segments back: ``lexer.serialize`` and pydifact's Serializer."""
    parsed = [
        (segment.tag, [tuple(element) for element in segment.elements[1:]])
        for segment in segments(text, WRITE_CHARS, 9)
    ]
    start = time.perf_counter()
    written = serialize(parsed)
    ours_rate = len(written) / (time.perf_counter() - start) / 1e6
    pieces = [
        Segment(tag, *[list(element) if len(element) > 1 else element[0] for element in elements])
        for tag, elements in parsed
    ]
    start = time.perf_counter()
    written = Serializer().serialize(pieces, with_una_header=True, break_lines=True)
    return ours_rate, len(written) / (time.perf_counter() - start) / 1e6


def _rate(split: Callable[[str], int], text: str) -> tuple[float, int]:
    start = time.perf_counter()
    count = split(text)
    elapsed = time.perf_counter() - start
    return len(text.encode("latin-1")) / elapsed / 1e6, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--series", type=int, default=2000)
    args = parser.parse_args()
    text = _interchange(args.series)
    print(f"interchange: {len(text) / 1e6:.2f} MB, {args.series} customs items")
    best = {"lexer": 0.0, "pydifact": 0.0, "lexer write": 0.0, "pydifact write": 0.0}
    counts: dict[str, int] = {}
    for round_number in range(1, args.rounds + 1):
        for name, split in (("lexer", ours), ("pydifact", theirs)):
            rate, counts[name] = _rate(split, text)
            best[name] = max(best[name], rate)
            print(f"round {round_number}: {name:8} {rate:6.2f} MB/s ({counts[name]} segments)")
        write_ours, write_theirs = _write_rates(text)
        best["lexer write"] = max(best["lexer write"], write_ours)
        best["pydifact write"] = max(best["pydifact write"], write_theirs)
    if counts["lexer"] != counts["pydifact"]:
        raise SystemExit(f"the two split differently: {counts}")
    print(
        f"writing, best: lexer {best['lexer write']:.2f} MB/s, "
        f"pydifact {best['pydifact write']:.2f} MB/s"
    )
    print(f"best: lexer {best['lexer']:.2f} MB/s, pydifact {best['pydifact']:.2f} MB/s")
    print(f"ratio: {best['lexer'] / best['pydifact']:.2f}")


if __name__ == "__main__":
    main()
