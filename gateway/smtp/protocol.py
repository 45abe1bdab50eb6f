"""aiosmtpd's SMTP protocol, shaped where clients look: enhanced status codes on every reply
(RFC 2034, as Postfix gives them), address syntax errors as ``501``, long DATA lines taken.

aiosmtpd writes many of its own replies (``250 OK``, ``503 Error: need RCPT command``,
``221 Bye``) without the RFC 3463 code it advertises nowhere; ``push`` is the one place all
replies pass, so the code is added there, from the reply's class, the way Postfix words
them. Replies that carry one already (ours, from ``gateway.smtp.replies``) pass unchanged; the
greeting, EHLO/HELO lines, ``334`` and ``354`` carry none (RFC 2034 §3, Postfix alike).
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import logging
import re
from base64 import b64decode, b64encode
from typing import AnyStr, Final

from aiosmtpd.smtp import MISSING, SMTP, TLSSetupException, _Missing

from gateway.lane import for_size
from gateway.smtp.data import DOT_LINE_END, DataDecoder

__all__ = ["MAX_LINE_OCTETS", "SubmissionProtocol", "with_enhanced_code"]

log = logging.getLogger(__name__)

MAX_LINE_OCTETS: Final = 64 * 1024
"""Longest DATA line taken. RFC 5321 §4.5.3.1.6 sets 1000 octets, but mail clients send
longer lines (HTML mail, long base64-less bodies); Postfix takes them too and only refuses
the message by its size. aiosmtpd would read the whole body and then answer ``500``."""

_ATOM: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH: Final = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>")
"""``<local@domain>`` with a dot-atom local part and a plain domain: what nearly every client
sends, and what the email package's header parser (aiosmtpd's ``_getaddr``) returns as is."""

_HAS_CODE: Final = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}\b")
_NO_CODE: Final = frozenset({"334", "354"})

#: The RFC 3463 code for a reply aiosmtpd writes without one, by its basic code.
ENHANCED: Final[dict[str, str]] = {
    "211": "2.0.0",
    "214": "2.0.0",
    "220": "2.0.0",  # STARTTLS's "Ready to start TLS" (the greeting is left alone)
    "221": "2.0.0",
    "235": "2.7.0",
    "250": "2.0.0",
    "252": "2.0.0",
    "421": "4.4.2",
    "432": "4.7.12",
    "451": "4.3.0",
    "452": "4.3.1",
    "454": "4.7.0",
    "500": "5.5.2",
    "501": "5.5.4",
    "502": "5.5.1",
    "503": "5.5.1",
    "504": "5.5.4",
    "530": "5.7.0",
    "534": "5.7.9",
    "535": "5.7.8",
    "538": "5.7.11",
    "550": "5.0.0",
    "552": "5.3.4",
    "553": "5.1.3",
    "554": "5.0.0",
    "555": "5.5.4",
}


def with_enhanced_code(reply: str) -> str:
    """``reply`` with an RFC 3463 code after its basic code, unless it has one or takes none."""
    basic = reply[:3]
    if basic in _NO_CODE or _HAS_CODE.match(reply) or len(reply) < 4 or reply[3] not in " -":
        return reply
    enhanced = ENHANCED.get(basic, f"{basic[0]}.0.0")
    return f"{reply[:4]}{enhanced} {reply[4:]}".rstrip()


@functools.lru_cache(maxsize=256)
def _wire(reply: str, smtputf8: bool) -> bytes:
    """``reply`` as written: its enhanced code added, encoded as aiosmtpd encodes it.

    Kept for the replies seen last: most are the same few lines, three to a mail, and
    aiosmtpd writes bytes as given. An encoding error is raised, and never kept, as before."""
    return with_enhanced_code(reply).encode("utf-8" if smtputf8 else "ascii")


@functools.lru_cache(maxsize=256)
def _unbalanced(argument: str | None) -> bool:
    """``FROM:<a@b`` or ``TO:a@b>``: the path's angle brackets do not pair up.

    Kept for the arguments seen last: a session repeats its MAIL and RCPT in every mail
    (an argument is one command line, bounded by aiosmtpd's command size limit)."""
    if argument is None:
        return False
    path = argument.split(":", 1)[-1].strip().split(" ", 1)[0]
    return path.count("<") != path.count(">") or (
        path.startswith("<") != path.endswith(">") and ("<" in path or ">" in path)
    )


class SubmissionProtocol(SMTP):
    line_length_limit = MAX_LINE_OCTETS

    _bare_replies = False  # inside EHLO/HELO: their lines carry no enhanced code

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and not self._bare_replies and not self._is_greeting(status):
            await super().push(_wire(status, self.enable_SMTPUTF8))
        else:
            await super().push(status)

    def _is_greeting(self, status: str) -> bool:
        return status.startswith("220 ") and status.startswith(f"220 {self.hostname} ")

    async def handle_exception(self, error: Exception) -> str:
        """A failed STARTTLS handshake is the client's (it distrusts the certificate, or
        hung up): one line in the log, no traceback; aiosmtpd then drops the connection."""
        if isinstance(error, TLSSetupException):
            cause = error.__cause__
            reason = cause.__class__.__name__ if cause is not None else "unknown"
            peer = self.session.peer if self.session is not None else None
            log.info("%r STARTTLS handshake failed: %s", peer, reason)
            return "454 4.7.0 TLS handshake failed"
        status: str = await super().handle_exception(error)
        return status

    async def smtp_EHLO(self, hostname: str) -> None:
        self._bare_replies = True
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._bare_replies = False

    async def smtp_HELO(self, hostname: str) -> None:
        self._bare_replies = True
        try:
            await super().smtp_HELO(hostname)
        finally:
            self._bare_replies = False

    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA, its stream read in pieces (``gateway.smtp.data``), not a line at
        a time. Its checks, replies and handler call are aiosmtpd 1.4.6's own (the version
        pinned); upstream, ``SMTP.smtp_DATA`` could read so itself."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        decoder = DataDecoder(self.data_size_limit or None, self.line_length_limit)
        reader = self._reader
        try:
            while True:
                try:
                    piece = await reader.readuntil(DOT_LINE_END)
                except asyncio.LimitOverrunError as exc:  # a large piece with no end in it
                    piece = await reader.read(exc.consumed)
                if decoder.feed(piece):
                    break
        except asyncio.CancelledError:  # the connection was lost during DATA
            log.info("Connection lost during DATA")
            self._writer.close()
            raise
        if decoder.refusal is not None:
            await self.push(decoder.refusal.value)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        # Bytes, as the node reads mail (``decode_data=False``); joined off the loop if large.
        content = await for_size(decoder.size, lambda: decoder.content)
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    async def challenge_auth(
        self,
        challenge: str | bytes,
        encode_to_b64: bool = True,
        log_client_response: bool = False,
    ) -> bytes | _Missing:
        """aiosmtpd 1.4.6's, the client's response read as its commands are: a line longer
        than the reader's limit is read to its end, dropped, and answered ``500 5.5.6``
        (RFC 4954 §4). aiosmtpd's ``readline`` raised ``ValueError`` there: the client got
        ``451 Local error``, the log a traceback, and the rest of the line was read as
        commands. (Responses are never logged: ``log_client_response`` is ignored.)"""
        raw = challenge.encode() if isinstance(challenge, str) else challenge
        await self.push(b"334 " + (b64encode(raw) if encode_to_b64 else raw))
        try:
            line = await self._reader.readuntil()
        except asyncio.LimitOverrunError as error:
            await self._drop_line(error.consumed)
            await self.push("500 5.5.6 Authentication Exchange line is too long")
            return MISSING
        blob = line.strip()
        if blob == b"*":  # RFC 4954 §4: the client cancels the exchange
            await self.push("501 5.7.0 Auth aborted")
            return MISSING
        try:
            return b64decode(blob, validate=True)
        except binascii.Error:
            await self.push("501 5.5.2 Can't decode base64")
            return MISSING

    async def _drop_line(self, consumed: int) -> None:
        """Read the rest of a line longer than the reader's limit, keeping none of it."""
        await self._reader.read(consumed)
        while True:
            try:
                await self._reader.readuntil()
                return
            except asyncio.LimitOverrunError as error:
                await self._reader.read(error.consumed)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's address parsing, without the email package's header parser for a plain
        ``<local@domain>`` path (a tenth of the node's time per submission went there).

        Anything else (quoted local parts, address literals, comments, source routes) is
        parsed by aiosmtpd as before; the results are the same for every input
        (``tests/gateway/smtp/test_address_parsing.py``).
        """
        found = _PLAIN_PATH.match(arg)
        if found is not None:
            rest = arg[found.end() :]
            if not rest or rest[0] in " \t":
                rest = rest.lstrip(" \t")
                if not rest.startswith("("):  # a comment: the parser drops it
                    address = found.group(1)
                    if self.local_part_limit and len(address.rpartition("@")[0]) > (
                        self.local_part_limit
                    ):
                        return None, None
                    return address, rest
        parsed: tuple[str | None, str | None] = super()._getaddr(arg)
        return parsed

    async def smtp_MAIL(self, arg: str | None) -> None:
        if _unbalanced(arg):
            if not await self._refused_before_address("MAIL"):
                await self.push("501 5.1.7 Bad sender address syntax")
            return
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        if _unbalanced(arg):
            if not await self._refused_before_address("RCPT"):
                await self.push("501 5.1.3 Bad recipient address syntax")
            return
        await super().smtp_RCPT(arg)

    async def _refused_before_address(self, command: str) -> bool:
        """aiosmtpd's own checks that come before the address (HELO, AUTH), answered here."""
        if await self.check_helo_needed():
            return True
        return bool(await self.check_auth_needed(command))
