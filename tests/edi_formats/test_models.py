"""The declaration models refuse what cannot be read and keep what rules must judge."""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from edi_formats.models import DUA, OE, Declaration, ImportSeries, Party, model_json
from tests.edi_formats.factories import full_dua, full_oe, minimal_dua
from validators.samples import sample_declaration

AS_OF = date(2025, 3, 3)
DECLARATION: TypeAdapter[DUA | OE] = TypeAdapter(Declaration)


@pytest.mark.parametrize("kind", ["dua", "oe"])
def test_json_round_trip_through_the_discriminated_union(kind: str) -> None:
    declaration = sample_declaration(kind, as_of=AS_OF)  # type: ignore[arg-type]
    again = DECLARATION.validate_json(declaration.model_dump_json())
    assert again == declaration
    assert type(again) is type(declaration)


@pytest.mark.parametrize(
    "declaration",
    [full_dua(3), minimal_dua(), full_oe(2), sample_declaration("dua", as_of=AS_OF)],
    ids=["full-dua", "minimal-dua", "full-oe", "sample"],
)
def test_a_pickled_declaration_is_the_same_declaration(declaration: DUA | OE) -> None:
    """Pickled as its JSON (cheaper than pydantic's pickling), read back equal, with the
    same decimals' scale and the same types."""
    again = pickle.loads(pickle.dumps(declaration, pickle.HIGHEST_PROTOCOL))
    assert type(again) is type(declaration)
    assert again == declaration
    assert again.model_dump_json() == declaration.model_dump_json()
    assert repr(again) == repr(declaration)
    assert model_json(again) == model_json(declaration) == declaration.model_dump_json()
    for part in declaration.series[:1]:
        assert pickle.loads(pickle.dumps(part)) == part


def test_a_models_json_is_its_own_however_many_are_asked() -> None:
    """``model_json`` keeps the last models' JSON by identity: never another model's, and
    the same text as ``model_dump_json`` before and after the memo forgets a model."""
    first = sample_declaration("dua", as_of=AS_OF, reference="A-1")
    assert model_json(first) == first.model_dump_json()
    for index in range(300):
        other = first.model_copy(update={"agent_reference": f"B-{index}"})
        assert model_json(other) == other.model_dump_json()
    assert model_json(first) == first.model_dump_json()
    large = full_dua(200)  # beyond what the memo keeps
    assert model_json(large) == model_json(large) == large.model_dump_json()


def test_a_pickle_is_validated_when_read() -> None:
    """A model built around validation (``model_construct``) is not read back as valid."""
    forged = sample_declaration("dua", as_of=AS_OF).model_copy(update={"office": "1"})
    with pytest.raises(ValidationError, match="office"):
        pickle.loads(pickle.dumps(forged))


def test_document_type_selects_the_model() -> None:
    data = sample_declaration("oe", as_of=AS_OF).model_dump(mode="json")
    data["document_type"] = "DUA"
    with pytest.raises(ValidationError):
        DECLARATION.validate_python(data)


def test_models_are_frozen_hashable_and_closed() -> None:
    declaration = sample_declaration("dua", as_of=AS_OF)
    with pytest.raises(ValidationError):
        declaration.office = "235"  # type: ignore[misc]
    assert hash(declaration) == hash(declaration.model_copy())
    data = declaration.model_dump()
    data["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        DUA.model_validate(data)


@pytest.mark.parametrize("bad", ["ACME\x00", "AC\x1bME", "ACME\x7f", "AC\x85ME", "A\x9fB"])
def test_control_characters_are_unreadable(bad: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        Party(doc_type="RUC", doc_number="20100047218", name=bad)  # type: ignore[arg-type]


def test_text_is_stripped_and_never_empty() -> None:
    party = Party(doc_type="RUC", doc_number="20100047218", name="  ACME S.A.  ")  # type: ignore[arg-type]
    assert party.name == "ACME S.A."
    with pytest.raises(ValidationError):
        Party(doc_type="RUC", doc_number="20100047218", name="   ")  # type: ignore[arg-type]


def test_rule_matters_stay_readable() -> None:
    """A short subpartida, a negative amount, regime 20 and modality 2-0 reach the rules."""
    dua = sample_declaration("dua", as_of=AS_OF)
    data = dua.model_dump()
    data["regime"] = "20"
    data["modality"] = {"code": "2-0"}
    data["series"][0]["subpartida"] = "8471"
    data["series"][0]["fob"] = Decimal("-1.005")
    data["importer"]["name"] = None
    odd = DUA.model_validate(data)
    assert (odd.regime, odd.modality.code, odd.series[0].subpartida) == ("20", "2-0", "8471")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subpartida", "84713000AB"),
        ("fob", "NaN"),
        ("fob", "1.00001"),
        ("origin_country", "PER"),
        ("packages", -1),
        ("number", 0),
        ("codes_7_24", ("2",)),
    ],
)
def test_unreadable_series_values(field: str, value: object) -> None:
    series = sample_declaration("dua", as_of=AS_OF).series[0].model_dump()
    series[field] = value
    with pytest.raises(ValidationError, match=field):
        ImportSeries.model_validate(series)


@pytest.mark.parametrize(
    ("field", "value"),
    [("office", "1180"), ("agent_reference", "REF WITH SPACE"), ("regime", "1")],
)
def test_unreadable_header_values(field: str, value: str) -> None:
    data = sample_declaration("oe", as_of=AS_OF).model_dump()
    data[field] = value
    with pytest.raises(ValidationError, match=field):
        OE.model_validate(data)


def test_json_schema_names_the_boxes() -> None:
    schema = DECLARATION.json_schema()
    text = str(schema)
    assert "casilla 7.38" in text and "CODI_ALMA" in text
    assert set(schema["discriminator"]["mapping"]) == {"DUA", "OE"}
