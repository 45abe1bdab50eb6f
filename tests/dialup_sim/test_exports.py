"""The package's public names: each one listed in ``__all__`` exists, nothing is listed twice."""

from __future__ import annotations

import importlib
import pkgutil

import dialup_sim


def test_every_exported_name_resolves() -> None:
    modules = [dialup_sim] + [
        importlib.import_module(f"dialup_sim.{info.name}")
        for info in pkgutil.iter_modules(dialup_sim.__path__)
    ]
    for module in modules:
        names = module.__all__
        assert len(names) == len(set(names)), module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_the_package_exports_the_engines_and_the_adapters() -> None:
    for name in ("Modem", "DirectCall", "Link", "ModemProxy", "ModemLine", "ProxySettings"):
        assert name in dialup_sim.__all__
