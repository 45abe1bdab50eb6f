"""Mail written as bytes: header fields and MIME skeletons, without building message trees.

The gateway's own mails (replies, office copies, notifications, handovers, letters) have a
fixed shape, so they are written directly: header fields folded per RFC 5322 §2.2.3 and
encoded per RFC 2047 where they are not ASCII (``headers``), bodies in quoted-printable or
base64 (RFC 2045) and parts joined under a boundary (``mime``), and for an answer written
before its number is known, templates with slots (``template``). Every mail written here
parses back with Python's ``email`` package, ``policy.default``, without defects (tested).
"""

from __future__ import annotations

from gateway.mail.headers import address_field, field, ids_field
from gateway.mail.mime import Part, attachment, literal_part, message, multipart, text_part

__all__ = [
    "Part",
    "address_field",
    "attachment",
    "field",
    "ids_field",
    "literal_part",
    "message",
    "multipart",
    "text_part",
]
