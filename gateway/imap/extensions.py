"""IMAP commands today's clients ask for that pymap 0.36.7 lacks, and answers it gets wrong.

- ``NAMESPACE`` (RFC 2342): one personal namespace, ``(("" "/")) NIL NIL``.
- ``UNSELECT`` (RFC 3691): leave the mailbox without CLOSE's expunge.
- ``ENABLE`` (RFC 5161): nothing here needs enabling, so the answer is an empty ``ENABLED``
  (Thunderbird and others send ``ENABLE`` and carry on either way).
- ``SASL-IR`` (RFC 4959): ``AUTHENTICATE PLAIN <initial response>`` in one line.
- ``SEARCH CHARSET`` with a charset the node does not know is ``NO [BADCHARSET ...]``
  (RFC 3501 §6.4.4), not ``BAD``: the client may retry in UTF-8.
- A mailbox name with raw 8-bit bytes is refused (``BAD``): RFC 3501 §5.1.3 names are
  modified UTF-7, and pymap decoded them as Latin-1 or as garbage.

``Connection`` and ``State`` are pymap's, with these commands (``gateway.imap.server``
combines ``Connection`` with the bounded reads of ``gateway.imap.connection``); the commands
are registered on the configuration's command set (``register``). Upstream, these belong in
``pymap.imap.state.ConnectionState`` and ``pymap.parsing.command``.
"""

from __future__ import annotations

import binascii
from base64 import b64decode, b64encode
from collections.abc import Iterable
from functools import partial
from typing import Any, Final

from pymap.context import current_command
from pymap.exceptions import ResponseError
from pymap.imap import IMAPConnection
from pymap.imap.state import ConnectionState
from pymap.parsing import EndLine, Params, Space
from pymap.parsing.command import CommandAuth, CommandNoArgs, CommandSelect
from pymap.parsing.command.nonauth import AuthenticateCommand
from pymap.parsing.command.select import ExpungeCommand, FetchCommand, StoreCommand
from pymap.parsing.commands import Commands, InvalidCommand
from pymap.parsing.exceptions import NotParseable
from pymap.parsing.primitives import Atom
from pymap.parsing.response import (
    CommandResponse,
    Response,
    ResponseCode,
    ResponseContinuation,
    ResponseNo,
    ResponseOk,
    UntaggedResponse,
)
from pymap.parsing.specials import Mailbox
from pymap.parsing.specials.mailbox import Mailbox as _MailboxSpecial
from pymap.selected import SelectedMailbox
from pysasl.creds.server import ServerCredentials
from pysasl.exception import AuthenticationError
from pysasl.mechanism import ChallengeResponse, ServerChallenge

from gateway.imap import fast_fetch, slices
from gateway.imap.fetch_values import fetch_response
from gateway.imap.selected import IncrementalSelected

__all__ = ["CAPABILITIES", "PRE_LOGIN_CAPABILITIES", "Connection", "State", "install", "register"]

CAPABILITIES: Final = (b"NAMESPACE", b"UNSELECT", b"ENABLE")
"""Added to the capability list before and after login."""
PRE_LOGIN_CAPABILITIES: Final = (b"SASL-IR",)

_DELIMITER: Final = b"/"
_EXPUNGE_ISSUED: Final = ResponseCode.of(b"EXPUNGEISSUED")


class NamespaceCommand(CommandNoArgs, CommandAuth):
    command = b"NAMESPACE"


class UnselectCommand(CommandNoArgs, CommandSelect):
    command = b"UNSELECT"


class EnableCommand(CommandAuth):
    """``ENABLE capability...``: the names are read and none is enabled."""

    command = b"ENABLE"

    def __init__(self, tag: bytes, names: list[bytes]) -> None:
        super().__init__(tag)
        self.names = names

    @classmethod
    def parse(cls, buf: memoryview, params: Params) -> tuple[EnableCommand, memoryview]:
        names = []
        while True:
            try:
                _, after = Space.parse(buf, params)
                atom, buf = Atom.parse(after, params)
            except NotParseable:
                break
            names.append(atom.value)
        if not names:
            raise NotParseable(buf)
        _, buf = EndLine.parse(buf, params)
        return cls(params.tag, names), buf


class AuthenticateIrCommand(AuthenticateCommand):
    """``AUTHENTICATE mech [initial-response]`` (RFC 4959); ``=`` is an empty response."""

    def __init__(self, tag: bytes, mech_name: bytes, initial_response: bytes | None) -> None:
        super().__init__(tag, mech_name)
        self.initial_response = initial_response

    @classmethod
    def parse(cls, buf: memoryview, params: Params) -> tuple[AuthenticateIrCommand, memoryview]:
        _, buf = Space.parse(buf, params)
        atom, after = Atom.parse(buf, params)
        initial: bytes | None = None
        try:
            _, rest = Space.parse(after, params)
            response, rest = Atom.parse(rest, params)
        except NotParseable:
            pass
        else:
            try:
                initial = (
                    b"" if response.value == b"=" else b64decode(response.value, validate=True)
                )
            except binascii.Error:
                raise NotParseable(after) from None
            after = rest
        _, after = EndLine.parse(after, params)
        return cls(params.tag, atom.value.upper(), initial), after


class Connection(IMAPConnection):
    """pymap's connection, taking an AUTHENTICATE initial response (SASL-IR)."""

    async def authenticate(
        self, state: ConnectionState, mech_name: bytes
    ) -> ServerCredentials | None:
        command = current_command.get()
        initial = getattr(command, "initial_response", None)
        if initial is None:
            creds: ServerCredentials | None = await super().authenticate(state, mech_name)
            return creds
        mech = state.auth.get_server(mech_name)
        if not mech:
            return None
        responses = [ChallengeResponse(b"", initial)]
        while True:
            try:
                creds, final = mech.server_attempt(responses)
            except ServerChallenge as challenge:  # more steps: as pymap's own loop
                await self.write_response(ResponseContinuation(b64encode(challenge.data)))
                line = bytes(await self.read_continuation(0)).rstrip(b"\r\n")
                if line == b"*":
                    raise AuthenticationError("Authentication canceled.") from None
                try:
                    responses.append(ChallengeResponse(challenge.data, b64decode(line)))
                except binascii.Error as exc:
                    raise AuthenticationError() from exc
            else:
                if final is not None:
                    await self.write_response(ResponseContinuation(b64encode(final)))
                    await self.read_continuation(0)
                return creds


def register(commands: Commands) -> Commands:
    for command in (NamespaceCommand, UnselectCommand, EnableCommand, AuthenticateIrCommand):
        commands.register(command)
    return commands


class State(ConnectionState):
    async def do_namespace(self, cmd: NamespaceCommand) -> tuple[CommandResponse, None]:
        response = ResponseOk(cmd.tag, b"NAMESPACE completed.")
        response.add_untagged(UntaggedResponse(b'NAMESPACE (("" "%b")) NIL NIL' % _DELIMITER))
        return response, None

    async def do_unselect(self, cmd: UnselectCommand) -> tuple[CommandResponse, None]:
        self._selected = None
        return ResponseOk(cmd.tag, b"UNSELECT completed."), None

    async def do_enable(self, cmd: EnableCommand) -> tuple[CommandResponse, None]:
        response = ResponseOk(cmd.tag, b"ENABLE completed.")
        response.add_untagged(UntaggedResponse(b"ENABLED"))
        return response, None

    async def do_fetch(self, cmd: FetchCommand) -> tuple[CommandResponse, SelectedMailbox]:
        """pymap's ``do_fetch`` (a FETCH not answered in slices), a costly message's values
        made in the lane (``gateway.imap.fetch_values``)."""
        selected = self.selected
        if not cmd.uid:
            selected.hide_expunged = True
        set_seen = not selected.readonly and any(attr.set_seen for attr in cmd.attributes)
        messages, updates = await self.session.fetch_messages(selected, cmd.sequence_set, set_seen)
        response = ResponseOk(cmd.tag, cmd.command + b" completed.")
        for seq, message in messages:
            if message.expunged:
                response.code = _EXPUNGE_ISSUED
            response.add_untagged(fetch_response(seq, message, selected, cmd.attributes))
        return response, updates

    async def do_command(self, cmd: Any) -> CommandResponse:
        if fast_fetch.is_fast(cmd) and self._session is not None and self._selected is not None:
            return await self._fast_fetch(cmd)
        if isinstance(cmd, FetchCommand | StoreCommand) and self._session and self._selected:
            uids = slices.uids_named(self._selected, cmd.sequence_set)
            if uids is not None and slices.answered_in_slices(cmd, uids):
                return slices.SlicedResponse(cmd.tag, partial(self._answer_in_slices, cmd, uids))
        if isinstance(cmd, ExpungeCommand) and self._session and self._selected:
            return slices.SlicedResponse(cmd.tag, partial(self._expunge_in_slices, cmd))
        if isinstance(cmd, InvalidCommand) and _bad_charset(cmd):
            code = ResponseCode.of(b"BADCHARSET (US-ASCII UTF-8)")
            return ResponseNo(cmd.tag, b"Unknown charset, use UTF-8.", code)
        response: CommandResponse = await super().do_command(cmd)
        return response

    async def _answer_in_slices(
        self, cmd: FetchCommand | StoreCommand, uids: list[int], sink: slices.Sink
    ) -> Response:
        """``gateway.imap.slices``, then the end of pymap's ``do_command``: the mailbox's
        changes announced after the last slice."""
        final, updates = await slices.answer_in_slices(cmd, uids, self.session, self.selected, sink)
        if updates is not None:
            self._selected, untagged = updates.fork(cmd)
            await slices.send_in_slices(sink, list(untagged))
        return final

    async def _expunge_in_slices(self, cmd: ExpungeCommand, sink: slices.Sink) -> Response:
        """pymap's ``do_expunge`` (which finds the messages a slice at a time), then its
        announcements: a line per message removed, sent a slice at a time."""
        try:
            final, updates = await self.do_expunge(cmd)
        except ResponseError as exc:
            return exc.get_response(cmd.tag)
        if updates is not None:
            self._selected, untagged = updates.fork(cmd)
            await slices.send_in_slices(sink, list(untagged))
        return final

    async def _fast_fetch(self, cmd: fast_fetch.FastCommand) -> CommandResponse:
        """pymap's ``do_fetch`` and the end of its ``do_command``, formatted by
        ``gateway.imap.fast_fetch`` (which read the command line)."""
        selected = self.selected
        if not cmd.uid:
            selected.hide_expunged = True
        set_seen = not selected.readonly and cmd.parsed.sets_seen
        messages, updates = await self.session.fetch_messages(selected, cmd.sequence_set, set_seen)
        responses, expunged = await fast_fetch.answer(cmd, selected, messages)
        untagged: Iterable[UntaggedResponse]
        if updates is selected and isinstance(selected, IncrementalSelected) and selected.settle():
            untagged = ()  # nothing to announce: the view goes on as it is, unforked
        else:
            self._selected, untagged = updates.fork(cmd)
        return fast_fetch.render(cmd, responses, expunged, untagged)


def _bad_charset(cmd: InvalidCommand) -> bool:
    cause = cmd.parse_exc
    return cause is not None and cause.code is not None and bytes(cause.code) == b"[BADCHARSET]"


# --- 8-bit mailbox names ------------------------------------------------------------------

_ORIGINAL_MAILBOX_PARSE: Final = _MailboxSpecial.parse


def _mailbox_parse(cls: type[Mailbox], buf: memoryview, params: Params) -> tuple[Mailbox, Any]:
    mailbox, after = _ORIGINAL_MAILBOX_PARSE(buf, params)
    consumed = bytes(buf[: len(buf) - len(after)])
    if any(byte >= 0x80 for byte in consumed):
        raise NotParseable(buf)
    return mailbox, after


_installed = False


def install() -> None:
    """Refuse 8-bit mailbox names (idempotent; the IMAP server calls it when built)."""
    global _installed
    if not _installed:
        _MailboxSpecial.parse = classmethod(_mailbox_parse)  # type: ignore[method-assign, assignment]
        _installed = True
