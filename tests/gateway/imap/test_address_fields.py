"""Address fields of many addresses: ENVELOPE and SEARCH without the standard library's
address parser, whose time grows with the square of a field's length.

A ``To:`` of 4 000 recipients (150 KB, a mail an agent may send an office) took that parser
1.9 s, and pymap read every address field of a message with it for each ``ENVELOPE``
(which mail clients fetch for every message they list), on the event loop: with 6 000, one
``FETCH 1 ENVELOPE`` held every other client of the node about 2 s.
"""

from __future__ import annotations

import time

import pytest

from tests.gateway.http.rig import loop_pauses
from tests.gateway.imap.conftest import AGENT, Running, fetched, in_thread

RECIPIENTS = 6000
MANY_RECIPIENTS = (
    b"From: Despachador <z@example.pe>\r\nTo: "
    + b", ".join(b"Agente %d <agente%d@agencias.pe>" % (n, n) for n in range(RECIPIENTS))
    + b"\r\nSubject: circular\r\n\r\nA todos los agentes.\r\n"
)


@pytest.mark.usefixtures("frozen_heap")
async def test_the_envelope_of_many_recipients_leaves_the_loop_free(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], MANY_RECIPIENTS)

    def envelope() -> bytes:
        client = imap.login(AGENT)
        client.select("INBOX")
        status, data = client.fetch("1", "(ENVELOPE)")
        assert status == "OK", data
        return fetched(data[0])

    async with loop_pauses() as pauses:
        answer = await in_thread(envelope)

    assert answer.count(b"@agencias.pe") == 0  # addresses go as mailbox and host apart
    assert answer.count(b'"agencias.pe"') == RECIPIENTS
    assert b'("Agente 5999" NIL "agente5999" "agencias.pe")' in answer
    longest = max(pauses, default=0.0)
    assert longest < 0.5, f"the event loop was held {longest:.2f} s by one ENVELOPE"


async def test_a_search_finds_any_of_many_recipients_at_once(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], MANY_RECIPIENTS)
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX"))

    async def search(*criteria: str) -> tuple[bytes, float]:
        started = time.perf_counter()
        status, data = await in_thread(lambda: client.search(None, *criteria))
        assert status == "OK", data
        return data[0] or b"", time.perf_counter() - started

    for criteria, found in [
        (("TO", "agente5999@agencias.pe"), b"1"),
        (("TO", '"AGENTE 17 "'), b"1"),
        (("HEADER", "To", "agente2500@"), b"1"),
        (("FROM", "despachador"), b"1"),
        (("TO", "agente6000@"), b""),
    ]:
        answer, took = await search(*criteria)
        assert answer == found, criteria
        # The header parser's square: 1.6 s for each such SEARCH before the fix.
        assert took < 0.5, f"SEARCH {' '.join(criteria)} took {took:.2f} s"
