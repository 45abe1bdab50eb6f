"""FETCH answers shaped as RFC 3501 says and Dovecot 2.3 sends them.

The expected strings are Dovecot 2.3.19's answers to the same message (``/usr/lib/dovecot/imap``
on a Maildir holding ``DECLARATION``), kept here verbatim where the two must agree.
"""

from __future__ import annotations

import re

from tests.gateway.imap.conftest import AGENT, Running, in_thread

DECLARATION = (
    b"From: Agente <agente1@agencias.pe>\r\n"
    b"To: aduana-118@aduanas.gob.pe\r\n"
    b"Subject: =?ISO-8859-1?Q?importaci=F3n?=\r\n"
    b"Date: Mon, 3 Mar 1997 10:00:00 -0500\r\n"
    b"Message-ID: <x@y>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="BB"\r\n'
    b"\r\n"
    b"--BB\r\n"
    b"Content-Type: text/plain; charset=ISO-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Declaraci=F3n de importaci=F3n adjunta.\r\n"
    b"--BB\r\n"
    b'Content-Type: text/plain; name="DUA.TXT"\r\n'
    b'Content-Disposition: attachment; filename="DUA.TXT"\r\n'
    b"\r\n"
    b"linea 1\r\n"
    b"linea 2\r\n"
    b"--BB--\r\n"
)

# Dovecot 2.3's ENVELOPE: the Date: and Subject: strings as sent.
DOVECOT_ENVELOPE = (
    b'("Mon, 3 Mar 1997 10:00:00 -0500" "=?ISO-8859-1?Q?importaci=F3n?=" '
    b'(("Agente" NIL "agente1" "agencias.pe")) (("Agente" NIL "agente1" "agencias.pe")) '
    b'(("Agente" NIL "agente1" "agencias.pe")) ((NIL NIL "aduana-118" "aduanas.gob.pe")) '
    b'NIL NIL NIL "<x@y>")'
)


def fetch(running: Running, items: str) -> bytes:
    """The raw untagged FETCH answer for message 1 (literals inline)."""
    client = running.login()
    client.append("INBOX", None, None, DECLARATION)
    client.select("INBOX")
    _, data = client.fetch("1", items)
    return b"".join(part if isinstance(part, bytes) else b"".join(part) for part in data)


async def test_envelope_gives_the_header_strings_as_sent(imap: Running) -> None:
    answer = await in_thread(lambda: fetch(imap, "(ENVELOPE)"))
    assert answer == b"1 (ENVELOPE " + DOVECOT_ENVELOPE + b")"


async def test_bodystructure_sizes_lines_and_disposition_per_part(imap: Running) -> None:
    answer = await in_thread(lambda: fetch(imap, "(BODYSTRUCTURE)"))
    # As Dovecot: each part's body size and line count (39/0, 16/1, not the whole part's),
    # and the disposition as a parenthesized list (RFC 3501 body-fld-dsp).
    assert b'"quoted-printable" 39 0 NIL NIL NIL NIL)' in answer
    assert b'"7BIT" 16 1 NIL ("attachment" ("filename" "DUA.TXT")) NIL NIL)' in answer
    assert answer.endswith(b'"mixed" ("boundary" "BB") NIL NIL NIL))')


async def test_a_part_ends_before_the_crlf_of_its_boundary(imap: Running) -> None:
    """RFC 2046 §5.1.1: the CRLF before ``--BB`` belongs to the boundary (Dovecot: 39)."""
    answer = await in_thread(lambda: fetch(imap, "(BODY.PEEK[1] BODY.PEEK[2])"))
    assert b"BODY[1] {39}Declaraci=F3n de importaci=F3n adjunta. " in answer
    assert answer.endswith(b"BODY[2] {16}linea 1\r\nlinea 2)")


async def test_binary_is_answered_by_its_name_without_peek(imap: Running) -> None:
    """RFC 3516 §4.2, as Dovecot: ``BINARY.PEEK[2]`` is answered as ``BINARY[2]``."""
    answer = await in_thread(lambda: fetch(imap, "(BINARY.PEEK[2])"))
    assert re.match(rb"1 \(BINARY\[2\] ~?\{16\}linea 1\r\nlinea 2\)", answer), answer


async def test_header_fields_are_echoed_in_the_order_asked(imap: Running) -> None:
    answer = await in_thread(lambda: fetch(imap, "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])"))
    assert answer.startswith(b"1 (BODY[HEADER.FIELDS (FROM SUBJECT DATE)] {117}From: ")


def keywords(running: Running) -> tuple[bytes, bytes, list[bytes]]:
    client = running.login()
    client.append("INBOX", None, None, DECLARATION)
    client.select("INBOX")
    _, permanent = client.response("PERMANENTFLAGS")
    client.store("1", "FLAGS", r"($Label1 \Seen $Forwarded)")
    client.logout()
    again = running.login()
    again.select("INBOX")
    _, data = again.fetch("1", "(FLAGS)")
    _, listed = again.response("FLAGS")
    return bytes(permanent[0] or b""), bytes(data[0] or b""), [bytes(x or b"") for x in listed]


async def test_keywords_are_stored_and_permanentflags_says_so(imap: Running) -> None:
    """Thunderbird's tags, $Junk, $Forwarded, $MDNSent persist, as in Dovecot."""
    permanent, flags, listed = await in_thread(lambda: keywords(imap))
    assert b"\\*" in permanent.split(b" ") or permanent.startswith(b"(\\*")
    assert b"$Label1" in flags and b"$Forwarded" in flags and b"\\Seen" in flags, flags
    assert all(b"\\*" not in line for line in listed)  # FLAGS lists no wildcard


async def test_keyword_stored_for_the_agent(imap: Running) -> None:
    await in_thread(lambda: keywords(imap))
    [info] = await imap.store.list_messages(AGENT)
    assert {"$Label1", "$Forwarded", "\\Seen"} <= set(info.flags)


FORWARD = (
    b"From: a@b.pe\r\nTo: c@d.pe\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n'
    b"preamble\r\n--X\r\nContent-Type: text/plain\r\n\r\nhola\r\n\r\n"
    b"--X\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
    b"From: e@f.pe\r\nSubject: inner\r\nDate: Tue, 4 Mar 1997 09:00:00 -0500\r\n\r\n"
    b"cuerpo\r\ninterno\r\n"
    b'--X\r\nContent-Type: application/octet-stream; name="a.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment;\r\n filename="a.bin"\r\n\r\nAAECAw==\r\n'
    b"--X--\r\nepilogue\r\n"
)

# Dovecot 2.3's answer, but for two things it adds and we do not: the default
# ("charset" "us-ascii") parameter of text parts, and lower-case "7bit".
DOVECOT_FORWARD_STRUCTURE = (
    b'(("text" "plain" NIL NIL NIL "7BIT" 6 1 NIL NIL NIL NIL)'
    b'("message" "rfc822" NIL NIL NIL "7BIT" 85 ("Tue, 4 Mar 1997 09:00:00 -0500" "inner" '
    b'((NIL NIL "e" "f.pe")) ((NIL NIL "e" "f.pe")) ((NIL NIL "e" "f.pe")) NIL NIL NIL NIL NIL) '
    b'("text" "plain" NIL NIL NIL "7BIT" 15 1 NIL NIL NIL NIL) 5 NIL ("inline" NIL) NIL NIL)'
    b'("application" "octet-stream" ("name" "a.bin") NIL NIL "base64" 8 NIL '
    b'("attachment" ("filename" "a.bin")) NIL NIL) "mixed" ("boundary" "X") NIL NIL NIL)'
)


async def test_nested_message_and_base64_parts_as_dovecot(imap: Running) -> None:
    def structure() -> bytes:
        client = imap.login()
        client.append("INBOX", None, None, FORWARD)
        client.select("INBOX")
        _, data = client.fetch("1", "(BODYSTRUCTURE BODY.PEEK[2])")
        return b"".join(part if isinstance(part, bytes) else b"".join(part) for part in data)

    answer = await in_thread(structure)
    assert answer.startswith(b"1 (BODYSTRUCTURE " + DOVECOT_FORWARD_STRUCTURE + b" BODY[2] {85}")
    assert answer.endswith(b"\r\n\r\ncuerpo\r\ninterno)")
