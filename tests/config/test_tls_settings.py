"""TLS settings: implicit-TLS ports can be turned off; certificate and key go together."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings


def test_implicit_tls_ports_default_and_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in ("SMTPS", "POP3S", "IMAPS"):  # the suite sets them to 0 (tests/conftest.py)
        monkeypatch.delenv(f"TELEDISPATCH_{service}_PORT", raising=False)
    settings = load_settings()
    assert (settings.smtps_port, settings.pop3s_port, settings.imaps_port) == (4465, 1995, 1993)
    config = tmp_path / "node.toml"
    config.write_text("imaps_port = false\n")
    monkeypatch.setenv("TELEDISPATCH_POP3S_PORT", "off")
    settings = load_settings(config, smtps_port="off")
    assert (settings.smtps_port, settings.pop3s_port, settings.imaps_port) == (None, None, None)
    assert load_settings(smtps_port="4466").smtps_port == 4466


def test_certificate_without_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tls_cert_file and tls_key_file go together"):
        load_settings(tls_cert_file=tmp_path / "cert.pem")
