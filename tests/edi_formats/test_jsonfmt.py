"""JSON: the models' own dump, read back with errors that name the field."""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_formats.codec import DeclarationIdentity, peek_identity
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.extract import extract_documents
from edi_formats.json_limits import MAX_JSON_VALUES, over_json_limits
from edi_formats.jsonfmt import declaration_schema, parse_json, render_json
from edi_formats.models import DUA, OE
from tests.edi_formats.factories import full_dua, full_oe, minimal_dua
from tests.edi_formats.strategies import declarations


def _syntax_error(data: bytes) -> DeclarationSyntaxError:
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_json(data)
    return caught.value


@pytest.mark.parametrize("decl", [full_dua(), minimal_dua(), full_oe()])
def test_round_trip_is_exact(decl: DUA | OE) -> None:
    data = render_json(decl)
    assert data.endswith(b"}\n")
    assert json.loads(data)["document_type"] == decl.document_type
    assert parse_json(data) == decl
    assert render_json(parse_json(data)) == data


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declarations)
def test_round_trip_any_model(decl: DUA | OE) -> None:
    data = render_json(decl)
    assert parse_json(data) == decl
    assert render_json(parse_json(data)) == data


def test_money_is_kept_exact_as_decimal_strings() -> None:
    data = json.loads(render_json(full_dua()))
    assert data["totals"]["gross_weight"] == "1000.000"
    data["totals"]["fob"] = 2000  # numbers are accepted too
    assert parse_json(json.dumps(data).encode()) == full_dua()


def test_byte_order_mark_and_8_bit_text_are_read() -> None:
    text = render_json(full_oe()).decode("utf-8")
    assert parse_json(b"\xef\xbb\xbf" + text.encode("utf-8")) == full_oe()
    assert parse_json(text.encode("cp850")) == full_oe()


def test_malformed_json_gives_line_and_column() -> None:
    error = _syntax_error(b'{\n  "document_type": "DUA",\n  "office": }')
    assert error.code == "JSON-SYNTAX"
    assert error.position == "línea 3, columna 13"


def test_unknown_document_type() -> None:
    error = _syntax_error(b'{"document_type": "DAM"}')
    assert error.code == "FMT-VALUE"
    assert error.message == "document_type debe ser 'DUA' u 'OE'"


def test_model_errors_name_the_json_path_and_the_field_as_the_form_does() -> None:
    data = json.loads(render_json(full_dua()))
    data["series"][1]["subpartida"] = "84713000A0"
    del data["totals"]["cif"]
    data["extra"] = 1
    error = _syntax_error(json.dumps(data).encode())
    assert error.code == "FMT-VALUE"
    assert error.position == "totals.cif (Total CIF)"
    assert error.message.startswith("falta el dato obligatorio. Además: ")
    subpartida = "series[1].subpartida (Serie 2, subpartida nacional): formato no válido"
    assert subpartida in error.message
    assert "extra: campo no previsto en la declaración" in error.message


def test_control_characters_are_refused() -> None:
    data = json.loads(render_json(full_oe()))
    data["observations"] = "línea 1\nlínea 2"
    error = _syntax_error(json.dumps(data).encode())
    assert (error.code, error.position) == ("FMT-VALUE", "observations (Observaciones)")


def test_deep_nesting_and_empty_input() -> None:
    assert _syntax_error(b"[" * 100_000).code == "JSON-SYNTAX"
    assert _syntax_error(b"  ").code == "FMT-EMPTY"
    assert _syntax_error(b"[1, 2]").code == "FMT-VALUE"


def test_schema_describes_both_documents() -> None:
    either = declaration_schema()
    assert either["discriminator"]["propertyName"] == "document_type"
    assert declaration_schema("dua")["title"] == "DUA"
    assert "exporter" in declaration_schema("oe")["properties"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_fuzz_only_syntax_errors(data: bytes) -> None:
    try:
        parse_json(b'{"document_type": "DUA", ' + data)
    except DeclarationSyntaxError as error:
        assert error.message


def _error_of(changes: dict[str, object]) -> DeclarationSyntaxError:
    data = json.loads(render_json(full_dua()))
    for path, value in changes.items():
        target = data
        *parents, last = path.split(".")
        for step in parents:
            target = target[int(step)] if step.isdigit() else target[step]
        target[last] = value
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_json(json.dumps(data).encode())
    return caught.value


def test_errors_say_what_is_expected_in_spanish() -> None:
    error = _error_of(
        {
            "series.0.subpartida": "8471.30.00.00",
            "transport.arrival_date": "09/12/2026",
            "importer.doc_type": "XX",
        }
    )
    assert "sin puntos" in error.message and '"8471300000"' in error.message
    assert 'se espera AAAA-MM-DD, p. ej. "2026-12-09"' in error.message
    assert "'PAS' o 'SAL'" in error.message and " or " not in error.message


def test_a_syntax_error_is_explained_in_spanish() -> None:
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_json(b'{"document_type": "DUA", "office": "118",}')
    assert caught.value.message == (
        "JSON mal formado: sobra una coma antes de cerrar el objeto o la lista"
    )
    assert "trailing" not in caught.value.message


def test_json_nested_too_deeply_is_said_to_be_so() -> None:
    # Well formed, but deeper than the parser goes: it was answered "JSON mal formado".
    deep = b"[" * 3000 + b"]" * 3000
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_json(b'{"document_type": "DUA", "office": "118", "x": %s}' % deep)
    assert caught.value.message == (
        "JSON demasiado anidado: demasiadas llaves o corchetes abiertos uno dentro de otro"
    )


def test_numbers_and_codes_are_read_as_the_schema_types_them() -> None:
    """A code is text (office 019 is not the number 19); a count is a number, not text."""
    office = _error_of({"office": 118})
    assert (
        office.position == "office (Aduana de despacho)"
        and "texto entre comillas" in office.message
    )
    packages = _error_of({"totals.packages": "5"})
    assert packages.position == "totals.packages (Total bultos)"
    assert "número entero, sin comillas" in packages.message
    schema = declaration_schema("dua")
    assert schema["properties"]["office"]["type"] == "string"
    assert schema["$defs"]["ImportTotals"]["properties"]["packages"]["type"] == "integer"


def _descriptions(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["description"]] if isinstance(node.get("description"), str) else []
        return found + [text for value in node.values() for text in _descriptions(value)]
    if isinstance(node, list):
        return [text for value in node for text in _descriptions(value)]
    return []


@pytest.mark.parametrize("kind", [None, "dua", "oe"])
def test_the_schema_speaks_spanish_with_units_and_code_names(kind: str | None) -> None:
    schema = declaration_schema(kind)  # type: ignore[arg-type]
    texts = _descriptions(schema)
    assert texts
    for text in texts:
        assert "seed" not in text.lower(), text
        assert not {" the ", " of ", " for ", " and "} & set(_words(text)), text
    definitions = schema.get("$defs", {})
    series = definitions["ImportSeries" if kind != "oe" else "ExportSeries"]["properties"]
    assert "US$" in series["fob"]["description"]
    assert "kilogramos" in series["net_weight"]["description"]
    assert "PAS Pasaporte" in definitions["PartyDocType"]["description"]
    for name in ("DUA", "OE") if kind is None else ():
        assert definitions[name]["required"][0] == "document_type"
    if kind is not None:
        assert schema["required"][0] == "document_type"


def _words(text: str) -> list[str]:
    return [f" {word} " for word in text.lower().split()]


def test_a_document_of_too_many_values_is_refused_unparsed() -> None:
    """Parsed by the extractor, the reader and the identity in turn, 18 MB of empty lists
    held 1 GB of an analysis process for 6 s before the declaration was refused."""
    body = render_json(full_dua()).rstrip()
    bomb = body[:-1] + b', "relleno": [' + b"[]," * MAX_JSON_VALUES + b"[]]" + body[-1:]
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(DeclarationSyntaxError) as caught:
            parse_json(bomb)
        assert peek_identity(bomb) == DeclarationIdentity()  # not parsed for it either
        (found,) = extract_documents(bomb).documents
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    error = caught.value
    assert (error.code, error.message) == ("FMT-LIMIT", "demasiados valores (máximo 1000000)")
    assert found.data.rstrip() == bomb  # taken whole, to be answered
    assert elapsed < 2 and peak < 64 * 1024 * 1024
    assert over_json_limits(body) is None  # two series: far within
    large = render_json(full_dua(10_000))  # 5.5 MB: within too
    assert over_json_limits(large) is None and parse_json(large) == full_dua(10_000)
