"""The reference tables: the shipped ones, their lookups, replacements and the official list."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import load_settings
from config.reference import (
    AnnexKind,
    Flow,
    ReferenceDataError,
    ReferenceFiles,
    load_official_goods_list,
    load_reference,
    shipped_reference,
)

SEED_003_ANNEX_A = {
    "02", "03", "04", "05", "06", "07", "08", "11", "12", "14", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "99",
}  # fmt: skip
SEED_003_ANNEX_B = {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "99"}


def test_the_shipped_codes_are_annexes_a_and_b_of_seed_003() -> None:
    reference = shipped_reference()
    assert set(reference.entities) == SEED_003_ANNEX_A
    assert set(reference.documents) == SEED_003_ANNEX_B
    assert reference.entities["02"].short_name == "DICSCAMEC"
    assert reference.entity_label("17") == "17 (DIQPF)"
    assert reference.documents["09"].name == "Permiso"


def test_every_annex_names_known_entities_and_only_prohibited_ones_none() -> None:
    reference = shipped_reference()
    for annex in reference.annexes.values():
        assert annex.entities <= set(reference.entities)
        assert bool(annex.entities) is (annex.kind is AnnexKind.RESTRICTED)
    assert reference.annexes["27"].flows == {Flow.IMPORT}
    assert reference.annexes["28"].flows == {Flow.EXPORT}
    assert reference.annexes["3"].offices_for(Flow.IMPORT) == {"118", "235"}


def test_restricted_goods_by_prefix_and_flow() -> None:
    reference = shipped_reference()
    pesticides = reference.restricted_for("3808911000", Flow.IMPORT)
    assert [(row.prefix, row.annex.id) for row in pesticides] == [("3808", "15"), ("3808", "19")]
    assert reference.restricted_for("3808911000", Flow.EXPORT) == ()
    assert [row.annex.id for row in reference.restricted_for("0106120000", Flow.IMPORT)] == [
        "20",
        "10",
    ]  # shortest prefix first: live animals (01), then cetaceans (010612)
    assert reference.restricted_for("8471300000", Flow.IMPORT) == ()
    (coca,) = reference.restricted_for("1211300000", Flow.EXPORT)
    assert coca.offices_for(Flow.EXPORT) == {"118", "235", "145", "082"}
    assert coca.offices_for(Flow.IMPORT) == {"118", "235"}


def test_prohibited_goods_may_be_limited_to_used_ones() -> None:
    reference = shipped_reference()
    assert reference.prohibited_for("9022140000", Flow.IMPORT, "U")
    assert reference.prohibited_for("9022140000", Flow.IMPORT, "N") == ()
    assert reference.prohibited_for("9022140000", Flow.IMPORT) == ()
    (clothes,) = reference.prohibited_for("6309000000", Flow.IMPORT, None)
    assert clothes.annex.id == "27" and "usados" in clothes.description
    assert reference.prohibited_for("6309000000", Flow.EXPORT) == ()


@settings(max_examples=50, deadline=None)
@given(row=st.sampled_from(shipped_reference().restricted), tail=st.text("0123456789"))
def test_a_row_matches_every_subpartida_its_prefix_starts(row: object, tail: str) -> None:
    reference = shipped_reference()
    assert hasattr(row, "prefix")
    subpartida = (row.prefix + tail)[:10]
    flow = next(iter(row.annex.flows))
    assert row in reference.restricted_for(subpartida, flow)


def test_uit_and_rate_of_a_year_or_the_latest_before() -> None:
    reference = shipped_reference()
    uit = reference.uit(2025)
    assert uit is not None and (uit.year, uit.value) == (2025, Decimal(5350))
    later = reference.uit(2031)
    assert later is not None and later.year == max(reference.uit_by_year)
    assert reference.uit(1990) is None
    rate = reference.exchange_rate(2010)
    assert rate is not None and rate.value == Decimal("2.826")


def test_office_schedules_give_per_office_start_dates() -> None:
    schedule = shipped_reference().schedule("INTA-PG.01-A")
    assert schedule.start_for("154") == date(2010, 8, 31)
    assert schedule.start_for("118") == date(2010, 9, 20)
    assert schedule.start_for("235") == date(2010, 9, 27)
    assert schedule.start_for("244") == date(2010, 9, 30)
    assert shipped_reference().schedule("INTA-PE.00.06").start == date(2004, 7, 23)
    with pytest.raises(KeyError):
        shipped_reference().schedule("NO-SUCH")


def test_country_codes_carry_the_days_iso_3166_1_assigned_and_withdrew_them() -> None:
    reference = shipped_reference()
    in_force_today = [c for c in reference.countries if reference.country(c, date(2026, 12, 5))]
    assert len(in_force_today) == 249  # ISO 3166-1's officially assigned codes since 2011
    yugoslavia = reference.country("YU", date(2003, 7, 22))
    assert yugoslavia is not None and yugoslavia.replaced_by == ("CS",)
    assert reference.country("YU", date(2003, 7, 23)) is None
    serbia_and_montenegro = reference.country("CS", date(2003, 7, 23))
    assert serbia_and_montenegro is not None and serbia_and_montenegro.name == (
        "Serbia and Montenegro"
    )
    assert reference.successors(yugoslavia, date(2006, 9, 26)) == ("RS", "ME")
    assert reference.country("RS", date(2006, 9, 25)) is None
    assert reference.country("GB", date(1997, 1, 1)) is not None
    assert "UK" not in reference.countries


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_a_replacement_table_replaces_only_its_own(tmp_path: Path) -> None:
    uit = _write(tmp_path, "uit.csv", "year,uit_pen\n2030,6000\n")
    reference = load_reference(ReferenceFiles(uit=uit))
    assert reference.uit_by_year == {2030: Decimal(6000)}
    assert reference.entities == shipped_reference().entities


def test_settings_name_the_replacements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uit = _write(tmp_path, "uit.csv", "year,uit_pen\n2030,6000\n")
    monkeypatch.setenv("TELEDISPATCH_UIT_FILE", str(uit))
    settings = load_settings(restricted_goods_file=None)
    files = ReferenceFiles.from_settings(settings)
    assert files.uit == uit and files.restricted_goods is None
    assert load_reference(files).uit(2031) is not None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("uit", "year,uit_pen\n2030,6000\n2030,6100\n", "line 3: year 2030 is listed twice"),
        ("uit", "year,soles\n2030,6000\n", "missing column(s) uit_pen"),
        ("uit", "year,uit_pen\n2030,-1\n", "line 2: year 1900-2999 and a positive uit_pen"),
        ("control_entities", "code,short_name,name,ministry\n2,X,Y,Z\n", "not two digits"),
        ("restricted_goods", "annex,prefix,description\n99,8517,x\n", "not in the annex table"),
        ("restricted_goods", "annex,prefix,description\n27,8517,x\n", "prohibited annex"),
        ("restricted_goods", "annex,prefix,description\n1,85a7,x\n", "2 to 10 digits"),
        ("prohibited_goods", "annex,prefix,description,state\n27,6309,x,Q\n", "'U' (used)"),
        ("office_schedules", "procedure,office,from\nX,118,2010-01-01\n", "has no '*' row"),
        ("office_schedules", "procedure,office,from\nX,*,2010-13-01\n", "is not a date"),
        ("annexes", "annex,kind\n1,restricted\n", "missing column(s)"),
        ("countries", "code,name,from,until\nuk,X,,\n", "line 2: country code 'uk' is not"),
        ("countries", "code,name,from,until\nXA,X,2001-01-01,2000-01-01\n", "until must come"),
        (
            "countries",
            "code,name,from,until\nXA,X,,2001-01-01\nXA,Y,2000-01-01,\n",
            "line 3: XA has two periods that overlap",
        ),
        (
            "countries",
            "code,name,from,until,replaced_by\nXA,X,,2001-01-01,XB\n",
            "XA is replaced by XB, which the table does not list",
        ),
    ],
)
def test_a_broken_table_names_its_file_and_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = _write(tmp_path, f"{name}.csv", text)
    with pytest.raises(ReferenceDataError, match=re.escape(message)) as caught:
        load_reference(ReferenceFiles(**{name: path}))
    assert str(path) in str(caught.value)


def test_an_unreadable_table_is_a_reference_error(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="cannot read"):
        load_reference(ReferenceFiles(uit=tmp_path / "missing.csv"))


OFFICIAL = """\
Anexo,Subpartida,Descripción,Estado
Anexo 05,2915.24.00.00,Anhídrido acético,
5,2807.00.10.00,Ácido sulfúrico,
27,8703.23.10.00,Vehículos usados,U
"""


def test_the_official_list_replaces_the_reference_rows_of_its_annexes(tmp_path: Path) -> None:
    path = _write(tmp_path, "anexos.csv", OFFICIAL)
    restricted, prohibited = load_official_goods_list(path, shipped_reference().annexes)
    assert [(r.annex.id, r.prefix) for r in restricted] == [
        ("5", "2915240000"),
        ("5", "2807001000"),
    ]
    assert [(p.annex.id, p.prefix, p.state) for p in prohibited] == [("27", "8703231000", "U")]
    reference = load_reference(ReferenceFiles(official_goods_list=path))
    annex_5 = [row for row in reference.restricted if row.annex.id == "5"]
    assert {row.prefix for row in annex_5} == {"2915240000", "2807001000"}
    assert reference.restricted_for("9303201000", Flow.IMPORT)  # annex 3 kept from the shipped
    assert reference.prohibited_for("8703231000", Flow.IMPORT, "U")
    assert not reference.prohibited_for("6309000000", Flow.IMPORT)  # annex 27 replaced


def test_an_official_list_without_its_columns_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "anexos.csv", "codigo,descripcion\n2807001000,x\n")
    with pytest.raises(ReferenceDataError, match="anexo and subpartida"):
        load_official_goods_list(path, shipped_reference().annexes)
