"""The package's public surface is a deliberate list."""

from __future__ import annotations

import gateway.pop3


def test_public_names_resolve_and_are_sorted() -> None:
    names = gateway.pop3.__all__
    assert names == sorted(names, key=lambda name: (not name.isupper(), name))
    for name in names:
        assert getattr(gateway.pop3, name) is not None


def test_the_core_does_not_import_the_server() -> None:
    # The sans-IO core must stay importable without the store or asyncio machinery.
    import subprocess
    import sys

    code = (
        "import sys, gateway.pop3; "
        "print(sorted(m for m in ('asyncio', 'mailboxes.store', 'gateway.pop3.server') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
