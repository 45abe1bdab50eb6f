"""A throwaway PostgreSQL server for the tests, started from Debian's binaries.

One server per test session (started on first use, stopped at exit), in a temporary
directory, listening on a free loopback port and on a unix socket in that directory. The
schema is migrated once into a template database; each test gets a copy of it
(``CREATE DATABASE ... TEMPLATE``), which costs milliseconds. A test that restarts or halts
its server (``own_server``) gets one of its own, started in about a second.

On a developer's machine without PostgreSQL the tests that need it are skipped; in CI
(``CI`` set, and ``.ci/run`` installs the ``postgresql`` package) they fail instead.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.ports import free_port as _free_port

__all__ = [
    "PostgresServer",
    "database_name",
    "fresh_database_url",
    "own_server",
    "postgres_server",
    "skip_without_postgres",
]

TEMPLATE = "teledespacho_template"


def _binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return found[0].parent if found else None


def skip_without_postgres() -> None:
    """Skip the calling test when PostgreSQL is not installed (fail instead in CI)."""
    if _binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are not installed")
        pytest.skip("PostgreSQL server binaries are not installed")


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    user: str | None
    """The system user that runs the server (initdb refuses root), or ``None`` for ourselves."""

    template_ready: bool = False
    _names = itertools.count(1)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def socket_url(self, database: str) -> str:
        """``database`` through the server's Unix socket, as a node beside its server reaches
        it (docs/topology.md)."""
        return f"postgresql+asyncpg://postgres@/{database}?host={self.root}&port={self.port}"

    def _run(self, *argv: str) -> None:
        command = [str(argv[0]), *argv[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls) -> PostgresServer:
        bindir = _binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries are not installed")
        root = Path(tempfile.mkdtemp(prefix="teledespacho-pg-"))
        user = "postgres" if os.geteuid() == 0 else None
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = cls(bindir=bindir, root=root, port=_free_port(), user=user)
        server._run(
            str(bindir / "initdb"),
            "-D",
            str(server.datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        server.resume()
        atexit.register(server.stop)
        return server

    async def _make_template(self) -> None:
        from mailboxes.database import Database
        from mailboxes.migrate import upgrade

        await self.admin(f"CREATE DATABASE {TEMPLATE}")
        database = Database(self.url(TEMPLATE))
        try:
            await upgrade(database)
        finally:
            await database.dispose()

    async def admin(self, statement: str) -> None:
        """Run ``statement`` as the superuser, connected to the ``postgres`` database."""
        import asyncpg

        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database="postgres"
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    async def cut_connections(self, where: str) -> None:
        """Terminate the server's connections that match ``where`` (a condition on
        ``pg_stat_activity``; never the connection asking), waiting until they are gone."""
        await self.admin(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            f" WHERE ({where}) AND pid <> pg_backend_pid()"
        )

    async def create_database(self, *, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or empty); its URL."""
        if migrated and not self.template_ready:
            await self._make_template()
            self.template_ready = True
        name = f"test_{os.getpid()}_{next(self._names)}"
        template = TEMPLATE if migrated else "template0"
        await self.admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def resume(self) -> None:
        """Start the server (again, after ``halt``), on its port (blocks)."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-l",  # the server's output to its log, not to our pipes (we would wait on them)
            str(self.root / "server.log"),
            "-w",
            "start",
        )

    def halt(self) -> None:
        """Stop the server, cutting off its clients, and keep its data for ``resume``
        (blocks: call it from a thread)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop the server, cutting off its clients as an operator's restart does, and
        start it again on the same port (blocks: call it from a thread)."""
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-m",
            "fast",
            "-l",  # as in ``resume``
            str(self.root / "server.log"),
            "-w",
            "restart",
        )

    def stop(self) -> None:
        if self.datadir.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"
                )
        shutil.rmtree(self.root, ignore_errors=True)


def database_name(url: str) -> str:
    """The database a URL of ``PostgresServer.url`` or ``socket_url`` names."""
    name = make_url(url).database
    assert name is not None, url
    return name


_server: PostgresServer | None = None


def postgres_server() -> PostgresServer:
    """The session's server, started on first use (skips the test if there is none)."""
    global _server
    skip_without_postgres()
    if _server is None:
        _server = PostgresServer.start()
    return _server


async def fresh_database_url(*, migrated: bool = True) -> str:
    """The URL of a new database on the session's server."""
    return await postgres_server().create_database(migrated=migrated)


@pytest.fixture
async def own_server() -> AsyncIterator[PostgresServer]:
    """A server for one test alone, for what would disturb the others' (a restart)."""
    skip_without_postgres()
    started = await asyncio.to_thread(PostgresServer.start)
    try:
        yield started
    finally:
        await asyncio.to_thread(started.stop)
