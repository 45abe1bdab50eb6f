"""LIST patterns (``gateway.imap.wildcards``): pymap's meaning, without its backtracking."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.imap.wildcards import ListPattern
from tests.gateway.http.rig import loop_pauses
from tests.gateway.imap.conftest import AGENT, Running, in_thread


def pymaps_meaning(pattern: str, name: str) -> bool:
    """What pymap 0.36.7's ``ListTree._get_pattern`` made of a pattern, for small inputs."""
    pieces = []
    for part in re.split(r"([*%])", pattern):
        if part == "*":
            pieces.append(".*?")
        elif part == "%":
            pieces.append("[^/]*?")
        else:
            pieces.append(re.escape(part))
    return re.match("^" + "".join(pieces) + "$", name) is not None


@given(
    st.text(alphabet="ab/*%", max_size=8),
    st.text(alphabet="ab/", max_size=10),
)
def test_a_pattern_means_what_it_meant_to_pymap(pattern: str, name: str) -> None:
    assert ListPattern(pattern, "/").matches(name) == pymaps_meaning(pattern, name)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*", "Recibidos/2026/noviembre", True),
        ("%", "Recibidos/2026", False),
        ("Recibidos/%", "Recibidos/2026", True),
        ("Recibidos/%", "Recibidos/2026/noviembre", False),
        ("Recibidos/*", "Recibidos/2026/noviembre", True),
        ("*/noviembre", "Recibidos/2026/noviembre", True),
        ("%/noviembre", "Recibidos/2026/noviembre", False),
        ("R%s/%/%e", "Recibidos/2026/noviembre", True),
        ("", "", True),
        ("", "INBOX", False),
        ("Año*", "Año 1997", True),
    ],
)
def test_patterns_mail_clients_send(pattern: str, name: str, expected: bool) -> None:
    assert ListPattern(pattern, "/").matches(name) is expected


def test_a_pattern_built_to_backtrack_is_answered_at_once() -> None:
    # pymap's regular expression took 3.8 s for 8 of these, about ten times more for 10.
    pattern = ListPattern("*a" * 200 + "*b", "/")
    started = time.process_time()
    assert not pattern.matches("a" * 255)
    assert time.process_time() - started < 0.1


async def test_a_list_built_to_backtrack_leaves_the_loop_free(imap: Running) -> None:
    def listed() -> list[bytes | None]:
        client = imap.login(AGENT)
        assert client.create("a" * 40)[0] == "OK"
        assert client.create("Archivo/2026")[0] == "OK"
        status, found = client.list('""', "*a" * 8 + "*b")
        assert status == "OK", found
        assert client.list('""', "inbox")[1] == [b'(\\HasNoChildren) "/" INBOX']
        assert client.list('""', "%/%")[1] == [b'(\\HasNoChildren) "/" Archivo/2026']
        return found

    async with loop_pauses() as pauses:
        found = await in_thread(listed)

    assert found == [None]  # nothing matches
    longest = max(pauses, default=0.0)
    assert longest < 0.5, f"the event loop was held {longest:.2f} s by one LIST"
