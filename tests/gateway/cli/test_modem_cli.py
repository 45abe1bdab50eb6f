"""``teledispatch modem`` as a real process: the done criteria and its one-line errors."""

from __future__ import annotations

import asyncio
import email.policy
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from dialup_sim.control import DropAfter, Status, send_control
from dialup_sim.phonebook import Address
from gateway.cli import build_parser, main
from gateway.cli import modem as modem_cli
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node

pytestmark = pytest.mark.slow

AGENT = DEMO_AGENTS[0].address
OFFICE = "aduana-118@aduanas.gob.pe"


class ModemProcess:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "modem", "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        assert " listening on 127.0.0.1:" in banner, banner + self.errors()
        self.port = int(banner.split(" listening on 127.0.0.1:")[1].split(",")[0])

    def errors(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()

    def stop(self) -> str:
        """SIGTERM; returns what the process printed after its banner."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=20)
        return out


@pytest.fixture
def modem_processes() -> Iterator[list[ModemProcess]]:
    started: list[ModemProcess] = []
    try:
        yield started
    finally:
        for modem in started:
            if modem.process.poll() is None:
                modem.process.kill()
            modem.process.communicate(timeout=20)


def submission(size: int) -> bytes:
    message = EmailMessage()
    message["From"] = AGENT
    message["To"] = OFFICE
    message["Subject"] = "DUA"
    message.set_content("x\n", cte="7bit")
    head = message.as_bytes(policy=email.policy.SMTP)
    line = b"DUA de prueba, serie 1, computadoras portatiles 14 pulgadas.........\r\n"
    body = line * ((size - len(head)) // len(line) + 1)
    return (head + body)[: size - 2] + b"\r\n"


def submit(port: int, message: bytes) -> float:
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.login(AGENT, DEMO_PASSWORD)
        client.sendmail(AGENT, [OFFICE], message)
    return time.monotonic() - started


async def test_direct_9600_without_error_control_at_scale_10_takes_five_seconds(
    node: Node, modem_processes: list[ModemProcess]
) -> None:
    modem = ModemProcess(
        "--target", f"127.0.0.1:{node.port('smtp')}",
        "--direct", "--bps", "9600", "--mnp", "none", "--time-scale", "10",
    )  # fmt: skip
    modem_processes.append(modem)
    message = submission(48_000)
    assert len(message) == 48_000
    wall = await asyncio.to_thread(submit, modem.port, message)
    # 48 000 octets at 960 a second, ten times faster: 5 s. Never less (the line's rate);
    # more only when the machine is busy enough to starve the client or the proxy.
    assert 4.75 <= wall <= 7.5
    await asyncio.sleep(0.3)
    out = modem.stop()
    assert modem.process.returncode == 0
    assert "call 1 to direct ended (remote hung up), 9600 NONE" in out


async def test_hayes_answers_atdt_with_a_connect_string_and_busy_past_the_pool(
    node: Node, modem_processes: list[ModemProcess]
) -> None:
    modem = ModemProcess(
        "--target", f"127.0.0.1:{node.port('smtp')}", "--hayes", "--lines", "1",
        "--time-scale", "50",
    )  # fmt: skip
    modem_processes.append(modem)

    async def dial() -> tuple[asyncio.StreamWriter, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", modem.port)
        writer.write(b"ATE0\rATDT0800\r")
        seen = b""
        while not (b"REL\r\n" in seen or b"BUSY\r\n" in seen):
            seen += await asyncio.wait_for(reader.read(100), 10)
        return writer, seen

    first, first_seen = await dial()
    try:
        second, second_seen = await dial()
        second.close()
    finally:
        first.close()
    assert first_seen.startswith(b"ATE0\r\r\nOK\r\n\r\nCONNECT 9600/REL\r\n")
    assert second_seen == b"ATE0\r\r\nOK\r\n\r\nBUSY\r\n"
    await asyncio.sleep(0.3)
    out = modem.stop()
    assert "to 0800 ended (busy)" in out
    assert "to 0800 ended (DTE hung up), 9600 MNP5" in out


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ([], b"12\r"),  # the default Hayes/Rockwell modem: 12 is CONNECT 9600
        (["--profile", "sportster"], b"13\r"),
        (["--profile", "microcom"], b"33\r"),
    ],
)
async def test_profile_chooses_the_numeric_connect_code(
    node: Node, modem_processes: list[ModemProcess], profile: list[str], expected: bytes
) -> None:
    modem = ModemProcess(
        "--target", f"127.0.0.1:{node.port('smtp')}", "--hayes", "--time-scale", "50", *profile
    )
    modem_processes.append(modem)
    reader, writer = await asyncio.open_connection("127.0.0.1", modem.port)
    writer.write(b"ATE0V0\rATDT0800\r")
    seen = b""
    while seen.count(b"\r") < 3:
        seen += await asyncio.wait_for(reader.read(1), 10)
    writer.close()
    assert seen == b"ATE0V0\r0\r" + expected


async def test_answering_modems_on_tcp_and_on_a_pty(
    node: Node, modem_processes: list[ModemProcess]
) -> None:
    modem = ModemProcess(
        "--target", f"127.0.0.1:{node.port('smtp')}", "--hayes", "--time-scale", "50",
        "--answer", "0900=127.0.0.1:0", "--answer-pty", "0901",
    )  # fmt: skip
    modem_processes.append(modem)
    assert modem.process.stdout is not None
    tcp_line = modem.process.stdout.readline()
    pty_line = modem.process.stdout.readline()
    assert tcp_line.startswith("modems answering 0900 on 127.0.0.1:"), tcp_line
    assert pty_line.startswith("modem answering 0901 on pseudo-terminal /dev/"), pty_line
    node_port = int(tcp_line.rsplit(":", 1)[1])
    device = pty_line.split()[-1]

    async def read_until(reader: asyncio.StreamReader, marker: bytes) -> bytes:
        return await asyncio.wait_for(reader.readuntil(marker), 10)

    node_reader, node_writer = await asyncio.open_connection("127.0.0.1", node_port)
    node_writer.write(b"ATE0S0=1\r")
    await read_until(node_reader, b"OK\r\n")
    agent_reader, agent_writer = await asyncio.open_connection("127.0.0.1", modem.port)
    agent_writer.write(b"ATE0\rATDT0900\r")
    assert (await read_until(agent_reader, b"REL\r\n")).endswith(b"\r\nCONNECT 9600/REL\r\n")
    assert await read_until(node_reader, b"REL\r\n") == b"\r\nRING\r\n\r\nCONNECT 9600/REL\r\n"
    node_writer.write(b"hola")
    assert await read_until(agent_reader, b"hola") == b"hola"
    agent_writer.close()
    node_writer.close()

    call_checked = threading.Event()

    def pty_node() -> bytes:
        fd = os.open(device, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"ATE0\r")
            seen = b""
            while b"RING\r\n" not in seen:
                seen += os.read(fd, 100)
            os.write(fd, b"ATA\r")
            while b"REL\r\n" not in seen:
                seen += os.read(fd, 100)
            call_checked.wait(10)  # closing the device drops DTR (HUPCL): keep the call
            return seen
        finally:
            os.close(fd)

    ringing = asyncio.create_task(asyncio.to_thread(pty_node))
    await asyncio.sleep(0.1)  # the node program is on the device before the call comes
    agent_reader, agent_writer = await asyncio.open_connection("127.0.0.1", modem.port)
    agent_writer.write(b"ATE0\rATDT0901\r")
    try:
        agent_saw = await read_until(agent_reader, b"REL\r\n")
    finally:
        call_checked.set()
    assert agent_saw.endswith(b"\r\nCONNECT 9600/REL\r\n")
    assert (await asyncio.wait_for(ringing, 10)).endswith(b"\r\nCONNECT 9600/REL\r\n")
    agent_writer.close()


async def test_the_control_port_sets_and_reports_the_carrier_drop(
    modem_processes: list[ModemProcess],
) -> None:
    modem = ModemProcess("--target", "127.0.0.1:25", "--hayes", "--control", "127.0.0.1:0")
    modem_processes.append(modem)
    assert modem.process.stdout is not None
    line = modem.process.stdout.readline()
    assert line.startswith("control port on 127.0.0.1:"), line
    control = Address("127.0.0.1", int(line.rsplit(":", 1)[1]))
    assert await send_control(control, Status()) is None
    assert await send_control(control, DropAfter(512)) == 512
    assert await send_control(control, Status()) == 512
    assert await send_control(control, DropAfter(None)) is None
    modem.process.send_signal(signal.SIGTERM)
    _, logged = modem.process.communicate(timeout=20)
    assert modem.process.returncode == 0
    assert logged.count("chaos: each new call drops carrier after 512 bytes") == 1
    assert logged.count("chaos: carrier drop switched off") == 1


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--target", "nohostport"], 2, "expected HOST:PORT"),
        (["--target", "127.0.0.1:25", "--ber", "2"], 2, "bit-error rate"),
        (["--target", "127.0.0.1:25", "--lines", "0"], 2, "at least one line"),
        (["--target", "127.0.0.1:25", "--control", "6401"], 2, "expected HOST:PORT"),
        (["--target", "127.0.0.1:25", "--ring-cadence", "2"], 2, "ON/OFF"),
        (["--target", "127.0.0.1:25", "--ring-cadence", "0/4"], 2, "ring cadence"),
    ],
)
def test_bad_settings_are_one_line_errors(
    args: list[str], status: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["modem", *args]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize(
    ("flag", "on", "off"), [([], 2.0, 4.0), (["--ring-cadence", "1.5/3"], 1.5, 3.0)]
)
def test_the_ring_cadence_is_a_setting_of_the_line(flag: list[str], on: float, off: float) -> None:
    args = build_parser("modem").parse_args(["modem", "--target", "127.0.0.1:25", *flag])
    timing = modem_cli.settings_from(args).timing
    assert (timing.ring_on, timing.ring_off) == (on, off)


def test_a_busy_listen_port_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        status = main(["modem", "--listen", f"127.0.0.1:{port}", "--target", "127.0.0.1:25"])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("teledispatch modem: ") and err.count("\n") == 1
