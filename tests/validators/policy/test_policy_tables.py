"""The answering step's customs policy without a store: tables of facts in, decisions out."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from config import load_offices
from edi_formats.codes import PartyDocType
from edi_formats.models import DUA
from edi_formats.responses import Channel
from validators.engine import RuleContext
from validators.policy.channels import (
    ChannelDecision,
    ChannelInputs,
    LimitKind,
    MonthCount,
    MonthCounts,
    MonthOf,
    RedLimit,
    channel_inputs,
    choose_channel,
    counted,
    month_of,
    red_limit,
    select_channel,
)
from validators.policy.dispatch import KnownFacts, left_behind, needs_history, wanted
from validators.policy.duplicates import AcceptedOnFile, Repeat, Taken, duplicate
from validators.policy.numbering import NumberingExhausted, Series, series_of
from validators.policy.sender import not_an_agent
from validators.rules.pipeline import document_fingerprint
from validators.samples import sample_declaration

AS_OF = date(2026, 11, 2)
RECEIVED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
SEED = b"tabla"


def plain() -> DUA:
    made = sample_declaration("dua", as_of=AS_OF, agent_code="4821", reference="T-1")
    assert isinstance(made, DUA)
    return made


def inputs(office: str = "118", weight: str = "0.5", **changes: object) -> ChannelInputs:
    values: dict[str, object] = {
        "office": office,
        "mandatory": None,
        "relief": False,
        "weight": Decimal(weight),
        "shares": True,
    }
    values.update(changes)
    return ChannelInputs(**values)  # type: ignore[arg-type]


AT_15 = RedLimit(LimitKind.AT_MOST, Decimal("0.15"))
OVER_50 = RedLimit(LimitKind.MORE_THAN, Decimal("0.50"))


@pytest.mark.parametrize(
    ("given", "quota", "expected"),
    [
        # mandatory examination: rojo, outside the percentage, whatever the month
        (inputs(mandatory="serie 1: armas"), (AT_15, MonthCounts(100, 15)), (Channel.ROJO, False)),
        # relief shipment: naranja, outside the percentage
        (inputs(relief=True), (AT_15, MonthCounts(0, 0)), (Channel.NARANJA, False)),
        # a 15 % ceiling already reached: never rojo by the draw
        (inputs(weight="1"), (AT_15, MonthCounts(100, 15)), None),
        # a floor of more than 50 % unmet: rojo whatever the draw
        (inputs(), (OVER_50, MonthCounts(10, 2)), (Channel.ROJO, True)),
    ],
)
def test_the_channel_from_inputs_and_month(
    given: ChannelInputs,
    quota: tuple[RedLimit, MonthCounts],
    expected: tuple[Channel, bool] | None,
) -> None:
    for correlative in range(1, 40):
        decision = choose_channel(
            given, number=f"118-2026-10-{correlative:06d}", seed=SEED, quota=quota
        )
        if expected is None:
            assert decision.channel is not Channel.ROJO
            assert decision.in_percentage
        else:
            assert (decision.channel, decision.in_percentage) == expected


def test_choose_channel_is_select_channel_split_in_two() -> None:
    declaration = plain()
    split = channel_inputs(declaration, office="118", as_of=AS_OF)
    for correlative in range(1, 30):
        number = f"118-2026-10-{correlative:06d}"
        quota = (AT_15, MonthCounts(correlative * 3, correlative // 3))
        whole = select_channel(
            declaration, office="118", number=number, seed=SEED, as_of=AS_OF, quota=quota
        )
        assert choose_channel(split, number=number, seed=SEED, quota=quota) == whole


@pytest.mark.parametrize(
    ("office", "numbered", "days", "expected"),
    [
        ("118", 0, 31, RedLimit(LimitKind.AT_MOST, Decimal("0.15"))),
        ("172", 0, 31, RedLimit(LimitKind.AT_MOST, Decimal("0.30"))),
        ("019", 310, 31, RedLimit(LimitKind.AT_MOST, Decimal("0.50"))),
        ("019", 309, 31, RedLimit(LimitKind.MORE_THAN, Decimal("0.50"))),
    ],
)
def test_the_red_limit_from_last_month(
    office: str, numbered: int, days: int, expected: RedLimit
) -> None:
    assert red_limit(office, numbered, days) == expected


@pytest.mark.parametrize(
    ("decision", "count"),
    [
        (ChannelDecision(Channel.ROJO, "x", True), MonthCount(base=1, red=1)),
        (ChannelDecision(Channel.VERDE, "x", True), MonthCount(base=1)),
        (ChannelDecision(Channel.ROJO, "x", False), MonthCount(mandatory_red=1)),
        (ChannelDecision(Channel.NARANJA, "x", False), MonthCount()),
    ],
)
def test_how_a_decision_counts_in_its_month(decision: ChannelDecision, count: MonthCount) -> None:
    assert counted(decision) == count


def test_the_month_is_the_lima_month_of_the_receipt() -> None:
    late = datetime(2026, 12, 1, 4, 59, tzinfo=UTC)  # still 30 November in Lima
    assert month_of(inputs(), late, "10") == MonthOf("118", 2026, 11, "10")
    assert month_of(inputs(shares=False), late, "10") is None


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (datetime(1998, 1, 1, 4, 59, tzinfo=UTC), Series("118", 1997, "10")),
        (datetime(1998, 1, 1, 5, 0, tzinfo=UTC), Series("118", 1998, "10")),
    ],
)
def test_the_series_is_the_lima_year(received: datetime, expected: Series) -> None:
    assert series_of("118", received, "10") == expected


def test_a_series_numbers_six_digits_and_no_more() -> None:
    series = Series("118", 1997, "10")
    assert str(series.number(1)) == "118-1997-10-000001"
    assert str(series.number(999_999)) == "118-1997-10-999999"
    with pytest.raises(NumberingExhausted):
        series.number(1_000_000)


def test_dup_decisions() -> None:
    declaration = plain()
    same = document_fingerprint(declaration)
    assert duplicate(declaration, same, None) is None
    on_file = AcceptedOnFile("118-2026-10-000004", "verde", same, RECEIVED)
    assert duplicate(declaration, same, on_file) == Repeat("118-2026-10-000004", "verde")
    legacy = AcceptedOnFile("118-2026-10-000004", "verde", None, None)
    assert isinstance(duplicate(declaration, "otro", legacy), Repeat)
    taken = duplicate(declaration, "otro", on_file)
    assert isinstance(taken, Taken)
    assert taken.finding.rule_id == "DUP" and "118-2026-10-000004" in taken.finding.message
    assert "02/11/2026" in taken.finding.message


def test_the_facts_a_dua_without_ruc_needs_and_leaves() -> None:
    declaration = plain()
    importer = declaration.importer.model_copy(
        update={"doc_type": PartyDocType.DNI, "doc_number": "12345678"}
    )
    noruc = declaration.model_copy(update={"importer": importer})
    assert needs_history(noruc) and not needs_history(declaration)
    asked = wanted(noruc, AS_OF)
    assert asked.importer == (PartyDocType.DNI.value, "12345678")
    left = left_behind(noruc, RECEIVED)
    assert left.import_record is not None
    assert left.import_record.fob_cents == int(noruc.totals.fob * 100)
    assert left.import_record.year == 2026
    facts = KnownFacts(
        imports=KnownFacts.history(2026, [150_000, 250_000]), importer=asked.importer
    )
    history = facts.imports_in_year(*(asked.importer or ("", "")), 2026)
    assert history.fobs == (Decimal(1500), Decimal(2500))
    assert facts.imports_in_year("6", "20100000001", 2026).count == 0


def test_policy_values_survive_a_pickle_round_trip() -> None:
    facts = KnownFacts(uses={("02", "01", "A-1"): "118-2026-10-000001"}, overdue={"urgente": ()})
    split = channel_inputs(plain(), office="118", as_of=AS_OF)
    for value in (facts, split, left_behind(plain(), RECEIVED), wanted(plain(), AS_OF)):
        assert pickle.loads(pickle.dumps(value)) == value


@pytest.mark.parametrize(
    ("as_of", "cited"),
    [(date(1998, 3, 2), "Teledespacho"), (AS_OF, "INTA-PG.01-A")],
)
def test_a_sender_that_is_no_agent_is_told_why_under_the_norm_in_force(
    as_of: date, cited: str
) -> None:
    context = RuleContext(as_of=as_of, offices=load_offices())
    finding = not_an_agent(plain(), context)
    assert finding.rule_id == "TD-SENDER" and finding.severity == "error"
    assert "no es de un despachador de aduana" in finding.message
    assert cited in finding.citation
