"""NUMBER, DUP and CH-ASSIGN are no-ops in the engine: the catalog names what enforces them,
and these tests hold the pipeline to it (the behaviour itself: test_worker, test_quota)."""

from __future__ import annotations

import importlib
import inspect
from datetime import date
from typing import Any

import pytest

from config.reference import shipped_reference
from edi_formats.responses import Channel
from gateway.pipeline import commit, core, quota
from tests.gateway.pipeline.helpers import declaration
from validators.policy.channels import select_channel
from validators.rules import CATALOG
from validators.rules.pipeline import ENFORCED_BY


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise LookupError(dotted)


@pytest.mark.parametrize("rule_id", sorted(ENFORCED_BY))
def test_each_store_backed_rule_names_functions_that_exist(rule_id: str) -> None:
    assert rule_id in CATALOG.ids()
    for dotted in ENFORCED_BY[rule_id]:
        assert callable(_resolve(dotted)), dotted
    for version in CATALOG.versions(rule_id):
        assert "gateway.pipeline" in version.title, version.title


def test_the_answering_step_calls_what_the_catalog_names() -> None:
    decided = inspect.getsource(core)
    committed = inspect.getsource(commit)
    assert core.duplicate is _resolve("validators.policy.duplicates.duplicate")
    assert "duplicate(declaration, fingerprint" in decided  # DUP, from the answer on file
    assert "if not outcome.accepted:" in decided  # NUMBER: no number for a rejection
    assert "series_of(" in decided  # NUMBER: the series, taken at commit
    assert commit.take_in_series is _resolve("gateway.pipeline.numbering.take_in_series")
    assert "take_in_series(" in committed  # NUMBER
    assert "answering.recorded_answer(" in committed  # DUP: still the answer on file
    assert commit.channel_for is _resolve("gateway.pipeline.quota.channel_for")
    assert "channel_for(" in committed  # CH-ASSIGN
    assert quota.choose_channel is _resolve("validators.policy.channels.choose_channel")
    assert _resolve("validators.policy.channels.select_channel") is select_channel


def test_ch_assign_is_enforced_by_select_channel() -> None:
    """Seed 003 VII.A 3.1 b: arms "Se someten a reconocimiento físico obligatorio"."""
    decl = declaration()
    series = list(decl.series)
    series[0] = series[0].model_copy(update={"subpartida": "9303201000"})
    arms = type(decl).model_validate(decl.model_copy(update={"series": tuple(series)}).model_dump())
    decision = select_channel(
        arms,
        office="118",
        number="118-2026-10-000001",
        seed=b"s",
        as_of=date(2026, 11, 2),
        reference=shipped_reference(),
    )
    assert decision.channel is Channel.ROJO
