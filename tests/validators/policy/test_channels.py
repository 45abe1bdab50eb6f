"""Channel selection without the store: mandatory red, relief, the draw and the red limits."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.reference import shipped_reference
from edi_formats.codes import GoodsState
from edi_formats.models import DUA, OE, ControlDocument, Modality
from edi_formats.responses import Channel
from tests.gateway.pipeline.helpers import declaration
from validators.policy.channels import (
    DEFAULT_RED_CEILING,
    ORANGE_SHARE,
    PROJECT_RED_SHARE,
    RED_CEILINGS,
    LimitKind,
    MonthCounts,
    RedLimit,
    mandatory_red,
    red_limit,
    risk_weight,
    select_channel,
)
from validators.rules.sources import INTA_PG01A_FROM

SEED = b"semilla de prueba"
AS_OF = date(2026, 11, 2)


def with_first_series(decl: DUA | OE, **changes: Any) -> DUA | OE:
    series = list(decl.series)
    series[0] = series[0].model_copy(update=changes)
    return type(decl).model_validate(decl.model_copy(update={"series": tuple(series)}).model_dump())


def draws(
    decl: DUA | OE, office: str, count: int, seed: bytes = SEED, as_of: date = AS_OF
) -> Counter[Channel]:
    return Counter(
        select_channel(
            decl, office=office, number=f"{office}-2026-10-{n:06d}", seed=seed, as_of=as_of
        ).channel
        for n in range(1, count + 1)
    )


@pytest.mark.parametrize("entity", ["02", "18", "25"])
def test_goods_under_mandatory_examination_by_control_document_go_red(entity: str):
    permit = ControlDocument(
        entity_code=entity, document_code="01", number="RD-0457", issued_on=date(2026, 10, 1)
    )
    decl = with_first_series(declaration(), control_documents=(permit,))
    assert set(draws(decl, "118", 50)) == {Channel.ROJO}
    decision = select_channel(
        decl, office="118", number="118-2026-10-000001", seed=SEED, as_of=AS_OF
    )
    assert decision.reason.startswith("reconocimiento físico obligatorio: serie 1")
    assert not decision.in_percentage


@pytest.mark.parametrize("subpartida", ["9303201000", "3604100000", "8418101000", "2939710000"])
def test_goods_under_mandatory_examination_by_subpartida_go_red(subpartida: str):
    decl = with_first_series(declaration(), subpartida=subpartida)
    assert set(draws(decl, "118", 50)) == {Channel.ROJO}


def test_a_documents_entity_with_unexamined_annexes_does_not_force_red():
    # DIGEMID (03) examines narcotics but not medicines: its document alone decides nothing.
    permit = ControlDocument(
        entity_code="03", document_code="08", number="RS-1", issued_on=date(2026, 10, 1)
    )
    decl = with_first_series(declaration(), control_documents=(permit,))
    assert mandatory_red(decl, "118", AS_OF, shipped_reference()) is None


def test_tprod_98_takes_goods_out_of_mandatory_examination():
    decl = with_first_series(declaration(), subpartida="8418101000", tprod="98")
    assert mandatory_red(decl, "118", AS_OF, shipped_reference()) is None


def test_mandatory_examination_follows_the_seed_dates():
    arms = with_first_series(declaration(), subpartida="9303201000")
    assert mandatory_red(arms, "118", date(2004, 7, 23), shipped_reference()) is not None
    assert mandatory_red(arms, "118", date(2004, 7, 22), shipped_reference()) is None


@pytest.mark.parametrize("code", ["20", "21"])
def test_box_7_24_codes_20_and_21_are_examined(code: str):
    decl = with_first_series(declaration(), codes_7_24=(code,))
    assert set(draws(decl, "235", 30)) == {Channel.ROJO}
    assert mandatory_red(decl, "235", date(2010, 9, 26), shipped_reference()) is None  # before 004


def test_relief_shipments_get_documentary_review_only():
    relief = declaration().model_copy(update={"modality": Modality(code="0-2", category="a")})
    assert set(draws(relief, "190", 100)) == {Channel.NARANJA}
    decision = select_channel(
        relief, office="190", number="190-2026-10-000001", seed=SEED, as_of=AS_OF
    )
    assert not decision.in_percentage


def test_the_draw_is_reproducible_and_depends_on_the_seed():
    decl = declaration()

    def run(seed: bytes) -> list[Channel]:
        return [
            select_channel(
                decl, office="118", number=f"118-2026-10-{n:06d}", seed=seed, as_of=AS_OF
            ).channel
            for n in range(1, 300)
        ]

    assert run(SEED) == run(SEED)
    assert run(SEED) != run(b"otra")


@pytest.mark.parametrize("office", ["118", "172", "190"])
def test_without_month_counts_the_draw_stays_under_the_office_ceiling(office: str):
    count = 4000
    shares = draws(declaration(), office, count)
    ceiling = float(RED_CEILINGS.get(office, DEFAULT_RED_CEILING))
    red = shares[Channel.ROJO] / count
    # A plain declaration weighs 0.5 of the ceiling; allow sampling noise around it.
    assert ceiling * 0.4 < red < ceiling * 0.6
    assert abs(shares[Channel.NARANJA] / count - float(ORANGE_SHARE)) < 0.04
    assert shares[Channel.VERDE] > 0


def test_risk_factors_raise_the_weight_up_to_the_full_ceiling():
    plain = declaration()
    used = with_first_series(plain, state=GoodsState.USED)
    assert risk_weight(plain) == Decimal("0.5")
    assert risk_weight(used) > risk_weight(plain)
    assert risk_weight(used) <= 1


@pytest.mark.parametrize(
    ("office", "last_month", "days", "expected"),
    [
        ("118", 0, 31, RedLimit(LimitKind.AT_MOST, Decimal("0.15"))),
        ("235", 9000, 30, RedLimit(LimitKind.AT_MOST, Decimal("0.15"))),
        ("172", 3, 28, RedLimit(LimitKind.AT_MOST, Decimal("0.30"))),
        ("154", 310, 31, RedLimit(LimitKind.AT_MOST, Decimal("0.50"))),
        ("154", 309, 31, RedLimit(LimitKind.MORE_THAN, Decimal("0.50"))),
        ("190", 0, 30, RedLimit(LimitKind.MORE_THAN, Decimal("0.50"))),
    ],
)
def test_the_red_limit_of_004_vii_a_45(office: str, last_month: int, days: int, expected: RedLimit):
    limit = red_limit(office, last_month, days)
    assert limit == expected
    assert RedLimit.decode(limit.encode()) == limit


def test_a_red_draw_over_the_ceiling_becomes_naranja():
    limit = RedLimit(LimitKind.AT_MOST, Decimal("0.15"))
    full = MonthCounts(base=100, red=15)  # one more red would be 16 of 101
    used = with_first_series(declaration(), state=GoodsState.USED)
    decisions = [
        select_channel(
            used, office="118", number=f"118-2026-11-{n:06d}", seed=SEED, as_of=AS_OF,
            quota=(limit, full),
        )
        for n in range(1, 200)
    ]  # fmt: skip
    assert {d.channel for d in decisions} == {Channel.NARANJA, Channel.VERDE}
    assert any("tope mensual alcanzado" in d.reason for d in decisions)
    assert all(d.in_percentage for d in decisions)


def test_a_floor_unmet_turns_the_draw_red():
    limit = RedLimit(LimitKind.MORE_THAN, Decimal("0.50"))
    short = MonthCounts(base=9, red=5)  # not red: 5 of 10, not more than half
    decision = select_channel(
        declaration(), office="190", number="190-2026-11-000010", seed=SEED, as_of=AS_OF,
        quota=(limit, short),
    )  # fmt: skip
    assert decision.channel is Channel.ROJO


@settings(max_examples=60, deadline=None)
@given(
    office=st.sampled_from(["118", "172", "154", "190"]),
    busy=st.booleans(),
    steps=st.integers(min_value=1, max_value=300),
    seed=st.binary(min_size=1, max_size=16),
)
def test_the_share_holds_after_every_declaration(office: str, busy: bool, steps: int, seed: bytes):
    limit = red_limit(office, 400 if busy else 100, 30)
    counts = MonthCounts()
    decl = declaration()
    for n in range(1, steps + 1):
        decision = select_channel(
            decl, office=office, number=f"{office}-2026-11-{n:06d}", seed=seed, as_of=AS_OF,
            quota=(limit, counts),
        )  # fmt: skip
        red = decision.channel is Channel.ROJO
        counts = MonthCounts(base=counts.base + 1, red=counts.red + red)
        if limit.kind is LimitKind.AT_MOST:
            assert counts.red <= limit.share * counts.base
        else:
            assert counts.red > limit.share * counts.base


def test_before_inta_pg01a_relief_and_quota_do_not_apply():
    relief = declaration().model_copy(update={"modality": Modality(code="0-2", category="a")})
    before = INTA_PG01A_FROM.replace(day=INTA_PG01A_FROM.day - 1)
    channels = draws(relief, "154", 200, as_of=before)
    assert channels[Channel.VERDE] > 0
    decision = select_channel(
        relief, office="154", number="154-2010-10-000001", seed=SEED, as_of=before
    )
    assert not decision.in_percentage


def test_narcotics_are_examined_but_not_psychotropics():
    """Seed 003 VII.A 5.1.5: "Para el ingreso de estupefacientes o de medicamentos que los
    contienen: ... c) Se sujetan a reconocimiento físico obligatorio." The mandatory
    examination is the narcotics' (cocaine, 2939.71); barbiturates (2933.53), psychotropics of
    the same annex, take the risk draw like other goods."""
    cocaine = with_first_series(declaration(), subpartida="2939710000")
    assert mandatory_red(cocaine, "118", AS_OF, shipped_reference()) is not None
    barbiturates = with_first_series(declaration(), subpartida="2933530000")
    assert mandatory_red(barbiturates, "118", AS_OF, shipped_reference()) is None
    assert len(set(draws(barbiturates, "118", 200))) > 1


def test_the_red_shares_of_inta_pg01a_are_for_the_dua_from_2010_only():
    """Seed 004 VII.A.45: "Los porcentajes de asignación de declaraciones a canal rojo son los
    siguientes: a) Intendencias de Aduana Marítima y Aérea del Callao: Hasta el 15% ...
    b) Intendencia de Aduana de Tacna: Hasta el 30% ..." - an import procedure of 2010. An O/E,
    or a DUA of 2005 at Tacna, is drawn under the project's share, and the reason says so."""
    oe = declaration(kind="oe")
    decision = select_channel(oe, office="172", number="172-2026-40-000001", seed=SEED, as_of=AS_OF)
    assert "tope rojo del proyecto" in decision.reason and not decision.in_percentage
    dua = declaration()
    old = select_channel(
        dua, office="172", number="172-2005-10-000001", seed=SEED, as_of=date(2005, 3, 3)
    )
    assert f"{PROJECT_RED_SHARE:.0%}" in old.reason and "del proyecto" in old.reason
    now = select_channel(dua, office="172", number="172-2026-10-000001", seed=SEED, as_of=AS_OF)
    assert "INTA-PG.01-A VII.A.45 30%" in now.reason and now.in_percentage
    assert "seed" not in now.reason + old.reason
    count = 4000
    share = draws(oe, "172", count)[Channel.ROJO] / count
    assert float(PROJECT_RED_SHARE) * 0.4 < share < float(PROJECT_RED_SHARE) * 0.6
