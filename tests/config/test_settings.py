from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_offices, load_settings
from config.offices import OfficeMode


def test_defaults_match_the_design() -> None:
    settings = load_settings()
    assert (settings.host, settings.smtp_port, settings.pop3_port, settings.imap_port) == (
        "127.0.0.1",
        2525,
        1110,
        1143,
    )
    assert settings.domain == "aduanas.gob.pe"
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "node.toml"
    config.write_text('domain = "aduanas.test"\nsmtp_port = 3000\npop3_port = 3001\n')
    monkeypatch.setenv("TELEDISPATCH_SMTP_PORT", "4000")
    settings = load_settings(config, pop3_port=5001, imap_port=None)
    assert settings.domain == "aduanas.test"  # file
    assert settings.smtp_port == 4000  # environment over file
    assert settings.pop3_port == 5001  # flag over file
    assert settings.imap_port == 1143  # flag not given: default


def test_unreadable_or_invalid_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("domain = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("smtp_port = 99999\n")
    with pytest.raises(ConfigError, match="smtp_port"):
        load_settings(wrong)


def test_registry_has_the_1997_offices_and_modes() -> None:
    offices = load_offices()
    centralized = {o.code for o in offices.values() if o.mode is OfficeMode.CENTRALIZED}
    decentralized = {o.code for o in offices.values() if o.mode is OfficeMode.DECENTRALIZED}
    seed_centralized = {"127", "082", "154", "190", "181", "055", "091", "217", "271"}
    assert seed_centralized <= centralized
    assert decentralized == {"118", "235", "244", "172", "163", "145", "226", "019", "046", "262"}
    assert offices["000"].mode is OfficeMode.HEADQUARTERS
    assert {o.node for o in offices.values() if o.code in centralized} == {"sede-central"}
    assert str(offices["118"].teledispatch_from) == "1997-02-17"
