"""The shortcut MIME split builds the email package's own tree, or leaves the mail to it."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import Message

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi_formats.mimetree import MAX_NESTING, Delimiter, well_formed_tree


def by_the_email_package(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def same_tree(ours: Message, theirs: Message) -> bool:
    """Every attribute of every node equal: header lists, payloads, preamble, epilogue,
    default type, defects (by kind)."""
    mine, other = dict(vars(ours)), dict(vars(theirs))
    payload, other_payload = mine.pop("_payload"), other.pop("_payload")
    defects, other_defects = mine.pop("defects"), other.pop("defects")
    if mine != other or [type(d) for d in defects] != [type(d) for d in other_defects]:
        return False
    if isinstance(payload, list):
        return (
            isinstance(other_payload, list)
            and len(payload) == len(other_payload)
            and all(same_tree(a, b) for a, b in zip(payload, other_payload, strict=True))
        )
    return bool(payload == other_payload)


def agrees(raw: bytes) -> Message | None:
    tree = well_formed_tree(raw)
    if tree is not None:
        assert same_tree(tree, by_the_email_package(raw))
    return tree


def mixed(
    *parts: bytes, preamble: bytes = b"", epilogue: bytes = b"", nl: bytes = b"\r\n"
) -> bytes:
    head = b'From: a@b.pe\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary="=_b"\r\n\r\n'
    body = preamble + b"".join(b"--=_b" + nl + part + nl for part in parts)
    return (head + body + b"--=_b--" + nl + epilogue).replace(b"\r\n", nl)


TEXT = b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nAdjunto la declaraci\xf3n.\r\n"
FLAT = (
    b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="DUA.TXT"\r\n\r\nVERIfFRFTEVERVNQQUNITw==\r\n'
)
ALTERNATIVE = (
    b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\nContent-Type: '
    b"text/plain\r\n\r\nhola\r\n--alt\r\nContent-Type: text/html\r\n\r\n<p>hola</p>\r\n--alt--\r\n"
)

WELL_FORMED = {
    "a plain text mail": b"From: a@b.pe\r\nSubject: x\r\n\r\nuna l\xednea\r\notra",
    "an empty body": b"Subject: x\r\n\r\n",
    "text and an attachment": mixed(TEXT, FLAT),
    "LF line ends": mixed(TEXT, FLAT, nl=b"\n"),
    "a preamble and an epilogue": mixed(TEXT, preamble=b"Esto es MIME.\r\n", epilogue=b"fin\r\n"),
    "a nested alternative": mixed(ALTERNATIVE, FLAT),
    "a folded header": b"Subject: uno\r\n dos\r\n\tres\r\nX-A: b\r\n\r\ncuerpo\r\n",
    "a closing delimiter without line end": mixed(TEXT)[:-2],
    "whitespace after a delimiter": mixed(TEXT).replace(b"--=_b\r\n", b"--=_b  \r\n"),
    "a part without header": mixed(b"\r\nsolo texto"),
    "8-bit header bytes": b"Subject: declaraci\xf3n\r\n\r\nx\r\n",
}

UNUSUAL = {
    "a lone CR": b"Subject: x\r\n\r\nuna\rotra\r\n",
    "no blank line after the header": b"Subject: x\r\nesto no es un campo\r\n",
    "a Unix From line": b"From a@b.pe Mon Jan  1 00:00:00 1997\r\nSubject: x\r\n\r\ny\r\n",
    "a continuation first": b" Subject: x\r\n\r\ny\r\n",
    "a field without a name": b": x\r\n\r\ny\r\n",
    "a multipart without boundary": b"Content-Type: multipart/mixed\r\n\r\nx\r\n",
    "no closing delimiter": mixed(TEXT).replace(b"--=_b--\r\n", b""),
    "no delimiter at all": b'Content-Type: multipart/mixed; boundary="q"\r\n\r\nx\r\n',
    "repeated delimiters": mixed(TEXT).replace(b"--=_b\r\n", b"--=_b\r\n--=_b\r\n", 1),
    "a forwarded message": mixed(b"Content-Type: message/rfc822\r\n\r\nSubject: y\r\n\r\nz"),
    "a digest": b'Content-Type: multipart/digest; boundary="d"\r\n\r\n--d\r\n\r\nx\r\n--d--\r\n',
    "an encoded multipart": mixed(TEXT).replace(
        b"Subject: x\r\n", b"Subject: x\r\nContent-Transfer-Encoding: base64\r\n"
    ),
    "closed at once": b'Content-Type: multipart/mixed; boundary="c"\r\n\r\n--c--\r\n',
    "an empty part": mixed(TEXT).replace(b"--=_b--", b"--=_b\r\n--=_b--"),
    "a header that runs to the end": b"Subject: x\r\n",
    "an inner part closed by the outer delimiter": mixed(
        ALTERNATIVE.replace(b"--alt--\r\n", b""), FLAT
    ),
    "nesting too deep": b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (n, n)
        for n in range(MAX_NESTING + 2)
    )
    + b"\r\nx\r\n"
    + b"".join(b"--n%d--\r\n" % n for n in reversed(range(MAX_NESTING + 2))),
}


@pytest.mark.parametrize("raw", WELL_FORMED.values(), ids=WELL_FORMED.keys())
def test_a_well_formed_mail_gets_the_email_packages_tree(raw: bytes) -> None:
    assert agrees(raw) is not None


@pytest.mark.parametrize("raw", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_what_the_parser_treats_specially_is_left_to_it(raw: bytes) -> None:
    assert well_formed_tree(raw) is None


def often(common: list[bytes], rare: list[bytes]) -> st.SearchStrategy[bytes]:
    """Mostly what agents' clients write; one time in ten, what sits at the parser's edge."""
    return st.integers(0, 9).flatmap(lambda roll: st.sampled_from(rare if roll == 9 else common))


_LINE = often(
    [b"texto", b"", b"  sangrado", b"TDH|TELEDESPACHO|01|DUA|ISO-8859-1", b"\xf1and\xfa"],
    [b"--", b"--b0", b"--b1--", b"--b0--  ", b"--b2 ", b"begin 644 x", b"Subject: y", b"\tx"],
)
_FIELD = often(
    [b"Subject: x", b"X-Y: z", b'Content-Disposition: attachment; filename="D"'],
    [b" continuado", b"no es campo", b":x", b"From a@b.pe"],
)


@st.composite
def entities(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A MIME entity, mostly well formed, built from pieces near the parser's edge cases."""
    fields = draw(st.lists(_FIELD, max_size=3))
    boundary = draw(often([b"b%d" % depth], [b"b", b"b0", b"b1"]))
    multipart = depth < 3 and draw(st.integers(0, 2)) < 2
    if multipart:
        kind = draw(often([b"mixed", b"alternative"], [b"digest", b"related"]))
        fields.append(b"Content-Type: multipart/" + kind + b'; boundary="' + boundary + b'"')
    else:
        fields.append(
            draw(often([b"Content-Type: text/plain", b"X-Nada: 1"], [b"Content-Type: message/x"]))
        )
    head = b"".join(field + b"\n" for field in draw(st.permutations(fields)))
    if draw(st.integers(0, 9)) < 9:
        head += b"\n"
    if not multipart:
        return head + b"\n".join(draw(st.lists(_LINE, max_size=4)))
    body = b"".join(line + b"\n" for line in draw(st.lists(_LINE, max_size=2)))
    for part in draw(st.lists(entities(depth + 1), min_size=1, max_size=3)):
        body += b"--" + boundary + b"\n" + part + b"\n"
    if draw(st.integers(0, 9)) < 9:
        body += b"--" + boundary + b"--" + draw(st.sampled_from([b"", b"\n", b" \n", b"\nfin\n"]))
    return head + body


@settings(max_examples=600, deadline=None)
@given(raw=entities(), crlf=st.booleans())
def test_random_mails_get_the_same_tree_or_none(raw: bytes, crlf: bool) -> None:
    agrees(raw.replace(b"\n", b"\r\n") if crlf else raw)


def feed_parser_delimiter(boundary: str) -> re.Pattern[str]:
    """``boundaryre`` as email.feedparser compiles it."""
    return re.compile(
        "(?P<sep>" + re.escape("--" + boundary) + r")(?P<end>--)?(?P<ws>[ \t]*)"
        r"(?P<linesep>\r\n|\r|\n)?$"
    )


@settings(max_examples=1000, deadline=None)
@given(
    boundary=st.text(alphabet="ab-= _.\t", min_size=1, max_size=4),
    middle=st.text(alphabet="ab- \t=", max_size=6),
    end=st.sampled_from(["", "\n", "\r\n"]),
)
def test_a_delimiter_line_is_the_feed_parsers(boundary: str, middle: str, end: str) -> None:
    for line in (f"--{boundary}{middle}{end}", f"{middle}{end}", f"--{boundary}--{middle}{end}"):
        theirs = feed_parser_delimiter(boundary).match(line)
        ours = Delimiter(boundary).match(line)
        if theirs is None:
            assert ours is None, line
        else:
            assert ours == (bool(theirs.group("end")), theirs.group("linesep")), line
