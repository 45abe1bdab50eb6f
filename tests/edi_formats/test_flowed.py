"""RFC 3676 bodies: the shapes Thunderbird and Apple Mail give a pasted declaration."""

from __future__ import annotations

import textwrap

from edi_formats.flowed import unflow


def thunderbird_wrap(text: str, width: int = 72) -> str:
    """Wrap as Thunderbird does: at a space, the space kept at the end of the piece."""
    lines = []
    for line in text.split("\n"):
        pieces = textwrap.wrap(
            line, width, drop_whitespace=False, break_long_words=False, break_on_hyphens=False
        )
        lines.extend(pieces or [""])
    return "\r\n".join((" " + p) if p.startswith((" ", ">", "From ")) else p for p in lines)


def test_soft_breaks_are_joined_and_hard_ones_kept() -> None:
    assert unflow(b"IMP|RUC|2051|AV. ARGENTINA 2833, \r\nCALLAO\r\nSER|1\r\n") == (
        b"IMP|RUC|2051|AV. ARGENTINA 2833, CALLAO\r\nSER|1\r\n"
    )


def test_a_thunderbird_wrapped_record_comes_back_whole() -> None:
    record = "IMP|RUC|20512345671|IMPORTADORA LOS ANDES S.A.C.|AV. ARGENTINA 2833, CALLAO"
    wrapped = thunderbird_wrap(record).encode()
    assert b"\r\nCALLAO" in wrapped  # the shape the issue reproduced
    assert unflow(wrapped) == record.encode()


def test_delsp_removes_the_space_the_client_added() -> None:
    """Apple Mail with DelSp=yes may break inside a word: the added space goes."""
    assert unflow(b"COMPUTADORAS POR \r\nTATILES\r\n", delsp=True) == b"COMPUTADORAS PORTATILES\r\n"


def test_space_stuffing_is_removed() -> None:
    assert unflow(b" From the office\r\n  indented\r\n") == b"From the office\r\n indented\r\n"


def test_the_signature_separator_is_not_a_soft_break() -> None:
    assert unflow(b"TRL|13\r\n-- \r\nJuan Perez\r\n") == b"TRL|13\r\n-- \r\nJuan Perez\r\n"


def test_a_change_of_quote_depth_ends_the_paragraph() -> None:
    assert unflow(b"> quoted \r\nnot quoted\r\n") == b"> quoted \r\nnot quoted\r\n"
    assert unflow(b"> a \r\n> b\r\n") == b"> a b\r\n"
