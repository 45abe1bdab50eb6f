"""One agent's day of submissions: past ``submission_mib_per_day`` its mail is refused, over
SMTP (452 4.7.1: at MAIL when its declared SIZE or nothing is left, else at DATA; 552 5.3.4
for a mail larger than a whole day) and the API (429; 413) alike, and the other agents' mail
goes on. Without it, one agent could fill the disk down to the store's reserve, after which
every agent's mail was refused (452)."""

from __future__ import annotations

import asyncio
import smtplib
from pathlib import Path

import pytest

from config.clock import FixedClock
from edi_formats.codec import WireFormat, render_declaration
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests.conftest import demo_node
from tests.gateway.http.rig import client
from tests.gateway.pipeline.helpers import declaration
from tests.gateway.smtp.test_disk_full import cap_store

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
MIB = 1024 * 1024


def mail(sender: str, size: int) -> bytes:
    """A mail of exactly ``size`` bytes (lines of 78 and one a little longer)."""
    head = f"From: {sender}\r\nSubject: {size}\r\n\r\n".encode()
    lines, rest = divmod(size - len(head), 78)
    return head + (b"y" * 76 + b"\r\n") * (lines - 1) + b"y" * (76 + rest) + b"\r\n"


def send(node: Node, sender: str, raw: bytes) -> None:
    """Send ``raw`` as smtplib does, declaring its ``SIZE`` (the node offers the extension)."""
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=30) as smtp:
        smtp.login(sender, DEMO_PASSWORD)
        smtp.sendmail(sender, [OTHER if sender == AGENT else AGENT], raw)


def send_undeclared(node: Node, sender: str, raw: bytes) -> tuple[int, bytes]:
    """Send ``raw`` without ``SIZE``, as a client that does not declare it; the reply to
    its data."""
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=30) as smtp:
        smtp.login(sender, DEMO_PASSWORD)
        assert smtp.mail(sender)[0] == 250 and smtp.rcpt(OTHER)[0] == 250
        return smtp.data(raw)


async def test_past_its_days_allowance_an_agents_mail_is_refused_and_the_others_goes_on(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with demo_node(tmp_path, clock, submission_mib_per_day=1, http_port=0) as node:
        assert node.store is not None
        for size in (400_000, 400_000):
            await asyncio.to_thread(send, node, AGENT, mail(AGENT, size))
        with pytest.raises(smtplib.SMTPSenderRefused) as declared:  # would pass the MiB
            await asyncio.to_thread(send, node, AGENT, mail(AGENT, 300_000))
        at_data = await asyncio.to_thread(  # the same, not declared: refused at its end
            send_undeclared, node, AGENT, mail(AGENT, 300_000)
        )
        await asyncio.to_thread(send, node, OTHER, mail(OTHER, 300_000))  # its own day
        with pytest.raises(smtplib.SMTPSenderRefused) as never:  # no day will take it
            await asyncio.to_thread(send, node, OTHER, mail(OTHER, MIB + 1))

        big = declaration(reference="API-DIA", series=3000)  # a mail of about 400 KB
        async with client(node) as http:  # the API counts against the same day
            posted = await http.post(
                "/api/declarations", content=render_declaration(big, WireFormat.FLAT)
            )
            huge = declaration(reference="API-GRANDE", series=9000)  # about 1.2 MB
            beyond = await http.post(
                "/api/declarations", content=render_declaration(huge, WireFormat.FLAT)
            )
        await asyncio.to_thread(send, node, AGENT, mail(AGENT, MIB - 800_000))  # the rest
        with pytest.raises(smtplib.SMTPSenderRefused) as at_mail:
            await asyncio.to_thread(send, node, AGENT, mail(AGENT, 1000))
        to_other = len(await node.store.list_messages(OTHER))
        to_agent = len(await node.store.list_messages(AGENT))

    for code, text in (
        (declared.value.smtp_code, declared.value.smtp_error),
        at_data,
        (at_mail.value.smtp_code, at_mail.value.smtp_error),
    ):
        assert code == 452 and text.startswith(b"4.7.1 "), (code, text)
    assert never.value.smtp_code == 552 and never.value.smtp_error.startswith(b"5.3.4 ")
    assert posted.status_code == 429, posted.text
    assert 0 < int(posted.headers["Retry-After"]) <= 86_400  # when the agent's day ends
    assert beyond.status_code == 413, beyond.text
    assert (to_other, to_agent) == (3, 1)


async def test_a_mail_the_store_could_not_keep_does_not_count_against_the_day(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A client retrying while the store was full used up its day with nothing kept: two
    refusals of 400 KB counted 800 KB, and once there was room its next mail of 400 KB was
    refused for the rest of the day (``452 4.7.1``)."""
    async with demo_node(tmp_path, clock, submission_mib_per_day=1, http_port=0) as node:
        assert node.store is not None
        await cap_store(node.store, 10)
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as full:
                await asyncio.to_thread(send, node, AGENT, mail(AGENT, 400_000))
            assert full.value.smtp_code == 452 and full.value.smtp_error.startswith(b"4.3.1 ")
        big = declaration(reference="API-LLENO", series=3000)  # a mail of about 400 KB
        async with client(node) as http:
            refused = await http.post(
                "/api/declarations", content=render_declaration(big, WireFormat.FLAT)
            )
        assert refused.status_code == 507, refused.text

        await cap_store(node.store, 1_000_000)  # room again
        for _ in range(2):  # 800 KB of the MiB: what was not kept was given back
            await asyncio.to_thread(send, node, AGENT, mail(AGENT, 400_000))
        assert len(await node.store.list_messages(OTHER)) == 2
