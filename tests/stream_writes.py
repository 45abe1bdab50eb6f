"""The sizes of what the servers write to their clients' streams, one entry per write."""

from __future__ import annotations

import asyncio

import pytest

__all__ = ["record_writes"]


def record_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on (until the test ends), the size of each ``StreamWriter.write``."""
    sizes: list[int] = []
    write = asyncio.StreamWriter.write

    def record(self: asyncio.StreamWriter, data: bytes | bytearray | memoryview) -> None:
        sizes.append(len(data))
        write(self, data)

    monkeypatch.setattr(asyncio.StreamWriter, "write", record)
    return sizes
