"""The ``[registration]`` table: the address follows the domain, limits are bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings


def test_the_registration_address_defaults_to_buzones_at_the_domain() -> None:
    settings = load_settings(domain="Aduanas.Test")
    assert settings.registration_address == "buzones@aduanas.test"
    assert settings.registration.open


def test_the_registration_table_is_read_from_the_file(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        '[registration]\nlocal_part = "solicitudes"\nper_sender = 2\nmax_size = 4096\n', "utf-8"
    )
    settings = load_settings(config)
    assert settings.registration_address == "solicitudes@aduanas.gob.pe"
    assert (settings.registration.per_sender, settings.registration.max_size) == (2, 4096)


def test_an_unbounded_request_size_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text("[registration]\nmax_size = 10\n", "utf-8")
    with pytest.raises(ConfigError, match=r"registration\.max_size"):
        load_settings(config)
