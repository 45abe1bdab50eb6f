"""The agent's mail as files: a submission built from declaration files, and each fetched
message saved under a name taken from the message itself.

Apart from the sessions (``gateway.clients.agent``) so that what goes on the wire and what
lands on disk can be read, and tested, on their own.
"""

from __future__ import annotations

import email.policy
import hashlib
import mimetypes
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Final

from config.clock import Clock
from gateway.clients.agent import FetchedMessage

__all__ = ["build_submission", "message_file_name", "save_messages"]

_TYPES_BY_SUFFIX = {
    ".json": ("application", "json"),
    ".edi": ("application", "edifact"),
    ".edifact": ("application", "edifact"),
    ".txt": ("text", "plain"),
}


def build_submission(
    files: Sequence[Path],
    *,
    sender: str,
    recipient: str,
    clock: Clock,
    subject: str | None = None,
) -> EmailMessage:
    """A message carrying each declaration file as an attachment."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject or "Teledespacho: " + ", ".join(f.name for f in files)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(f"{len(files)} declaration(s) attached.\n", charset="us-ascii", cte="7bit")
    for path in files:
        maintype, subtype = _content_type(path)
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return message


def _content_type(path: Path) -> tuple[str, str]:
    known = _TYPES_BY_SUFFIX.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed and "/" in guessed:
        maintype, _, subtype = guessed.partition("/")
        return maintype, subtype
    return "text", "plain"


def save_messages(messages: Sequence[FetchedMessage], directory: Path) -> list[Path]:
    """Write each message as ``message_file_name(data)``, whatever protocol fetched it."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for message in messages:
        path = directory / message_file_name(message.data)
        path.write_bytes(message.data)
        written.append(path)
    return written


def message_file_name(data: bytes) -> str:
    """``<date>-<reference>-<id>.eml``, from the message itself, so POP3 and IMAP agree.

    The date (the Date header, in the sender's own time) sorts a folder by arrival; the
    reference (X-Teledespacho-Reference, on the office's answers) says which declaration;
    the last part, from the Message-ID (or the bytes when there is none), keeps names apart.
    A server's keys (POP3 UIDL, IMAP UID) name the same message differently.
    """
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
    try:
        when = parsedate_to_datetime(str(headers.get("Date", "")))
        stamp = when.strftime("%Y%m%d-%H%M%S")
    except (TypeError, ValueError, IndexError):
        stamp = "sin-fecha"
    reference = _FILE_UNSAFE.sub("_", str(headers.get("X-Teledespacho-Reference", "")).strip())
    identity = str(headers.get("Message-ID", "")).strip().encode() or data
    digest = hashlib.sha256(identity).hexdigest()[:10]
    parts = [stamp, reference[:40], digest] if reference else [stamp, digest]
    return "-".join(parts) + ".eml"


_FILE_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")
