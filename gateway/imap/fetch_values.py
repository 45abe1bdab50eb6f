"""FETCH values of a costly message made in the lane, before its response is written.

pymap makes a message's FETCH values (its BODYSTRUCTURE, a part's bytes, a part decoded for
``BINARY``) as the response is written, on the event loop. For a message too costly to parse
there, they cost as much as the parse: a BODYSTRUCTURE of 999 parts took 25-100 ms, the
``BINARY`` of a 14 MB attachment 40-60 ms, and freeing the parsed message some milliseconds
more. Here the response's hook, which loads the message, makes such a message's values in
the lane before the response is written (``content.in_lane_read``: parsed, read and let go
of in one turn). The response is pymap's own ``FetchResponse``, so a command's FLAGS update
merges into it as before (``BODY[]`` setting ``\\Seen``). Used on each way a FETCH is
answered with pymap's responses: a slice at a time (``gateway.imap.slices``) or whole
(``extensions.State.do_fetch``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial

from pymap.fetch import DynamicLoadedFetchValue, MessageAttributes
from pymap.interfaces.message import LoadedMessageInterface, MessageInterface
from pymap.parsing.response.specials import FetchResponse
from pymap.parsing.specials import FetchAttribute, FetchValue
from pymap.selected import SelectedMailbox

from gateway.imap.content import in_lane_read, made_in_lane

__all__ = ["fetch_response"]


def fetch_response(
    seq: int,
    message: MessageInterface,
    selected: SelectedMailbox,
    attributes: Sequence[FetchAttribute],
) -> FetchResponse:
    """The FETCH response pymap's ``do_fetch`` makes for ``message``, its values made in the
    lane when the message is costly."""
    values = _Attributes(message, selected, attributes)
    return FetchResponse(seq, values, writing_hook=values.load_hook())


class _Made(FetchValue):
    """A value read from the loaded message, whose bytes may be made ahead of the write."""

    __slots__ = ["_made", "_value"]

    def __init__(self, value: DynamicLoadedFetchValue) -> None:
        super().__init__(value.attribute)
        self._value = value
        self._made: bytes | None = None

    def make(self) -> None:
        self._made = bytes(self._value)

    def forget(self) -> None:
        self._made = None

    def __bytes__(self) -> bytes:
        return bytes(self._value) if self._made is None else self._made


class _Attributes(MessageAttributes):
    """pymap's values of a message for a FETCH, those read from its content made in the lane
    when it was too costly to parse on the event loop."""

    __slots__: list[str] = []

    def _get(self, attr: FetchAttribute) -> FetchValue:
        value = super()._get(attr)
        return _Made(value) if isinstance(value, DynamicLoadedFetchValue) else value

    @asynccontextmanager
    async def load_hook(self) -> AsyncIterator[None]:
        """pymap's ``load_hook`` (its provider, ``_get_loaded``, applied as pymap does;
        upstream, the hook would yield the loaded message), the costly values made first."""
        loaded = await self.message.load_content(self.requirement)
        if not made_in_lane(loaded):
            with self._get_loaded.apply(loaded):
                yield
            return
        made = [value for value in self._get_values() if isinstance(value, _Made)]
        await in_lane_read(loaded, partial(self._make, made))
        with self._get_loaded.apply(loaded):  # every value read from it is made
            yield
        for value in made:
            value.forget()

    def _make(self, values: list[_Made], parsed: LoadedMessageInterface) -> None:
        with self._get_loaded.apply(parsed):
            for value in values:
                value.make()
