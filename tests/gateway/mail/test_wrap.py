"""The replies' paragraphs wrap exactly as ``textwrap`` wraps them."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.mail.wrap import hanging, paragraph, shorten


def by_textwrap(text: str, width: int, indent: str) -> str:
    return textwrap.fill(
        " ".join(text.split()),
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


LONG_WORD = "https://www.sunat.gob.pe/legislacion/procedimientos/despacho/importacion/" * 2

TEXTS = [
    "",
    "   ",
    "una",
    "Base legal: Procedimiento DESPA-PG.01 (versión 7), sección VI, numeral 16.",
    "x" * 76,
    "x" * 75 + " y",
    "x" * 76 + " y",
    "x" * 77 + " y z",
    "palabra " * 40,
    f"antes {LONG_WORD} después",
    f"{LONG_WORD} al inicio",
    "con\ttabulador,\r\nsaltos de línea\n\n y   espacios\u00a0no\u00a0separables\u2003y em",
    "guiones-que-no-se-cortan " * 6,
    "Motivo: selección aleatoria del " + "canal " * 20,
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(("width", "indent"), [(76, ""), (76, "  "), (76, "     "), (10, "    ")])
def test_paragraph_is_textwrap_fill(text: str, width: int, indent: str) -> None:
    assert paragraph(text, width, indent) == by_textwrap(text, width, indent)


@settings(max_examples=400, deadline=None)
@given(
    text=st.lists(
        st.one_of(
            st.text(alphabet="aáñ-.,x", min_size=1, max_size=30),
            st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\r\n"]),
        ),
        max_size=60,
    ).map("".join),
    width=st.integers(min_value=5, max_value=90),
    indent=st.sampled_from(["", " ", "  ", "     "]),
)
def test_paragraph_is_textwrap_fill_on_random_text(text: str, width: int, indent: str) -> None:
    assert paragraph(text, width, indent) == by_textwrap(text, width, indent)


@pytest.mark.parametrize(
    "text",
    [
        "  Canal asignado:        ROJO: reconocimiento físico de las mercancías: solicítelo "
        "presentando los documentos sustentatorios",
        "                         (canal asignado, pendiente de pago: rige cuando la deuda)",
        "corto",
    ],
)
def test_hanging_is_textwrap_fill(text: str) -> None:
    expected = textwrap.fill(
        text, 76, subsequent_indent=" " * 25, break_long_words=False, break_on_hyphens=False
    )
    assert hanging(text, 76, 25) == expected
    assert hanging(text, 76, 25) == expected  # and again, kept


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab \t\n\u00a0", max_size=260), width=st.integers(4, 220))
def test_shorten_is_textwrap_shorten(text: str, width: int) -> None:
    assert shorten(text, width) == textwrap.shorten(text, width, placeholder=" ...")
