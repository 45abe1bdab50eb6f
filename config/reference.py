"""Reference tables the rules read, shipped as CSV files and replaceable by a deployment.

Seed 003 (INTA-PE.00.06) publishes with the procedure the codes of the control entities
(Annex A) and of the control documents (Annex B), but leaves the subpartidas of its annexes
1-29 to SUNAT's portal. So the project ships: both code tables; the annexes themselves (their
competent entities, the flows they restrict, the offices they are confined to, whether their
goods are always examined); a *reference* table of restricted and prohibited goods by
subpartida prefix, with a loader for an official annex list that replaces it annex by annex;
the UIT by year and the reference exchange rate the dispatch fee (TASA) needs; the dates,
per office where a seed phases a procedure in, from which each cited procedure applies; and
the ISO 3166-1 country codes with the days each was assigned and withdrawn, since a code
valid today (RS, SS) was not in 1998 and one valid then (YU, AN) is not today.

Every table is a CSV file under ``config/data/``; a setting names a replacement file with the
same columns (see docs/reference-data.md). Tables are read once, checked, and kept as
immutable values: ``ReferenceData`` travels in the rule context, so a rule never opens a file.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    from config.settings import Settings

__all__ = [
    "NEVER",
    "Annex",
    "AnnexKind",
    "ControlDocumentType",
    "ControlEntity",
    "Country",
    "Flow",
    "ProhibitedGoods",
    "ReferenceData",
    "ReferenceDataError",
    "ReferenceFiles",
    "RestrictedGoods",
    "Schedule",
    "YearValue",
    "load_official_goods_list",
    "load_reference",
    "shipped_reference",
]

ANY_OFFICE: Final = "*"
"""The office column of a schedule row that applies to every office it does not name."""

NEVER: Final = date.max
"""The start of a procedure at an office outside its scope (``never`` in the ``from``
column): no day reaches it, so the procedure's rules never apply there."""

_TWO_DIGITS: Final = re.compile(r"^\d{2}$")
_OFFICE: Final = re.compile(r"^\d{3}$")
_PREFIX: Final = re.compile(r"^\d{2,10}$")
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")

_Goods = TypeVar("_Goods", "RestrictedGoods", "ProhibitedGoods")


class ReferenceDataError(ValueError):
    """A reference table cannot be used; the message names the file and the line."""


class Flow(StrEnum):
    """Which way goods cross the border: what a DUA (import) or an O/E (export) declares."""

    IMPORT = "import"
    EXPORT = "export"


class AnnexKind(StrEnum):
    RESTRICTED = "restricted"
    PROHIBITED = "prohibited"


@dataclass(frozen=True, slots=True)
class ControlEntity:
    """An entity that issues control documents (seed 003, Annex A)."""

    code: str
    short_name: str
    name: str
    ministry: str

    @property
    def label(self) -> str:
        """``02 (DICSCAMEC)``: how a message names the entity."""
        return f"{self.code} ({self.short_name})"


@dataclass(frozen=True, slots=True)
class ControlDocumentType:
    """A kind of control document (seed 003, Annex B)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Annex:
    """One annex of seed 003: a group of restricted goods and its rules, or a prohibited list.

    ``import_offices``/``export_offices`` empty means any office; ``mandatory_red`` names the
    flows whose goods always go to physical examination; ``offices_by_authorization`` says the
    control document may name further offices (DICSCAMEC, 003 VII.A 3.1 a).
    """

    id: str
    kind: AnnexKind
    title: str
    entities: frozenset[str]
    flows: frozenset[Flow]
    import_offices: frozenset[str]
    export_offices: frozenset[str]
    mandatory_red: frozenset[Flow]
    offices_by_authorization: bool
    citation: str

    @property
    def label(self) -> str:
        """``Anexo 3`` (or the id of a group the seed gives no number, e.g. ``CITES``)."""
        return f"Anexo {self.id}" if self.id.isdigit() else self.id

    def offices_for(self, flow: Flow) -> frozenset[str]:
        return self.import_offices if flow is Flow.IMPORT else self.export_offices


@dataclass(frozen=True, slots=True)
class RestrictedGoods:
    """Goods of a restricted annex, by national subpartida prefix (a reference row).

    ``export_offices`` overrides the annex's export offices for this prefix (coca leaves may
    also leave through Matarani and Salaverry, 003 VII.A 5.1.4 b). ``examined`` False takes
    the row out of its annex's mandatory examination (003 VII.A 5.1.5 c examines narcotics,
    not the psychotropics of the same annex).
    """

    prefix: str
    annex: Annex
    description: str
    export_offices: frozenset[str] = frozenset()
    examined: bool = True
    legal_basis: str = ""
    """The norm that restricts the goods, with its date (seed 003 V.A)."""
    effective_from: date | None = None
    """The date of that norm (None: always)."""

    def in_force(self, as_of: date | None) -> bool:
        """Whether the restriction applies on ``as_of`` (None: whatever the date)."""
        return as_of is None or self.effective_from is None or self.effective_from <= as_of

    def mandatory_red(self, flow: Flow) -> bool:
        """Whether goods of this row always go to physical examination in ``flow``."""
        return self.examined and flow in self.annex.mandatory_red

    def offices_for(self, flow: Flow) -> frozenset[str]:
        if flow is Flow.EXPORT and self.export_offices:
            return self.export_offices
        return self.annex.offices_for(flow)


@dataclass(frozen=True, slots=True)
class ProhibitedGoods:
    """Goods of prohibited import (Annex 27) or export (Annex 28), by subpartida prefix.

    ``state`` ``U`` limits the prohibition to used goods (used radioactive equipment).
    ``effective_from`` is the date of the norm that prohibits the goods (None: always).
    """

    prefix: str
    annex: Annex
    description: str
    state: str | None
    legal_basis: str
    effective_from: date | None = None

    def in_force(self, as_of: date | None) -> bool:
        """Whether the prohibition applies on ``as_of`` (None: whatever the date)."""
        return as_of is None or self.effective_from is None or self.effective_from <= as_of


@dataclass(frozen=True, slots=True)
class Schedule:
    """From when a procedure applies: one date for every office, and per-office exceptions."""

    procedure: str
    start: date
    offices: Mapping[str, date]
    citation: str

    def start_for(self, office: str) -> date:
        return self.offices.get(office, self.start)


@dataclass(frozen=True, slots=True)
class Country:
    """One period of an ISO 3166-1 alpha-2 code: the code means ``name`` from ``assigned``
    (None: before the table's first day) until the day before ``withdrawn`` (None: still)."""

    code: str
    name: str
    assigned: date | None
    withdrawn: date | None
    replaced_by: tuple[str, ...] = ()

    def in_force(self, as_of: date) -> bool:
        return (self.assigned is None or self.assigned <= as_of) and (
            self.withdrawn is None or as_of < self.withdrawn
        )


@dataclass(frozen=True, slots=True)
class YearValue:
    """A yearly value and the year it belongs to (an earlier one when a year is missing)."""

    year: int
    value: Decimal


def _index_by_prefix(
    rows: Iterable[_Goods],
) -> tuple[dict[str, tuple[_Goods, ...]], tuple[int, ...]]:
    by_prefix: dict[str, list[_Goods]] = {}
    for row in rows:
        by_prefix.setdefault(row.prefix, []).append(row)
    lengths = tuple(sorted({len(prefix) for prefix in by_prefix}))
    return {prefix: tuple(found) for prefix, found in by_prefix.items()}, lengths


def _matches(
    index: Mapping[str, tuple[_Goods, ...]], lengths: Sequence[int], subpartida: str
) -> Iterator[_Goods]:
    for length in lengths:
        if length > len(subpartida):
            return
        yield from index.get(subpartida[:length], ())


def _latest(values: Mapping[int, Decimal], year: int) -> YearValue | None:
    known = [y for y in values if y <= year]
    if not known:
        return None
    found = max(known)
    return YearValue(found, values[found])


@dataclass(frozen=True, eq=False)
class ReferenceData:
    """Every reference table, checked and indexed; what rules read through the context."""

    entities: Mapping[str, ControlEntity]
    documents: Mapping[str, ControlDocumentType]
    annexes: Mapping[str, Annex]
    restricted: tuple[RestrictedGoods, ...]
    prohibited: tuple[ProhibitedGoods, ...]
    uit_by_year: Mapping[int, Decimal]
    rate_by_year: Mapping[int, Decimal]
    schedules: Mapping[str, Schedule]
    countries: Mapping[str, tuple[Country, ...]]
    """Each code's periods, earliest first (a code ISO assigned again has several: CS was
    Czechoslovakia until 1993, Serbia and Montenegro from 2003; the shipped table starts in
    1997 and holds the second)."""
    _restricted_index: dict[str, tuple[RestrictedGoods, ...]] = field(init=False, repr=False)
    _restricted_lengths: tuple[int, ...] = field(init=False, repr=False)
    _prohibited_index: dict[str, tuple[ProhibitedGoods, ...]] = field(init=False, repr=False)
    _prohibited_lengths: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        restricted, restricted_lengths = _index_by_prefix(self.restricted)
        prohibited, prohibited_lengths = _index_by_prefix(self.prohibited)
        object.__setattr__(self, "_restricted_index", restricted)
        object.__setattr__(self, "_restricted_lengths", restricted_lengths)
        object.__setattr__(self, "_prohibited_index", prohibited)
        object.__setattr__(self, "_prohibited_lengths", prohibited_lengths)

    def restricted_for(
        self, subpartida: str, flow: Flow, as_of: date | None = None
    ) -> tuple[RestrictedGoods, ...]:
        """The reference rows whose prefix starts ``subpartida``, whose annex restricts
        ``flow`` and whose norm is in force on ``as_of`` (every row when None), shortest
        prefix first."""
        return tuple(
            row
            for row in _matches(self._restricted_index, self._restricted_lengths, subpartida)
            if flow in row.annex.flows and row.in_force(as_of)
        )

    def prohibited_for(
        self, subpartida: str, flow: Flow, state: str | None = None, as_of: date | None = None
    ) -> tuple[ProhibitedGoods, ...]:
        """The prohibited rows matching ``subpartida`` for ``flow`` and the goods' state
        (a row for used goods does not match goods declared new or without a state), whose
        norm is in force on ``as_of`` (every row when None)."""
        return tuple(
            row
            for row in _matches(self._prohibited_index, self._prohibited_lengths, subpartida)
            if flow in row.annex.flows
            and (row.state is None or row.state == state)
            and row.in_force(as_of)
        )

    def uit(self, year: int) -> YearValue | None:
        """The UIT in soles of ``year``, or of the latest earlier year the table has."""
        return _latest(self.uit_by_year, year)

    def exchange_rate(self, year: int) -> YearValue | None:
        """Soles per US dollar for ``year``, or for the latest earlier year the table has."""
        return _latest(self.rate_by_year, year)

    def schedule(self, procedure: str) -> Schedule:
        """The schedule of ``procedure`` (KeyError if the table has none)."""
        return self.schedules[procedure]

    def country(self, code: str, as_of: date) -> Country | None:
        """The period of ``code`` in force on ``as_of``, or None."""
        return next((c for c in self.countries.get(code, ()) if c.in_force(as_of)), None)

    def successors(self, withdrawn: Country, as_of: date) -> tuple[str, ...]:
        """The codes in force on ``as_of`` that replaced ``withdrawn``, following codes that
        were replaced in their turn (YU by CS, CS by RS and ME)."""
        found: list[str] = []
        pending, seen = list(withdrawn.replaced_by), {withdrawn.code}
        while pending:
            code = pending.pop(0)
            if code in seen:
                continue
            seen.add(code)
            if self.country(code, as_of) is not None:
                found.append(code)
                continue
            for period in self.countries.get(code, ()):
                if period.withdrawn is not None and period.withdrawn <= as_of:
                    pending.extend(period.replaced_by)
        return tuple(found)

    def entity_label(self, code: str) -> str:
        entity = self.entities.get(code)
        return entity.label if entity is not None else code


# -- reading the files --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferenceFiles:
    """Replacement files; ``None`` keeps the table shipped in ``config/data``."""

    control_entities: Path | None = None
    control_documents: Path | None = None
    annexes: Path | None = None
    restricted_goods: Path | None = None
    prohibited_goods: Path | None = None
    official_goods_list: Path | None = None
    uit: Path | None = None
    exchange_rates: Path | None = None
    office_schedules: Path | None = None
    countries: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ReferenceFiles:
        return cls(
            control_entities=settings.control_entities_file,
            control_documents=settings.control_documents_file,
            annexes=settings.annexes_file,
            restricted_goods=settings.restricted_goods_file,
            prohibited_goods=settings.prohibited_goods_file,
            official_goods_list=settings.official_goods_list_file,
            uit=settings.uit_file,
            exchange_rates=settings.exchange_rates_file,
            office_schedules=settings.office_schedules_file,
            countries=settings.countries_file,
        )


@dataclass(frozen=True, slots=True)
class _Row:
    source: str
    line: int
    values: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")

    def fail(self, message: str) -> ReferenceDataError:
        return ReferenceDataError(f"{self.source}, line {self.line}: {message}")


def _read_text(shipped: str, path: Path | None) -> tuple[str, str]:
    if path is None:
        text = resources.files("config").joinpath(f"data/{shipped}").read_text("utf-8-sig")
        return f"config/data/{shipped}", text
    try:
        return str(path), path.read_text("utf-8-sig")
    except OSError as exc:
        raise ReferenceDataError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"{path} is not UTF-8 text: {exc.reason}") from exc


def _normal_header(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.strip().lower()).strip("_")


def _rows(source: str, text: str, required: Sequence[str]) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [_normal_header(name) for name in next(reader)]
    except StopIteration:
        raise ReferenceDataError(f"{source} is empty") from None
    missing = [column for column in required if column not in header]
    if missing:
        raise ReferenceDataError(f"{source}: missing column(s) {', '.join(missing)}")
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
        yield _Row(source, reader.line_num, values)


def _table(shipped: str, path: Path | None, required: Sequence[str]) -> list[_Row]:
    source, text = _read_text(shipped, path)
    try:
        return list(_rows(source, text, required))
    except csv.Error as exc:
        raise ReferenceDataError(f"{source}: not valid CSV: {exc}") from exc


def _codes(row: _Row, column: str, pattern: re.Pattern[str]) -> frozenset[str]:
    codes = frozenset(part.strip() for part in row[column].split("|") if part.strip())
    wrong = sorted(code for code in codes if not pattern.match(code))
    if wrong:
        raise row.fail(f"{column}: not a valid code: {', '.join(wrong)}")
    return codes


def _flows(row: _Row, column: str) -> frozenset[Flow]:
    try:
        return frozenset(Flow(part.strip()) for part in row[column].split("|") if part.strip())
    except ValueError:
        raise row.fail(f"{column}: flows are 'import' and/or 'export'") from None


def _load_entities(path: Path | None) -> dict[str, ControlEntity]:
    entities: dict[str, ControlEntity] = {}
    for row in _table("control_entities.csv", path, ("code", "short_name", "name", "ministry")):
        code = row["code"]
        if not _TWO_DIGITS.match(code):
            raise row.fail(f"entity code {code!r} is not two digits")
        if code in entities:
            raise row.fail(f"entity {code} is listed twice")
        if not row["short_name"] or not row["name"]:
            raise row.fail("short_name and name are required")
        entities[code] = ControlEntity(code, row["short_name"], row["name"], row["ministry"])
    return entities


def _load_documents(path: Path | None) -> dict[str, ControlDocumentType]:
    documents: dict[str, ControlDocumentType] = {}
    for row in _table("control_documents.csv", path, ("code", "name")):
        code = row["code"]
        if not _TWO_DIGITS.match(code):
            raise row.fail(f"document code {code!r} is not two digits")
        if code in documents:
            raise row.fail(f"document {code} is listed twice")
        documents[code] = ControlDocumentType(code, row["name"])
    return documents


_ANNEX_COLUMNS: Final = (
    "annex",
    "kind",
    "title",
    "entities",
    "flows",
    "import_offices",
    "export_offices",
    "mandatory_red",
    "offices_by_authorization",
    "citation",
)


def _annex_id(text: str) -> str:
    """``Anexo 05`` or ``05`` → ``5``; ids that are not numbers (``CITES``) stay as written."""
    plain = re.sub(r"(?i)^anexo\s*(n[.ºo°]*\s*)?", "", text.strip())
    return str(int(plain)) if plain.isdigit() else plain


def _load_annexes(path: Path | None, entities: Mapping[str, ControlEntity]) -> dict[str, Annex]:
    annexes: dict[str, Annex] = {}
    for row in _table("annexes.csv", path, _ANNEX_COLUMNS):
        annex_id = _annex_id(row["annex"])
        if not annex_id:
            raise row.fail("annex id is required")
        if annex_id in annexes:
            raise row.fail(f"annex {annex_id} is listed twice")
        try:
            kind = AnnexKind(row["kind"])
        except ValueError:
            raise row.fail("kind is 'restricted' or 'prohibited'") from None
        codes = _codes(row, "entities", _TWO_DIGITS)
        unknown = sorted(codes - set(entities))
        if unknown:
            raise row.fail(f"entities not in the entity table: {', '.join(unknown)}")
        if kind is AnnexKind.RESTRICTED and not codes:
            raise row.fail("a restricted annex names its competent entities")
        flows = _flows(row, "flows")
        if not flows:
            raise row.fail("flows: name 'import' and/or 'export'")
        red = _flows(row, "mandatory_red")
        if not red <= flows:
            raise row.fail("mandatory_red names a flow the annex does not restrict")
        by_authorization = row["offices_by_authorization"].lower()
        if by_authorization not in ("yes", "no", ""):
            raise row.fail("offices_by_authorization is 'yes' or 'no'")
        annexes[annex_id] = Annex(
            id=annex_id,
            kind=kind,
            title=row["title"],
            entities=codes,
            flows=flows,
            import_offices=_codes(row, "import_offices", _OFFICE),
            export_offices=_codes(row, "export_offices", _OFFICE),
            mandatory_red=red,
            offices_by_authorization=by_authorization == "yes",
            citation=row["citation"],
        )
    return annexes


def _prefix(row: _Row, column: str) -> str:
    prefix = re.sub(r"[.\s]", "", row[column])
    if not _PREFIX.match(prefix):
        raise row.fail(f"{column} {row[column]!r}: 2 to 10 digits of a national subpartida")
    return prefix


def _annex_of(row: _Row, annexes: Mapping[str, Annex], kind: AnnexKind) -> Annex:
    annex_id = _annex_id(row["annex"])
    annex = annexes.get(annex_id)
    if annex is None:
        raise row.fail(f"annex {annex_id!r} is not in the annex table")
    if annex.kind is not kind:
        raise row.fail(f"annex {annex_id} is a {annex.kind} annex, not {kind}")
    return annex


def _load_restricted(path: Path | None, annexes: Mapping[str, Annex]) -> list[RestrictedGoods]:
    rows = _table("restricted_goods.csv", path, ("annex", "prefix", "description"))
    return [
        RestrictedGoods(
            prefix=_prefix(row, "prefix"),
            annex=_annex_of(row, annexes, AnnexKind.RESTRICTED),
            description=row["description"],
            export_offices=_codes(row, "export_offices", _OFFICE),
            examined=_examined(row),
            legal_basis=row["legal_basis"],
            effective_from=_optional_date(row, "from"),
        )
        for row in rows
    ]


def _examined(row: _Row) -> bool:
    value = row["examined"].lower()
    if value not in ("", "yes", "no"):
        raise row.fail("examined is empty (as the annex says), 'yes' or 'no'")
    return value != "no"


def _state(row: _Row, column: str) -> str | None:
    state = row[column].upper() or None
    if state not in (None, "N", "U"):
        raise row.fail(f"{column} is empty, 'N' (new) or 'U' (used)")
    return state


def _load_prohibited(path: Path | None, annexes: Mapping[str, Annex]) -> list[ProhibitedGoods]:
    rows = _table("prohibited_goods.csv", path, ("annex", "prefix", "description"))
    return [
        ProhibitedGoods(
            prefix=_prefix(row, "prefix"),
            annex=_annex_of(row, annexes, AnnexKind.PROHIBITED),
            description=row["description"],
            state=_state(row, "state"),
            legal_basis=row["legal_basis"],
            effective_from=_optional_date(row, "from"),
        )
        for row in rows
    ]


def _optional_date(row: _Row, column: str) -> date | None:
    if not row[column]:
        return None
    try:
        return date.fromisoformat(row[column])
    except ValueError:
        raise row.fail(f"{column} {row[column]!r} is not a date (YYYY-MM-DD)") from None


def _load_yearly(shipped: str, path: Path | None, column: str) -> dict[int, Decimal]:
    values: dict[int, Decimal] = {}
    for row in _table(shipped, path, ("year", column)):
        try:
            year = int(row["year"])
            value = Decimal(row[column].replace(",", ""))
        except (ValueError, InvalidOperation):
            raise row.fail(f"year and {column} must be numbers") from None
        if not 1900 <= year <= 2999 or not value.is_finite() or value <= 0:
            raise row.fail(f"year 1900-2999 and a positive {column}")
        if year in values:
            raise row.fail(f"year {year} is listed twice")
        values[year] = value
    return values


def _load_schedules(path: Path | None) -> dict[str, Schedule]:
    starts: dict[str, dict[str, date]] = {}
    citations: dict[str, str] = {}
    source = str(path or "config/data/office_schedules.csv")
    for row in _table("office_schedules.csv", path, ("procedure", "office", "from")):
        procedure, office = row["procedure"], row["office"]
        if not procedure:
            raise row.fail("procedure is required")
        if office != ANY_OFFICE and not _OFFICE.match(office):
            raise row.fail(f"office {office!r} is '*' or a three-digit office code")
        try:
            start = NEVER if row["from"].lower() == "never" else date.fromisoformat(row["from"])
        except ValueError:
            raise row.fail(f"from {row['from']!r} is not a date (YYYY-MM-DD) or 'never'") from None
        per_office = starts.setdefault(procedure, {})
        if office in per_office:
            raise row.fail(f"{procedure} lists office {office} twice")
        per_office[office] = start
        if office == ANY_OFFICE:
            citations[procedure] = row["citation"]
    schedules: dict[str, Schedule] = {}
    for procedure, per_office in starts.items():
        if ANY_OFFICE not in per_office:
            raise ReferenceDataError(f"{source}: {procedure} has no '*' row (every office)")
        default = per_office.pop(ANY_OFFICE)
        schedules[procedure] = Schedule(procedure, default, per_office, citations[procedure])
    return schedules


def _load_countries(path: Path | None) -> dict[str, tuple[Country, ...]]:
    periods: dict[str, list[Country]] = {}
    for row in _table("countries.csv", path, ("code", "name", "from", "until")):
        code = row["code"]
        if not _COUNTRY.match(code):
            raise row.fail(f"country code {code!r} is not two capital letters")
        if not row["name"]:
            raise row.fail("name is required")
        country = Country(
            code,
            row["name"],
            _optional_date(row, "from"),
            _optional_date(row, "until"),
            _ordered_codes(row, "replaced_by"),
        )
        if country.assigned and country.withdrawn and country.withdrawn <= country.assigned:
            raise row.fail("until must come after from")
        for other in periods.get(code, ()):
            if _overlap(country, other):
                raise row.fail(f"{code} has two periods that overlap")
        periods.setdefault(code, []).append(country)
    for row_periods in periods.values():
        for country in row_periods:
            unknown = [code for code in country.replaced_by if code not in periods]
            if unknown:
                source = str(path or "config/data/countries.csv")
                raise ReferenceDataError(
                    f"{source}: {country.code} is replaced by {', '.join(unknown)}, "
                    "which the table does not list"
                )
    return {
        code: tuple(sorted(found, key=lambda c: c.assigned or date.min))
        for code, found in periods.items()
    }


def _ordered_codes(row: _Row, column: str) -> tuple[str, ...]:
    """The country codes of ``column`` in the file's order (it says which to offer first)."""
    _codes(row, column, _COUNTRY)  # checks them
    return tuple(part.strip() for part in row[column].split("|") if part.strip())


def _overlap(one: Country, other: Country) -> bool:
    return (one.assigned or date.min) < (other.withdrawn or date.max) and (
        other.assigned or date.min
    ) < (one.withdrawn or date.max)


# -- the official annex list ----------------------------------------------------------------------


def load_official_goods_list(
    path: Path, annexes: Mapping[str, Annex]
) -> tuple[list[RestrictedGoods], list[ProhibitedGoods]]:
    """Read an annex list as SUNAT publishes it: one subpartida per row with its annex.

    Columns (header names are matched without case or accents): ``anexo`` (or ``annex``;
    ``5``, ``05`` or ``Anexo 5``), ``subpartida`` (``8525.60.90.00`` or digits; 2 to 10
    digits, a prefix covers every subpartida it starts), and optionally ``descripcion``,
    ``estado`` (``U`` for used-goods prohibitions) and ``base_legal``. Rows of annexes 27 and
    28 (prohibited) become prohibited goods, the others restricted goods.
    """
    restricted: list[RestrictedGoods] = []
    prohibited: list[ProhibitedGoods] = []
    source, text = _read_text("", path)
    aliases = {"annex": "anexo", "description": "descripcion", "state": "estado"}
    try:
        rows = list(_rows(source, text, ()))
    except csv.Error as exc:
        raise ReferenceDataError(f"{source}: not valid CSV: {exc}") from exc
    for raw in rows:
        values = {aliases.get(name, name): value for name, value in raw.values.items()}
        row = _Row(raw.source, raw.line, values)
        if "anexo" not in values or "subpartida" not in values:
            raise row.fail("the official list needs the columns anexo and subpartida")
        annex = annexes.get(_annex_id(row["anexo"]))
        if annex is None:
            raise row.fail(f"annex {row['anexo']!r} is not in the annex table")
        prefix = _prefix(row, "subpartida")
        description = row["descripcion"] or annex.title
        if annex.kind is AnnexKind.PROHIBITED:
            state = _state(row, "estado")
            prohibited.append(ProhibitedGoods(prefix, annex, description, state, row["base_legal"]))
        else:
            restricted.append(RestrictedGoods(prefix, annex, description))
    return restricted, prohibited


def _replace_annexes(shipped: Sequence[_Goods], official: Sequence[_Goods]) -> tuple[_Goods, ...]:
    """The official rows, and the shipped rows of the annexes the official list lacks."""
    covered = {row.annex.id for row in official}
    kept: list[_Goods] = [row for row in shipped if row.annex.id not in covered]
    kept.extend(official)
    return tuple(kept)


def load_reference(files: ReferenceFiles | None = None) -> ReferenceData:
    """Read and check every table (shipped ones where ``files`` names no replacement)."""
    files = files or ReferenceFiles()
    entities = _load_entities(files.control_entities)
    annexes = _load_annexes(files.annexes, entities)
    restricted: Sequence[RestrictedGoods] = _load_restricted(files.restricted_goods, annexes)
    prohibited: Sequence[ProhibitedGoods] = _load_prohibited(files.prohibited_goods, annexes)
    if files.official_goods_list is not None:
        official_restricted, official_prohibited = load_official_goods_list(
            files.official_goods_list, annexes
        )
        restricted = _replace_annexes(restricted, official_restricted)
        prohibited = _replace_annexes(prohibited, official_prohibited)
    return ReferenceData(
        entities=entities,
        documents=_load_documents(files.control_documents),
        annexes=annexes,
        restricted=tuple(restricted),
        prohibited=tuple(prohibited),
        uit_by_year=_load_yearly("uit.csv", files.uit, "uit_pen"),
        rate_by_year=_load_yearly("exchange_rates.csv", files.exchange_rates, "pen_per_usd"),
        schedules=_load_schedules(files.office_schedules),
        countries=_load_countries(files.countries),
    )


@functools.cache
def shipped_reference() -> ReferenceData:
    """The tables shipped with the package, read once per process."""
    return load_reference()
