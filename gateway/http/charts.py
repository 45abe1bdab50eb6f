"""Bar charts as plain numbers for the SVG templates: no script, nothing fetched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Bar", "bars", "channel_shares", "latency_buckets"]


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    fraction: float
    """Of the chart's largest value (0..1): the bar's length."""
    extra: float = 0.0
    """A second series on the same bar (rejections among the day's declarations)."""


def bars(items: Sequence[tuple[str, float]], extra: dict[str, float] | None = None) -> list[Bar]:
    top = max((value for _, value in items), default=0) or 1
    extra = extra or {}
    return [Bar(label, value, value / top, extra.get(label, 0.0) / top) for label, value in items]


def channel_shares(counts: Counter[tuple[str, str]]) -> list[tuple[str, dict[str, float]]]:
    """Per month, the share of each control channel among the numbered declarations."""
    months = sorted({month for month, _ in counts})
    shares = []
    for month in months:
        total = sum(counts[month, c] for c in ("verde", "naranja", "rojo")) or 1
        shares.append((month, {c: counts[month, c] / total for c in ("verde", "naranja", "rojo")}))
    return shares


LATENCY_EDGES = (1.0, 5.0, 30.0, 60.0, 300.0, 3600.0)


def latency_buckets(seconds: Iterable[float]) -> list[tuple[str, float]]:
    """How many answers came within 1 s, 5 s, 30 s... of the 250."""
    counts = Counter[str]()
    labels = [f"≤{edge:g} s" for edge in LATENCY_EDGES] + [f">{LATENCY_EDGES[-1]:g} s"]
    for value in seconds:
        for edge, label in zip(LATENCY_EDGES, labels, strict=False):
            if value <= edge:
                counts[label] += 1
                break
        else:
            counts[labels[-1]] += 1
    return [(label, float(counts[label])) for label in labels]
