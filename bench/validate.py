"""Benchmark (not a test): how many 10-series DUAs the rule engine validates per second.

Runs the engine in process on a valid sample, as of a date when every rule of the catalog is
in force. The last line is ``ratio: X.XX``: declarations per second divided by 1000.

    python bench/validate.py [--seconds 3] [--series 10]
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from config import load_offices
from validators.engine import RuleContext, validate
from validators.samples import sample_declaration

AS_OF = date(2025, 3, 3)


def measure(seconds: float, series: int) -> float:
    """Declarations validated per second over about ``seconds``."""
    ctx = RuleContext(as_of=AS_OF, offices=load_offices(), addressed_office="118")
    declaration = sample_declaration("dua", as_of=AS_OF, series_count=series)
    assert validate(declaration, ctx) == [], "the benchmark sample must be valid"
    for _ in range(200):  # warm up caches
        validate(declaration, ctx)
    done = 0
    batch = 500
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            validate(declaration, ctx)
        done += batch
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--series", type=int, default=10)
    args = parser.parse_args()
    rate = measure(args.seconds, args.series)
    print(f"validated {args.series}-series DUAs: {rate:,.0f} declarations/s")
    print(f"ratio: {rate / 1000:.2f}")


if __name__ == "__main__":
    main()
