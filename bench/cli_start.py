"""Benchmark (not a test): how long ``teledispatch`` takes to start, per command.

Each round runs, in alternation, the bare interpreter (``python -c pass``: the floor no
Python command can go under) and ``teledispatch --help``, ``sample dua`` and ``validate`` of
that sample, as separate processes, and keeps the median wall time of each. The last line is
``ratio: X.XX``: the interpreter's start divided by the slowest of the three quick commands
(1.00 would be a command that costs nothing beyond starting Python).

    python bench/cli_start.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("teledispatch")


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / "dua.txt"
        with sample.open("wb") as out:
            subprocess.run([str(SCRIPT), "sample", "dua"], stdout=out, check=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "teledispatch --help": [str(SCRIPT), "--help"],
            "teledispatch sample dua": [str(SCRIPT), "sample", "dua"],
            "teledispatch validate": [str(SCRIPT), "validate", str(sample)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                times[name].append(timed(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:28s} {value * 1000:7.0f} ms (median of {args.rounds})")
    baseline = medians.pop("python -c pass")
    print(f"ratio: {baseline / max(medians.values()):.2f}")


if __name__ == "__main__":
    main()
