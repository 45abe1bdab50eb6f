"""Channel selection: mandatory red, relief shipments, and the reproducible risk draw."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from edi_formats.codes import GoodsState
from edi_formats.models import DUA, OE, ControlDocument, Modality
from edi_formats.responses import Channel
from gateway.pipeline.channels import (
    DEFAULT_RED_CEILING,
    ORANGE_SHARE,
    RED_CEILINGS,
    risk_weight,
    select_channel,
)
from tests.gateway.pipeline.helpers import declaration

SEED = b"semilla de prueba"


def with_first_series(decl: DUA | OE, **changes: Any) -> DUA | OE:
    series = list(decl.series)
    series[0] = series[0].model_copy(update=changes)
    return type(decl).model_validate(decl.model_copy(update={"series": tuple(series)}).model_dump())


def draws(decl: DUA | OE, office: str, count: int, seed: bytes = SEED) -> Counter[Channel]:
    return Counter(
        select_channel(decl, office=office, number=f"{office}-2026-10-{n:06d}", seed=seed).channel
        for n in range(1, count + 1)
    )


@pytest.mark.parametrize("entity", ["02", "18", "25"])
def test_goods_under_mandatory_examination_by_control_document_go_red(entity: str):
    permit = ControlDocument(
        entity_code=entity, document_code="01", number="RD-0457", issued_on=date(2026, 10, 1)
    )
    decl = with_first_series(declaration(), control_documents=(permit,))
    assert set(draws(decl, "118", 50)) == {Channel.ROJO}
    decision = select_channel(decl, office="118", number="118-2026-10-000001", seed=SEED)
    assert decision.reason.startswith("reconocimiento físico obligatorio: serie 1")


@pytest.mark.parametrize("subpartida", ["9303201000", "3604100000", "8418101000", "2939710000"])
def test_goods_under_mandatory_examination_by_subpartida_go_red(subpartida: str):
    decl = with_first_series(declaration("oe"), subpartida=subpartida)
    assert set(draws(decl, "118", 50)) == {Channel.ROJO}


def test_relief_shipments_get_documentary_review_only():
    relief = declaration().model_copy(update={"modality": Modality(code="0-2", category="a")})
    assert set(draws(relief, "190", 100)) == {Channel.NARANJA}


def test_the_draw_is_reproducible_and_depends_on_the_seed():
    decl = declaration()
    first = [
        select_channel(decl, office="118", number=f"118-2026-10-{n:06d}", seed=SEED).channel
        for n in range(1, 300)
    ]
    again = [
        select_channel(decl, office="118", number=f"118-2026-10-{n:06d}", seed=SEED).channel
        for n in range(1, 300)
    ]
    other = [
        select_channel(decl, office="118", number=f"118-2026-10-{n:06d}", seed=b"otra").channel
        for n in range(1, 300)
    ]
    assert first == again
    assert first != other


@pytest.mark.parametrize("office", ["118", "172", "190"])
def test_the_red_share_stays_under_the_office_ceiling(office: str):
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
