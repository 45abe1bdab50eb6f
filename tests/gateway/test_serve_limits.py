"""``teledispatch serve`` at its limits: SIGTERM with SMTP sessions open, the descriptor limit."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.test_serve_process import FAST_ENV, ServeProcess, free_port

pytestmark = pytest.mark.slow


class Serve(ServeProcess):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.imap_port = free_port()
        self.descriptors: int | None = None

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        self.stop()
        limit = self.descriptors

        def limited() -> None:  # in the child, before exec
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gateway", "serve", "--demo",
                "--data-dir", str(self.data_dir),
                "--smtp-port", str(self.smtp_port),
                "--pop3-port", str(self.pop3_port),
                "--imap-port", str(self.imap_port),
                *extra,
            ],
            env={**os.environ, **FAST_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=limited,
        )  # fmt: skip
        return self.process

    def wait_ready(self, timeout: float = 30) -> None:
        """SMTP answers first; POP3 and IMAP listen a moment later."""
        super().wait_ready(timeout)
        deadline = time.monotonic() + timeout
        for port in (self.pop3_port, self.imap_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    break
                except ConnectionRefusedError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    running = Serve(tmp_path / "data")
    try:
        yield running
    finally:
        running.stop()


def greeting(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def test_sigterm_says_421_to_open_smtp_sessions(serve: Serve) -> None:
    process = serve.start()
    serve.wait_ready()
    sessions = [greeting(serve.smtp_port) for _ in range(3)]
    replies = [sock.makefile("rb") for sock in sessions]
    for lines in replies:
        assert lines.readline().startswith(b"220")
    sessions[0].sendall(b"EHLO agente\r\n")
    while (line := replies[0].readline()).startswith(b"250-"):
        pass
    assert line.startswith(b"250 ")
    process.send_signal(signal.SIGTERM)
    for sock, lines in zip(sessions, replies, strict=True):
        with sock, lines:
            assert lines.readline().startswith(b"421 4.4.2 ")
            assert lines.readline() == b""  # then closed
    assert process.wait(timeout=20) == 0


def test_at_the_descriptor_limit_every_client_gets_an_answer_and_the_log_stays_calm(
    serve: Serve,
) -> None:
    serve.descriptors = 100  # the cap becomes 36 open connections; 150 clients come at once
    process = serve.start()
    serve.wait_ready()
    with contextlib.ExitStack() as open_clients:  # all closed, whatever the outcome
        ports = (serve.smtp_port, serve.pop3_port, serve.imap_port)
        clients = [open_clients.enter_context(greeting(ports[n % 3])) for n in range(150)]
        answers = [sock.recv(200) for sock in clients]
    served = [a for a in answers if a.startswith((b"220 ", b"+OK ", b"* OK "))]
    refused = [a for a in answers if a.startswith((b"421 4.7.0 ", b"-ERR [SYS/TEMP] ", b"* BYE "))]
    assert len(served) + len(refused) == len(answers), answers
    assert refused and served
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    log = serve.output()
    assert "Traceback" not in log, log
    assert log.count("refused") <= 5  # one line per interval, not one per client
