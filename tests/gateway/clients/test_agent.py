"""The agent's client against a real node, directly and through the modem simulator."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest

from config.clock import FixedClock
from dialup_sim.noise import NoiseSettings
from dialup_sim.phonebook import Address, Phonebook
from dialup_sim.proxy import ModemProxy, ProxySettings
from edi_formats.codec import WireFormat, render_declaration
from gateway.clients.agent import (
    ClientError,
    ErrorKind,
    Route,
    fetch_messages,
    send_message,
)
from gateway.clients.mail_files import build_submission, save_messages
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests.node_clients import untraced
from validators.samples import sample_declaration

pytestmark = pytest.mark.slow

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
OFFICE = "aduana-118@aduanas.gob.pe"
SCALE = 50.0
SMTP_NUMBER, POP3_NUMBER = "0800", "0801"


class RecordingProgress:
    """Keeps every update, to check what a progress bar would have shown."""

    def __init__(self) -> None:
        self.transfers: list[tuple[str, int, list[int]]] = []

    def begin(self, description: str, total: int) -> None:
        self.transfers.append((description, total, []))

    def update(self, completed: int) -> None:
        self.transfers[-1][2].append(completed)

    def end(self) -> None:
        pass


@contextlib.asynccontextmanager
async def running(settings: ProxySettings) -> AsyncIterator[ModemProxy]:
    proxy = ModemProxy(settings)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


def address(node: Node, service: str) -> Address:
    return Address("127.0.0.1", node.port(service))


def dua_message(tmp_path: Path, clock: FixedClock) -> bytes:
    path = tmp_path / "dua-001.txt"
    declaration = sample_declaration("dua", as_of=date(2026, 11, 2))
    path.write_bytes(render_declaration(declaration, WireFormat("flat")))
    message = build_submission([path], sender=AGENT, recipient=OFFICE, clock=clock)
    return message.as_bytes(policy=email.policy.SMTP)


def hayes(node: Node, **options: object) -> ProxySettings:
    book = Phonebook({SMTP_NUMBER: address(node, "smtp"), POP3_NUMBER: address(node, "pop3")})
    return ProxySettings(
        listen=Address("127.0.0.1", 0),
        target=address(node, "smtp"),
        hayes=True,
        time_scale=SCALE,
        phonebook=book,
        seed=3,
        tick=0.005,
        **options,  # type: ignore[arg-type]
    )


async def test_submission_through_direct_lines_arrives_byte_identical(
    node: Node, clock: FixedClock, tmp_path: Path
) -> None:
    message = dua_message(tmp_path, clock)
    smtp_line = ProxySettings(
        listen=Address("127.0.0.1", 0), target=address(node, "smtp"), time_scale=SCALE
    )
    pop3_line = ProxySettings(
        listen=Address("127.0.0.1", 0), target=address(node, "pop3"), time_scale=SCALE
    )
    async with running(smtp_line) as smtp_proxy, running(pop3_line) as pop3_proxy:
        sent = await asyncio.to_thread(
            send_message,
            message,
            sender=AGENT,
            password=DEMO_PASSWORD,
            recipients=[OFFICE, OTHER],
            route=Route(server=smtp_proxy.address, timeout=30),
        )
        fetched = await asyncio.to_thread(
            fetch_messages,
            user=OTHER,
            password=DEMO_PASSWORD,
            route=Route(server=pop3_proxy.address, timeout=30),
        )
    assert sent.size > len(message)  # dot-stuffed, with the end marker
    assert [untraced(m.data) for m in fetched.messages] == [message]
    assert sent.call is None and fetched.call is None  # no modem dialogue on a direct line
    assert untraced(save_messages(fetched.messages, tmp_path / "out")[0].read_bytes()) == message


async def test_dialled_session_reports_progress_and_simulated_time(
    node: Node, clock: FixedClock, tmp_path: Path
) -> None:
    message = dua_message(tmp_path, clock)
    progress = RecordingProgress()
    async with running(hayes(node)) as proxy:
        sent = await asyncio.to_thread(
            send_message,
            message,
            sender=AGENT,
            password=DEMO_PASSWORD,
            recipients=[OTHER],
            route=Route(server=address(node, "smtp"), modem=proxy.address, timeout=30),
            progress=progress,
        )
        fetched = await asyncio.to_thread(
            fetch_messages,
            user=OTHER,
            password=DEMO_PASSWORD,
            route=Route(
                server=address(node, "pop3"), modem=proxy.address, number=POP3_NUMBER, timeout=30
            ),
            progress=progress,
        )
    assert [untraced(m.data) for m in fetched.messages] == [message]
    assert sent.connect_message == fetched.connect_message == "CONNECT 9600/REL"
    assert sent.call is not None and fetched.call is not None
    assert sent.call.online_seconds > 0.5 and sent.call.dialing_seconds > 5.0
    assert sent.call.sent >= sent.size
    (send_name, send_total, send_updates), (fetch_name, fetch_total, fetch_updates) = (
        progress.transfers
    )
    assert (send_name, fetch_name) == ("sending", "fetching")
    assert send_updates == sorted(send_updates) and send_updates[-1] == send_total
    assert fetch_updates == sorted(fetch_updates) and fetch_updates[-1] >= fetch_total


async def test_wrong_password_is_an_auth_error(
    node: Node, clock: FixedClock, tmp_path: Path
) -> None:
    with pytest.raises(ClientError) as caught:
        await asyncio.to_thread(
            send_message,
            dua_message(tmp_path, clock),
            sender=AGENT,
            password="wrong",
            recipients=[OFFICE],
            route=Route(server=address(node, "smtp"), timeout=30),
        )
    assert caught.value.kind is ErrorKind.AUTH
    with pytest.raises(ClientError) as caught:
        await asyncio.to_thread(
            fetch_messages,
            user=AGENT,
            password="wrong",
            route=Route(server=address(node, "pop3"), timeout=30),
        )
    assert caught.value.kind is ErrorKind.AUTH


async def test_a_refused_recipient_is_a_refusal_naming_it(
    node: Node, clock: FixedClock, tmp_path: Path
) -> None:
    with pytest.raises(ClientError) as caught:
        await asyncio.to_thread(
            send_message,
            dua_message(tmp_path, clock),
            sender=AGENT,
            password=DEMO_PASSWORD,
            recipients=[OFFICE, "nadie@aduanas.gob.pe"],
            route=Route(server=address(node, "smtp"), timeout=30),
        )
    assert caught.value.kind is ErrorKind.REFUSED
    assert str(caught.value).startswith("RCPT nadie@aduanas.gob.pe: 550 5.1.1")


async def test_busy_line_is_a_dial_error(node: Node, clock: FixedClock, tmp_path: Path) -> None:
    async with running(hayes(node, lines=1)) as proxy:
        holder_reader, holder_writer = await asyncio.open_connection(
            proxy.address.host, proxy.address.port
        )
        holder_writer.write(b"ATDT0800\r")
        await asyncio.wait_for(holder_reader.readuntil(b"REL\r\n"), 10)
        with pytest.raises(ClientError) as caught:
            await asyncio.to_thread(
                send_message,
                dua_message(tmp_path, clock),
                sender=AGENT,
                password=DEMO_PASSWORD,
                recipients=[OFFICE],
                route=Route(server=address(node, "smtp"), modem=proxy.address, timeout=30),
            )
        holder_writer.close()
    assert caught.value.kind is ErrorKind.DIAL
    assert "BUSY" in str(caught.value)


async def test_carrier_loss_mid_data_stores_nothing(
    node: Node, clock: FixedClock, tmp_path: Path
) -> None:
    big = dua_message(tmp_path, clock) + b"padding line\r\n" * 4000  # about 60 s at 960 c/s
    async with running(hayes(node, noise=NoiseSettings(drop_after=20.0), mnp=None)) as proxy:
        with pytest.raises(ClientError) as caught:
            await asyncio.to_thread(
                send_message,
                big,
                sender=AGENT,
                password=DEMO_PASSWORD,
                recipients=[OTHER],
                route=Route(server=address(node, "smtp"), modem=proxy.address, timeout=30),
            )
    assert caught.value.kind is ErrorKind.DISCONNECTED
    assert "NO CARRIER" in str(caught.value)
    await asyncio.sleep(0.2)
    assert node.store is not None
    assert await node.store.list_messages(OTHER) == []


async def test_the_office_answers_the_agent_over_direct_lines(
    node: Node, clock: FixedClock, tmp_path: Path
) -> None:
    """smtplib submits a DUA through --direct at 9600, poplib fetches the pipeline's reply."""
    pytest.importorskip("gateway.pipeline.worker")
    smtp_line = ProxySettings(
        listen=Address("127.0.0.1", 0), target=address(node, "smtp"), time_scale=SCALE
    )
    pop3_line = ProxySettings(
        listen=Address("127.0.0.1", 0), target=address(node, "pop3"), time_scale=SCALE
    )
    replies: list[bytes] = []
    async with running(smtp_line) as smtp_proxy, running(pop3_line) as pop3_proxy:
        await asyncio.to_thread(
            send_message,
            dua_message(tmp_path, clock),
            sender=AGENT,
            password=DEMO_PASSWORD,
            recipients=[OFFICE],
            route=Route(server=smtp_proxy.address, timeout=30),
        )
        for _ in range(50):
            fetched = await asyncio.to_thread(
                fetch_messages,
                user=AGENT,
                password=DEMO_PASSWORD,
                route=Route(server=pop3_proxy.address, timeout=30),
            )
            replies = [m.data for m in fetched.messages]
            if replies:
                break
            await asyncio.sleep(0.1)
    assert len(replies) == 1
    assert b"X-Teledespacho-Status: " in replies[0]
    assert sum(r.up.delivered for r in smtp_proxy.reports) > len(dua_message(tmp_path, clock))


@pytest.fixture
def pymap_server() -> Iterator[Address]:
    """pymap's in-memory IMAP server with its demo mailbox (demouser / demopass)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("pymap")), "--host", "127.0.0.1",
         "--port", str(port), "--no-tls", "dict", "--demo-data"],
        env={**os.environ, "FQDN": "imap.test"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield Address("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_imap_fetch_through_a_direct_line(pymap_server: Address) -> None:
    line = ProxySettings(listen=Address("127.0.0.1", 0), target=pymap_server, time_scale=SCALE)
    progress = RecordingProgress()
    async with running(line) as proxy:
        fetched = await asyncio.to_thread(
            fetch_messages,
            user="demouser",
            password="demopass",
            route=Route(server=proxy.address, timeout=30),
            protocol="imap",
            progress=progress,
        )
    subjects = {m.header("Subject") for m in fetched.messages}
    assert "Hello, World!" in subjects and len(fetched.messages) == 4
    ((_, total, updates),) = progress.transfers
    assert total == sum(len(m.data) for m in fetched.messages)
    assert updates[-1] >= total


async def test_imap_fetch_from_the_node_over_the_modem(
    node: Node, clock: FixedClock, tmp_path: Path
) -> None:
    message = dua_message(tmp_path, clock)
    book = Phonebook({SMTP_NUMBER: address(node, "smtp"), "0802": address(node, "imap")})
    settings = ProxySettings(
        listen=Address("127.0.0.1", 0),
        target=address(node, "smtp"),
        hayes=True,
        time_scale=SCALE,
        phonebook=book,
        tick=0.005,
    )
    async with running(settings) as proxy:
        await asyncio.to_thread(
            send_message,
            message,
            sender=AGENT,
            password=DEMO_PASSWORD,
            recipients=[OTHER],
            route=Route(server=address(node, "smtp"), modem=proxy.address, timeout=30),
        )
        fetched = await asyncio.to_thread(
            fetch_messages,
            user=OTHER,
            password=DEMO_PASSWORD,
            route=Route(
                server=address(node, "imap"), modem=proxy.address, number="0802", timeout=30
            ),
            protocol="imap",
        )
    assert [untraced(m.data) for m in fetched.messages] == [message]
    assert fetched.connect_message == "CONNECT 9600/REL"
    assert fetched.call is not None and fetched.call.online_seconds > 0
