"""``teledispatch declaration regularize``: the office records a regularization."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import pytest

from config.clock import FixedClock
from gateway.cli import main
from mailboxes.dispatch_history import (
    PendingKind,
    overdue_regularizations,
    premises_incidents,
    record_pending_regularization,
)
from mailboxes.store import Store
from tests.conftest import FAST_HASHER

NUMBER = "118-2026-10-000007"
PARTY = ("RUC", "20100047218")


async def _store(data_dir: Path) -> Store:
    url = f"sqlite+aiosqlite:///{data_dir / 'teledespacho.db'}"
    clock = FixedClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    return await Store.open(url, clock=clock, hasher=FAST_HASHER)


async def _pending(data_dir: Path) -> None:
    store = await _store(data_dir)
    try:
        await store.database.run(
            partial(
                record_pending_regularization,
                declaration_number=NUMBER,
                office="118",
                party=PARTY,
                kind=PendingKind.URGENT,
                due_on=date(2026, 3, 17),
            ),
            write=True,
        )
    finally:
        await store.close()


async def _overdue(data_dir: Path) -> tuple[str, ...]:
    store = await _store(data_dir)
    try:
        return await store.database.run(
            partial(
                overdue_regularizations,
                party=PARTY,
                kind=PendingKind.URGENT,
                as_of=date(2026, 4, 1),
            )
        )
    finally:
        await store.close()


def test_the_office_records_a_regularization(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seed 004 VII.B.12: the officer "registra en el SIGAD el resultado de la verificación
    mostrándose la condición de 'REGULARIZADA'"."""
    asyncio.run(_pending(tmp_path))
    assert asyncio.run(_overdue(tmp_path)) == (NUMBER,)
    args = ["declaration", "regularize", NUMBER, "--on", "2026-03-20", "--data-dir", str(tmp_path)]
    assert main(args) == 0
    assert f"{NUMBER} regularized on 2026-03-20" in capsys.readouterr().out
    assert asyncio.run(_overdue(tmp_path)) == ()
    assert main(args) == 1
    assert "not a dispatch pending regularization" in capsys.readouterr().err


def test_the_office_records_code_44_and_its_cure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seed 004 VII.A.51: the officer "ingresa el código 44 (local no apto para la realización
    del reconocimiento físico en Despacho Anticipado)"; "El importador puede presentar un
    expediente subsanando las observaciones"."""
    base = ["declaration", "premises", "--importer", "RUC:20100047218", "--establishment"]
    where = ["0003", "--data-dir", str(tmp_path)]
    assert main([*base[:2], "fit", *base[2:], *where, "--on", "2026-03-01"]) == 1
    assert "no open code 44" in capsys.readouterr().err
    assert main([*base[:2], "unfit", *base[2:], *where, "--on", "2026-03-02"]) == 0
    assert asyncio.run(_incidents(tmp_path)) == ((date(2026, 3, 2), None),)
    assert main([*base[:2], "fit", *base[2:], *where, "--on", "2026-03-09"]) == 0
    assert asyncio.run(_incidents(tmp_path)) == ((date(2026, 3, 2), date(2026, 3, 9)),)


async def _incidents(data_dir: Path) -> tuple[tuple[date, date | None], ...]:
    store = await _store(data_dir)
    try:
        return await store.database.run(
            partial(premises_incidents, party=PARTY, establishment="0003")
        )
    finally:
        await store.close()
