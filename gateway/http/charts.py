"""Bar charts as plain numbers for the SVG templates: no script, nothing fetched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "LATENCY_EDGES",
    "Bar",
    "LimitBar",
    "bars",
    "channel_shares",
    "latency_buckets",
    "limit_bars",
]


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


def latency_buckets(counts: Sequence[int]) -> list[tuple[str, float]]:
    """The answers within 1 s, 5 s, 30 s... of the 250, labelled: ``counts`` holds one
    number per edge of ``LATENCY_EDGES`` (each answer in the first that holds it) and one
    for those after the last."""
    if len(counts) != len(LATENCY_EDGES) + 1:
        raise ValueError(f"{len(LATENCY_EDGES) + 1} counts, not {len(counts)}")
    labels = [f"≤{edge:g} s" for edge in LATENCY_EDGES] + [f">{LATENCY_EDGES[-1]:g} s"]
    return [(label, float(count)) for label, count in zip(labels, counts, strict=True)]


@dataclass(frozen=True, slots=True)
class LimitBar:
    """A month's red share (``share``) with the limit fixed for it (``limit``) drawn across."""

    label: str
    share: float
    limit: float
    within: bool
    """The share keeps to the limit (a ceiling not passed, a floor reached)."""
    limit_text: str
    share_x: float
    limit_x: float
    """Of the chart's width (0..1): where the bar ends and where the limit's line stands."""


def limit_bars(items: Sequence[tuple[str, float, float, bool, str]]) -> list[LimitBar]:
    """(label, share, limit, within, the limit in words) -> bars on one scale: up to half
    again the largest of them, so a 15 % limit is not a sliver of a 0..100 % axis."""
    top = min(1.0, 1.5 * max((max(s, lim) for _, s, lim, _, _ in items), default=0)) or 1.0
    return [
        LimitBar(label, share, limit, within, text, min(1.0, share / top), min(1.0, limit / top))
        for label, share, limit, within, text in items
    ]
