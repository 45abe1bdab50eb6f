"""Padded parameter lists: few sizes, and the same set of values as asked."""

from __future__ import annotations

import pytest

from mailboxes.fixed_lists import padded, parameters, placeholders


@pytest.mark.parametrize(
    ("count", "size"), [(1, 1), (2, 2), (3, 4), (4, 4), (5, 8), (200, 256), (256, 256)]
)
def test_a_list_is_padded_to_the_next_power_of_two_with_its_last_value(
    count: int, size: int
) -> None:
    values = list(range(count))
    result = padded(values)
    assert len(result) == size
    assert result[:count] == values
    assert set(result[count:]) <= {values[-1]}


def test_parameters_and_placeholders_name_the_same_slots() -> None:
    bound = parameters(["118", "235", "046"], "c")
    assert bound == {"c0": "118", "c1": "235", "c2": "046", "c3": "046"}
    assert [p.key for p in placeholders(len(bound), "c")] == list(bound)
