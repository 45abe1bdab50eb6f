"""From a mail to outcomes, without a store: read, validate, or say why not."""

from __future__ import annotations

import quopri
import random

import pytest

from config import OfficeRegistry
from edi_formats.codec import WireFormat, render_declaration
from edi_formats.models import DUA, OE
from gateway.pipeline.process import (
    AnalysisBudget,
    NothingReadable,
    ReadDeclaration,
    UnreadableDeclaration,
    analyse,
    over_budget,
    read_headers,
)
from gateway.pipeline.process import _scanned as scanned_over_budget
from tests.edi_formats.test_flowed import thunderbird_wrap
from tests.gateway.pipeline.helpers import (
    AGENT_CODE,
    AS_OF,
    as_json,
    declaration,
    flat,
    submission,
)
from validators.engine import RuleContext


@pytest.fixture
def context(offices: OfficeRegistry) -> RuleContext:
    return RuleContext(
        as_of=AS_OF, offices=offices, addressed_office="118", sender_agent_code=AGENT_CODE
    )


def test_a_valid_declaration_is_read_and_accepted(context: RuleContext):
    decl = declaration()
    analysis = analyse(submission(flat(decl)), context)
    (outcome,) = analysis.outcomes
    assert isinstance(outcome, ReadDeclaration)
    assert outcome.accepted
    assert outcome.declaration == decl
    assert outcome.document.source == "adjunto DECL1.TXT"


def test_every_declaration_of_the_mail_gets_an_outcome_in_order(context: RuleContext):
    raw = submission(
        flat(declaration(reference="P-1")),
        b"TDH|TELEDESPACHO|01|DUA|ISO-8859-1\nDEC|roto\n",
        as_json(declaration("oe", reference="P-3", breaks="ID-RUC")),
    )
    outcomes = analyse(raw, context).outcomes
    assert [type(o) for o in outcomes] == [ReadDeclaration, UnreadableDeclaration, ReadDeclaration]
    first, second, third = outcomes
    assert isinstance(first, ReadDeclaration) and first.accepted
    assert isinstance(second, UnreadableDeclaration) and second.error.code.startswith("FMT-")
    assert isinstance(third, ReadDeclaration) and not third.accepted
    assert [f.rule_id for f in third.findings] == ["ID-RUC"]


def test_a_sender_without_agent_code_is_refused_under_td_sender(offices: OfficeRegistry):
    context = RuleContext(as_of=AS_OF, offices=offices, addressed_office="118")
    (outcome,) = analyse(submission(flat(declaration())), context).outcomes
    assert isinstance(outcome, ReadDeclaration)
    assert not outcome.accepted
    assert outcome.findings[0].rule_id == "TD-SENDER"


def test_the_sender_must_be_the_declarations_agent(offices: OfficeRegistry):
    context = RuleContext(
        as_of=AS_OF, offices=offices, addressed_office="118", sender_agent_code="5307"
    )
    (outcome,) = analyse(submission(flat(declaration())), context).outcomes
    assert isinstance(outcome, ReadDeclaration)
    assert "TD-SENDER" in {f.rule_id for f in outcome.findings}


def test_a_mail_without_declarations_says_what_it_held(context: RuleContext):
    (outcome,) = analyse(submission(b"GIF89a....", body="hola\n"), context).outcomes
    assert isinstance(outcome, NothingReadable)
    assert any(note.startswith("cuerpo") for note in outcome.notes)
    assert any("DECL1.TXT" in note for note in outcome.notes)


@pytest.mark.parametrize("garbage", [b"", b"\x00\xff" * 100, b"From: x\r\n\r\n", b"\r\n\r\n"])
def test_garbage_never_raises(context: RuleContext, garbage: bytes):
    (outcome,) = analyse(garbage, context).outcomes
    assert isinstance(outcome, NothingReadable)


def test_headers_for_threading():
    raw = (
        b"Message-ID: <abc@agencias.pe>\r\nReferences: <x@y>\r\n"
        b"Subject: =?iso-8859-1?q?Declaraci=F3n?=\r\n\r\nbody"
    )
    headers = read_headers(raw)
    assert headers.message_id == "<abc@agencias.pe>"
    assert headers.references == "<x@y>"
    assert headers.subject == "Declaración"


def test_a_message_id_that_is_not_one_is_not_threaded_to():
    assert read_headers(b"Message-ID: sin-corchetes\r\n\r\n").message_id is None
    assert read_headers(b"Subject: x\r\n\r\n").message_id is None


def test_references_keep_only_message_ids_and_the_end_of_a_long_thread():
    chain = " ".join(f"<m{n}@x>" for n in range(30))
    raw = f"Message-ID: <yo@x>\r\nReferences: basura {chain} (comentario)\r\n\r\n".encode()
    references = read_headers(raw).references
    assert references is not None
    assert references.split() == [f"<m{n}@x>" for n in range(10, 30)]


# -- bodies as GUI clients send them (issue: a flowed body was refused 'CALLAO') ----------------


def _thunderbird_body(text: str) -> bytes:
    """A Thunderbird plain-text mail: format=flowed, long lines wrapped at 72 on a space."""
    body = thunderbird_wrap(text.replace("\r\n", "\n").rstrip("\n")) + "\r\n-- \r\nJuan\r\n"
    return (
        "From: agente1@agencias.pe\r\nTo: aduana-118@aduanas.gob.pe\r\n"
        "Subject: DUA\r\nMessage-ID: <tb-1@agencias.pe>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"Buenos días, adjunto la DUA:\r\n\r\n{body}"
    ).encode()


def test_a_declaration_pasted_into_a_flowed_body_is_read(context: RuleContext):
    decl = declaration(reference="FLOWED-1")
    raw = _thunderbird_body(flat(decl).decode("latin-1"))
    assert b"2833, \r\nCALLAO" in raw  # wrapped as the client does
    (outcome,) = analyse(raw, context).outcomes
    assert isinstance(outcome, ReadDeclaration), outcome
    assert outcome.accepted and outcome.declaration == decl


def test_a_delsp_flowed_body_broken_inside_words_is_read(context: RuleContext):
    """Apple Mail's DelSp=yes: the client may break anywhere, adding a space it marks."""
    decl = declaration(reference="DELSP-1")
    lines = []
    for line in flat(decl).decode("latin-1").splitlines():
        lines += [line[i : i + 30] + " " for i in range(0, len(line) - 30, 30)]
        lines.append(line[(len(line) - 1) // 30 * 30 :])
    raw = (
        "From: agente1@agencias.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nSubject: DUA\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="us-ascii"; format="flowed"; delsp="yes"\r\n'
        "Content-Transfer-Encoding: 7bit\r\n\r\n" + "\r\n".join(lines) + "\r\n"
    ).encode()
    (outcome,) = analyse(raw, context).outcomes
    assert isinstance(outcome, ReadDeclaration) and outcome.declaration == decl


def test_a_quoted_printable_body_with_soft_breaks_and_a_signature_is_read(
    context: RuleContext,
):
    """Outlook's plain text: quoted-printable, lines over 76 split with '=' soft breaks."""
    decl = declaration(reference="QP-1")
    text = flat(decl) + b"\r\n-- \r\nJuan Perez\tAgencia\r\n"
    raw = (
        b"From: agente1@agencias.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nSubject: DUA\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + quopri.encodestring(text)
    )
    assert b"=\n" in raw or b"=\r\n" in raw
    (outcome,) = analyse(raw, context).outcomes
    assert isinstance(outcome, ReadDeclaration) and outcome.declaration == decl


def test_a_forwarded_flowed_mail_is_read(context: RuleContext):
    decl = declaration(reference="FWD-1")
    inner = _thunderbird_body(flat(decl).decode("latin-1"))
    raw = (
        b"From: agente1@agencias.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nSubject: Fwd: DUA\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=UTF-8; format=flowed\r\n\r\n"
        b"Reenvio la DUA.\r\n\r\n"
        b"--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
        + inner
        + b"\r\n--b1--\r\n"
    )
    (outcome,) = analyse(raw, context).outcomes
    assert isinstance(outcome, ReadDeclaration) and outcome.declaration == decl


def _edifact(decl: DUA | OE) -> bytes:
    return render_declaration(decl, WireFormat.EDIFACT)


def test_a_bad_interchange_does_not_sink_the_mail(context: RuleContext):
    """A 5 000-digit syntax version once raised ValueError and the whole mail was retried."""
    bad = b"UNA:+.? 'UNB+UNOC:" + b"9" * 5000 + b"+4821:ZZ+ADUANA118:ZZ+970303:1200+R1'"
    raw = submission(flat(declaration(reference="P-1")), bad + b"UNZ+0+R1'")
    first, second = analyse(raw, context).outcomes
    assert isinstance(first, ReadDeclaration) and first.accepted
    assert isinstance(second, UnreadableDeclaration) and second.error.code == "EDI-ENVELOPE"


def test_each_message_of_an_interchange_is_answered_on_its_own(context: RuleContext):
    one = _edifact(declaration(reference="P-1")).decode("latin-1").split("\r\n")
    two = _edifact(declaration(reference="P-2", breaks="ID-RUC")).decode("latin-1").split("\r\n")
    unh, unt = (
        one.index("UNH+1+CUSDEC:D:96B:UN'"),
        next(i for i, s in enumerate(one) if s.startswith("UNT+")),
    )
    second = [s.replace("+1'", "+2'") if s[:3] in ("UNH", "UNT") else s for s in two[unh : unt + 1]]
    second[0] = "UNH+2+CUSDEC:D:96B:UN'"
    group = ["UNG+CUSDEC+4821:ZZ+ADUANA118:ZZ+970303:0000+G1+UN+D:96B'"]
    text = one[:2] + group + one[unh : unt + 1] + second + ["UNE+2+G1'", "UNZ+1" + one[-2][5:]]
    raw = submission("\r\n".join(text).encode("latin-1") + b"\r\n")
    first, other = analyse(raw, context).outcomes
    assert isinstance(first, ReadDeclaration) and first.accepted
    assert first.declaration.agent_reference == "P-1"
    assert isinstance(other, ReadDeclaration) and not other.accepted
    assert other.declaration.agent_reference == "P-2"
    assert "mensaje 2" in other.document.source


# -- the analysis budget -------------------------------------------------------------------


def multipart(parts: int, *, body: bytes = b"x\r\n") -> bytes:
    head = (
        b'Subject: partes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n'
    )
    return head + b"\r\n" + (b"--b\r\n\r\n" + body) * parts + b"--b--\r\n"


def nested(levels: int) -> bytes:
    """A mail forwarded inside a mail, ``levels`` multiparts deep."""
    raw = b'Content-Type: multipart/mixed; boundary="n0"\r\n\r\n'
    for level in range(1, levels):
        raw += (
            f'--n{level - 1}\r\nContent-Type: multipart/mixed; boundary="n{level}"\r\n\r\n'.encode()
        )
    for level in reversed(range(levels)):
        raw += f"--n{level}\r\n\r\nhola\r\n--n{level}--\r\n".encode()
    return raw


BUDGET = AnalysisBudget(max_bytes=100_000, max_parts=10, max_depth=3)


@pytest.mark.parametrize(
    ("raw", "limit"),
    [
        (multipart(10), None),
        (multipart(11), "más de 10 partes MIME"),
        (nested(3), None),
        (nested(4), "a más de 3 niveles"),
        (multipart(1, body=b"x" * 100_000), "la aduana examina mensajes de hasta 100 000 bytes"),
        # Lines that start with two dashes but are no delimiter are text (a signature).
        (multipart(2, body=b"-- \r\n--b-c\r\n--bb\r\n" * 20), None),
        (submission(flat(declaration()), flat(declaration(reference="B"))), None),
    ],
)
def test_the_budget_counts_parts_nesting_and_bytes(raw: bytes, limit: str | None) -> None:
    found = over_budget(raw, BUDGET)
    assert found is None if limit is None else (found is not None and limit in found)


@pytest.mark.parametrize("parts", [1, 2, 10])
def test_the_densest_mail_one_part_over_the_budget_is_refused(parts: int) -> None:
    """The shortest lines that count as parts: a mail short enough to skip the scan never
    holds more than ``max_parts`` of them."""
    budget = AnalysisBudget(max_parts=parts, max_depth=1)
    head = b"boundary=b\n"  # all a parser needs to count the lines below as parts
    assert over_budget(head + b"\n".join([b"--b"] * parts), budget) is None
    assert over_budget(head + b"\n".join([b"--b"] * (parts + 1)), budget) is not None
    assert over_budget(b"boundary=a\n--a\n" * 2, budget) is not None  # nested two deep


_PIECES = (
    b"boundary=a", b'BOUNDARY = "b"', b"boundary=", b"--a", b"--a--", b"--b", b"--b--",
    b"--", b"-- ", b"\r\n", b"\n", b"\n", b"\n", b"x", b"Content-Type: multipart/mixed; ",
)  # fmt: skip


def test_a_mail_skipped_by_its_length_is_one_the_scan_passes() -> None:
    """Whatever the mail and the budget, ``over_budget`` answers as the scan does."""
    draw = random.Random(13)
    for _ in range(3000):
        raw = b"".join(draw.choices(_PIECES, k=draw.randrange(1, 60)))
        budget = AnalysisBudget(max_parts=draw.randrange(1, 20), max_depth=draw.randrange(1, 4))
        assert over_budget(raw, budget) == scanned_over_budget(raw, budget), raw


def test_a_mail_over_its_budget_is_answered_unread(context: RuleContext) -> None:
    raw = multipart(11, body=flat(declaration()))  # eleven declarations: never read
    analysis = analyse(raw, context, budget=BUDGET)
    (outcome,) = analysis.outcomes
    assert isinstance(outcome, NothingReadable)
    assert "más de 10 partes MIME" in outcome.notes[0] and "no se examinó" in outcome.notes[0]
    assert analysis.headers.subject == "partes"
    # Within the budget, the same kind of mail is read as usual.
    read = analyse(multipart(2, body=flat(declaration())), context, budget=BUDGET)
    assert [type(o) for o in read.outcomes] == [ReadDeclaration, ReadDeclaration]
