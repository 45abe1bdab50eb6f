"""Sequence sets as spans (``gateway.imap.spans``): the numbers pymap's ``flatten`` names."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from pymap.parsing.specials import SequenceSet
from pymap.parsing.specials.sequenceset import MaxValue

from gateway.imap.spans import Spans, spans_of

_NUMBER = st.integers(min_value=1, max_value=40)
_ELEMENT = st.one_of(
    _NUMBER,
    st.builds(MaxValue),
    st.tuples(st.one_of(_NUMBER, st.builds(MaxValue)), st.one_of(_NUMBER, st.builds(MaxValue))),
)


@given(st.lists(_ELEMENT, min_size=1, max_size=8), st.integers(min_value=0, max_value=30))
def test_spans_name_what_flatten_names(elements: list[object], maximum: int) -> None:
    seq_set = SequenceSet(elements)  # type: ignore[arg-type]
    named = seq_set.flatten(maximum)
    spans = spans_of(seq_set, maximum)
    assert {n for low, high in spans for n in range(low, high + 1)} == named
    assert all(high + 1 < low for (_, high), (low, _) in pairwise(spans))
    member = Spans(seq_set, maximum)
    assert [n for n in range(0, 45) if n in member] == sorted(named)


def test_a_set_written_many_times_over_is_one_span() -> None:
    seq_set = SequenceSet([(1, MaxValue())] * 6000 + [7, (3, 9)])
    assert spans_of(seq_set, 10_000) == [(1, 10_000)]
