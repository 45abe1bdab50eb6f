"""Debian's mbsync (isync) mirroring an office mailbox, filled by the pipeline, to a Maildir.

This is the issue's "done" check: a mainstream synchronising client keeps a local copy of
the office's mailbox, and flags travel both ways.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from mailboxes.folders import FlagChange, Folders
from mailboxes.store import Change, Store
from tests.gateway.imap.test_idle import smtp_send
from tests.gateway.pipeline.helpers import declaration, flat, submission
from tests.tools import needs

pytestmark = [needs("mbsync"), pytest.mark.slow]

OFFICE = "aduana-118@aduanas.gob.pe"
AGENT = DEMO_AGENTS[0]


@dataclass
class Mbsync:
    home: Path
    port: int

    @property
    def maildir(self) -> Path:
        return self.home / "mail"

    def files(self, folder: str = "INBOX") -> list[Path]:
        base = self.maildir / folder
        return sorted(p for sub in ("cur", "new") for p in (base / sub).glob("*") if p.is_file())

    async def run(self) -> str:
        config = self.home / "mbsyncrc"
        config.write_text(
            "IMAPAccount office\n"
            "Host 127.0.0.1\n"
            f"Port {self.port}\n"
            f"User {OFFICE}\n"
            f"Pass {DEMO_PASSWORD}\n"
            "SSLType None\n"
            "AuthMechs LOGIN\n"
            "\n"
            "IMAPStore office-remote\n"
            "Account office\n"
            "\n"
            "MaildirStore office-local\n"
            f"Path {self.maildir}/\n"
            f"Inbox {self.maildir}/INBOX\n"
            "SubFolders Verbatim\n"
            "\n"
            "Channel office\n"
            "Far :office-remote:\n"
            "Near :office-local:\n"
            "Patterns *\n"
            "Create Both\n"
            "Expunge Both\n"
            "SyncState *\n"
            "Sync All\n"
        )
        process = await asyncio.create_subprocess_exec(
            "mbsync", "-c", str(config), "-V", "office",
            env={**os.environ, "HOME": str(self.home)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        transcript = output.decode(errors="replace")
        assert process.returncode == 0, transcript
        return transcript


@pytest.fixture
async def mbsync(node: Node, tmp_path: Path) -> AsyncIterator[Mbsync]:
    home = tmp_path / "clerk"
    (home / "mail").mkdir(parents=True)
    yield Mbsync(home, node.port("imap"))


async def accept(node: Node, *references: str) -> None:
    """Submit declarations over SMTP and wait until the office INBOX holds their copies."""
    store = node.store
    assert store is not None
    expected = len(await store.list_messages(OFFICE)) + len(references)
    filed = asyncio.Event()

    def listen(change: Change) -> None:
        if (OFFICE, "INBOX") in change.mailboxes:
            filed.set()

    unsubscribe = store.subscribe(listen)
    try:
        for reference in references:
            raw = submission(flat(declaration("dua", reference=reference)), sender=AGENT.address)
            await smtp_send(node, AGENT.address, OFFICE, raw)
        async with asyncio.timeout(10):
            while len(await store.list_messages(OFFICE)) < expected:
                filed.clear()
                await filed.wait()
    finally:
        unsubscribe()


def as_stored(local: bytes) -> bytes:
    """A Maildir copy as the server has it: mbsync writes LF line ends and adds X-TUID."""
    lines = [line for line in local.split(b"\n") if not line.startswith(b"X-TUID: ")]
    return b"\r\n".join(lines)


def flags_of(path: Path) -> str:
    return path.name.rpartition(":2,")[2]


async def stored(store: Store) -> list[tuple[int, frozenset[str], bytes]]:
    return [
        (info.uid, info.flags, await store.read_message(OFFICE, "INBOX", info.uid))
        for info in await store.list_messages(OFFICE)
    ]


async def test_mbsync_mirrors_the_office_mailbox_filled_by_the_pipeline(
    node: Node, mbsync: Mbsync
) -> None:
    assert node.store is not None
    await accept(node, "R-MB-1", "R-MB-2")
    await mbsync.run()
    local = sorted(as_stored(path.read_bytes()) for path in mbsync.files())
    on_server = sorted(raw for _, _, raw in await stored(node.store))
    assert local == on_server
    assert all(b"X-Teledespacho-Status: accepted" in raw for raw in local)

    await accept(node, "R-MB-3")  # new mail: the next run brings only that one
    await mbsync.run()
    assert len(mbsync.files()) == 3


async def test_mbsync_carries_flags_both_ways(node: Node, mbsync: Mbsync) -> None:
    store = node.store
    assert store is not None
    await accept(node, "R-FL-1", "R-FL-2", "R-FL-3")
    await mbsync.run()
    by_content = {as_stored(path.read_bytes()): path for path in mbsync.files()}
    (first, _, first_raw), (second, _, second_raw), (_, _, third_raw) = await stored(store)

    # Clerk's side: read the first (S), trash the third (T; expunged on both sides).
    for raw, flag in ((first_raw, "S"), (third_raw, "T")):
        path = by_content[raw]
        path.rename(path.with_name(path.name.rpartition(":2,")[0] + ":2," + flag))
    # Server's side: someone flags the second one over IMAP.
    inbox = await Folders(store).get(OFFICE, "INBOX")
    assert inbox is not None
    await Folders(store).update_flags(inbox.id, [second], frozenset({"\\Flagged"}), FlagChange.ADD)

    await mbsync.run()
    flags = {uid: flags for uid, flags, _ in await stored(store)}
    assert flags == {first: {"\\Seen"}, second: {"\\Flagged"}}  # the third was expunged
    local = {as_stored(path.read_bytes()): flags_of(path) for path in mbsync.files()}
    assert local == {first_raw: "S", second_raw: "F"}


async def test_mbsync_creates_a_local_folder_on_the_server(node: Node, mbsync: Mbsync) -> None:
    store = node.store
    assert store is not None
    await accept(node, "R-CR-1")
    await mbsync.run()
    (original,) = mbsync.files()
    archive = mbsync.maildir / "Archivo 1997"
    for sub in ("cur", "new", "tmp"):
        (archive / sub).mkdir(parents=True)
    original.rename(archive / "cur" / original.name)  # the clerk files it locally

    await mbsync.run()
    assert "Archivo 1997" in await store.list_folders(OFFICE)
    (moved,) = await store.list_messages(OFFICE, "Archivo 1997")
    on_server = await store.read_message(OFFICE, "Archivo 1997", moved.uid)
    local = (archive / "cur" / original.name).read_bytes()
    assert as_stored(on_server.replace(b"\r\n", b"\n")) == as_stored(local)
    assert await store.list_messages(OFFICE) == []  # gone from INBOX on the server as well
