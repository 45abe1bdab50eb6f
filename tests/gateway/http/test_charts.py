"""The charts' numbers: bars on one scale, limits drawn on the same scale as the shares."""

from __future__ import annotations

import pytest

from gateway.http.charts import latency_buckets, limit_bars


def test_limits_share_the_bars_scale_up_to_half_again_the_largest() -> None:
    under, over = limit_bars(
        [("118 2026-11 r10", 0.10, 0.15, True, "hasta 15% de rojo en el mes"),
         ("172 2026-11 r10", 0.30, 0.15, False, "hasta 15% de rojo en el mes")]
    )  # fmt: skip
    assert over.share_x == pytest.approx(0.30 / 0.45)
    assert over.limit_x == under.limit_x == pytest.approx(0.15 / 0.45)
    assert under.share_x == pytest.approx(0.10 / 0.45)
    assert (under.within, over.within) == (True, False)


def test_limit_bars_never_pass_the_axis_and_empty_months_draw_nothing() -> None:
    (full,) = limit_bars([("000 1997-03 r10", 1.0, 0.15, False, "hasta 15% de rojo en el mes")])
    assert (full.share_x, full.limit_x) == (1.0, 0.15)
    (empty,) = limit_bars([("000 1997-03 r10", 0.0, 0.0, True, "")])
    assert (empty.share_x, empty.limit_x) == (0.0, 0.0)
    assert limit_bars([]) == []


def test_answer_time_buckets_are_labelled_by_their_edges() -> None:
    labelled = latency_buckets([2, 1, 0, 0, 0, 0, 1])
    assert labelled[0] == ("≤1 s", 2.0) and labelled[1] == ("≤5 s", 1.0)
    assert labelled[-1] == (">3600 s", 1.0)
    with pytest.raises(ValueError, match="7 counts"):
        latency_buckets([1, 2])
