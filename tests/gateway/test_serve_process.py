"""``teledispatch serve`` as a real process: durability across SIGKILL, clean SIGTERM, errors."""

from __future__ import annotations

import asyncio
import os
import poplib
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from config.clock import SystemClock
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.directory import INTAKE_FOLDER
from mailboxes.schema import IntakeJobRow, JobState
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.node_clients import untraced
from tests.ports import free_port

pytestmark = pytest.mark.slow

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address
OFFICE = "aduana-118@aduanas.gob.pe"
FAST_ENV = {"TELEDISPATCH_ARGON2_MEMORY_KIB": "8", "TELEDISPATCH_ARGON2_TIME_COST": "1"}


class ServeProcess:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.smtp_port, self.pop3_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        self.stop()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gateway", "serve", "--demo",
                "--data-dir", str(self.data_dir),
                "--smtp-port", str(self.smtp_port),
                "--pop3-port", str(self.pop3_port),
                "--imap-port", "0",
                "--smtps-port", "0",
                "--pop3s-port", "0",
                "--imaps-port", "0",
                *extra,
            ],
            env={**os.environ, **FAST_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self.process

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.output()
            try:
                with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=2) as probe:
                    probe.noop()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("serve did not start listening")

    def output(self) -> str:
        assert self.process is not None
        if self.process.poll() is None:
            return ""
        assert self.process.stdout is not None
        return self.process.stdout.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    running = ServeProcess(tmp_path / "data")
    try:
        yield running
    finally:
        running.stop()


def test_sigkill_right_after_250_loses_nothing(serve: ServeProcess) -> None:
    serve.start()
    serve.wait_ready()
    message = b"Subject: DUA urgente\r\n\r\nDeclaracion adjunta.\r\n"
    with smtplib.SMTP("127.0.0.1", serve.smtp_port, timeout=10) as client:
        client.login(AGENT, DEMO_PASSWORD)
        client.mail(AGENT)
        client.rcpt(OFFICE)
        client.rcpt(OTHER)
        code, _ = client.data(message)
        assert code == 250
        assert serve.process is not None
        serve.process.send_signal(signal.SIGKILL)  # no chance to flush anything after the 250
    serve.process.wait()

    async def inspect() -> None:
        store = await Store.open(
            f"sqlite+aiosqlite:///{serve.data_dir / 'teledespacho.db'}",
            clock=SystemClock(),
            hasher=FAST_HASHER,
        )
        try:
            [filed] = await store.list_messages(OFFICE, INTAKE_FOLDER)
            stored = await store.read_message(OFFICE, INTAKE_FOLDER, filed.uid)
            # The node adds From: when the client gave none (under its Received: field).
            assert untraced(stored) == b"From: <" + AGENT.encode() + b">\r\n" + message
            assert [await store.read_message(OTHER, "INBOX", m.uid) for m in
                    await store.list_messages(OTHER)] == [stored]  # fmt: skip
            async with store.database.read_session() as session:
                [job] = (await session.scalars(select(IntakeJobRow))).all()
            # The pipeline may have answered in the instant before the kill; either way
            # the job was committed with the message.
            assert (job.office_code, job.sender, job.state) in {
                ("118", AGENT, JobState.PENDING.value),
                ("118", AGENT, JobState.DONE.value),
            }
            assert await store.job_content(job.id) == stored
        finally:
            await store.close()

    asyncio.run(inspect())

    # The restarted node finishes the job: exactly one answer reaches the agent.
    serve.start()
    serve.wait_ready()
    replies = wait_for_messages(serve, AGENT, 1)
    assert len(replies) == 1
    assert b"X-Teledespacho-Status: rejected" in replies[0]  # plain text: nothing readable
    time.sleep(0.5)
    assert len(wait_for_messages(serve, AGENT, 1)) == 1  # and never a second one


def wait_for_messages(
    serve: ServeProcess, user: str, count: int, within: float = 15
) -> list[bytes]:
    deadline = time.monotonic() + within
    while True:
        client = poplib.POP3("127.0.0.1", serve.pop3_port, timeout=10)
        try:
            client.user(user)
            client.pass_(DEMO_PASSWORD)
            messages = [b"\r\n".join(client.retr(n)[1]) for n in range(1, client.stat()[0] + 1)]
        finally:
            client.quit()
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        time.sleep(0.2)


def test_sigterm_shuts_down_cleanly(serve: ServeProcess) -> None:
    process = serve.start()
    serve.wait_ready()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert "shutting down" in serve.output()


def test_busy_port_is_a_one_line_error(serve: ServeProcess) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", serve.smtp_port))
        squatter.listen()
        process = serve.start()
        assert process.wait(timeout=30) == 1
        errors = [line for line in serve.output().splitlines() if line.startswith("teledispatch:")]
    assert len(errors) == 1
    assert f"127.0.0.1:{serve.smtp_port}" in errors[0]


def test_a_store_that_is_not_a_database_is_a_one_line_error(serve: ServeProcess) -> None:
    """A file in the store's place that SQLite cannot read (a copy cut short, another
    program's file): one line naming the file and SQLite's reason, not 190 of traceback."""
    serve.data_dir.mkdir(parents=True)
    database = serve.data_dir / "teledespacho.db"
    database.write_bytes(b"not a database, " * 400)
    process = serve.start()
    assert process.wait(timeout=30) == 1
    output = serve.output()
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("teledispatch:")]
    assert len(errors) == 1, output
    assert str(database) in errors[0] and "file is not a database" in errors[0]


def test_unreadable_config_is_a_one_line_error(serve: ServeProcess, tmp_path: Path) -> None:
    process = serve.start("--config", str(tmp_path / "absent.toml"))
    assert process.wait(timeout=30) == 2
    assert serve.output().strip().startswith("teledispatch: cannot read config")


def test_broken_reference_table_is_a_one_line_error(serve: ServeProcess, tmp_path: Path) -> None:
    broken = tmp_path / "uit.csv"
    broken.write_text("year;not-the-columns\n1997;x\n")
    config = tmp_path / "node.toml"
    config.write_text(f'uit_file = "{broken}"\n')
    process = serve.start("--config", str(config))
    assert process.wait(timeout=30) == 2
    [line] = serve.output().strip().splitlines()
    assert line.startswith("teledispatch: ")
    assert "uit" in line


def test_bad_office_filing_table_is_a_one_line_error(serve: ServeProcess, tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('[office_folders]\nchannel = { morado = "Canal morado" }\n')
    process = serve.start("--config", str(config))
    assert process.wait(timeout=30) == 2
    [line] = serve.output().strip().splitlines()
    assert line.startswith("teledispatch: office_folders.channel")


def test_serve_says_which_ca_file_clients_should_trust(serve: ServeProcess) -> None:
    serve.start()
    serve.wait_ready()
    assert serve.process is not None
    serve.process.send_signal(signal.SIGTERM)
    serve.process.wait(timeout=30)
    output = serve.output()
    ca_file = (serve.data_dir / "tls" / "ca.pem").resolve()
    assert f"clients trust {ca_file} (SHA-256 " in output, output
    assert "(created now)" in output
