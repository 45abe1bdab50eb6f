"""Node settings: defaults, overridden by a TOML file, overridden by ``TELEDISPATCH_*`` variables,
overridden by command-line flags (passed in as keyword arguments)."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from config.registration import RegistrationSettings
from config.topology import Topology

__all__ = ["ConfigError", "Settings", "load_settings"]


class ConfigError(Exception):
    """The configuration cannot be read or is not valid; the message is fit for one CLI line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELEDISPATCH_", extra="forbid")

    node_name: str = "sede-central"
    """Which node of the registry this process is; it hosts the offices the registry gives it."""
    host_all_offices: bool = False
    """Host every office regardless of the registry (the one-node demonstration)."""
    domain: str = "aduanas.gob.pe"
    data_dir: Path = Path("var")
    database_url: str | None = None
    """SQLAlchemy async URL; default: SQLite file ``teledespacho.db`` under ``data_dir``."""
    offices_file: Path | None = None
    """Replacement office registry (TOML); default: the shipped one."""

    # Reference tables (docs/reference-data.md): each None keeps the CSV shipped in
    # config/data; a path names a replacement with the same columns.
    control_entities_file: Path | None = None
    """Control-document entity codes (seed 003, Annex A)."""
    control_documents_file: Path | None = None
    """Control-document codes (seed 003, Annex B)."""
    annexes_file: Path | None = None
    """The annexes of seed 003: competent entities, flows, offices, mandatory examination."""
    restricted_goods_file: Path | None = None
    """Restricted goods by subpartida prefix (the shipped table is a reference subset)."""
    prohibited_goods_file: Path | None = None
    """Goods of prohibited import (Annex 27) or export (Annex 28) by subpartida prefix."""
    official_goods_list_file: Path | None = None
    """SUNAT's annex list (anexo, subpartida): replaces the reference rows of its annexes."""
    uit_file: Path | None = None
    """UIT in soles by year (dispatch fee, TASA)."""
    exchange_rates_file: Path | None = None
    """Reference soles per US dollar by year (TASA compares a US$ value with the UIT)."""
    office_schedules_file: Path | None = None
    """From when each cited procedure applies, per office where a seed phases it in."""

    host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    pop3_port: int = Field(default=1110, ge=0, le=65535)
    imap_port: int = Field(default=1143, ge=0, le=65535)
    hostname: str | None = None
    """Name in greetings; default ``<node_name>.<domain>``."""

    max_message_size: int = Field(default=20 * 1024 * 1024, ge=1024)
    emulated_date: date | None = None
    """Run the node's calendar from this date (e.g. 1997-03-03)."""
    office_folders: dict[str, Any] = Field(default_factory=dict)
    """Where office copies of accepted declarations are filed, by channel or regime, e.g.
    ``[office_folders] channel = { rojo = "Canal rojo" }`` (see ``gateway.imap.filing``)."""
    imap_share_departments: bool = False
    """Office accounts also see their departments' mailboxes over IMAP."""
    channel_seed: str = "teledespacho/canal-de-control"
    """Seed of the reproducible control-channel draw; each deployment should set its own."""
    topology: Topology = Field(default_factory=Topology)
    """Peers, agents' home nodes, relay timing, outside mailboxes (``[topology]``)."""
    registration: RegistrationSettings = Field(default_factory=RegistrationSettings)
    """Mailbox requests by mail: address, size and rate limits (``[registration]``)."""

    # The integration API and the office console (gateway.http).
    http_port: int = Field(default=8025, ge=0, le=65535)
    """HTTP port of the API and the console, on ``host`` (loopback by default)."""
    http_admins: list[str] = Field(default_factory=list)
    """Accounts that are administrators over HTTP: they see every office's declarations."""
    http_test_rig: bool = False
    """Allow the test rig's administration (emulated date, chaos); off in production."""
    http_token_secret: SecretStr | None = None
    """Signs the API tokens ``teledispatch account token`` prints; unset, tokens are off.
    Changing it revokes every token."""

    log_format: Literal["text", "json"] = "text"
    """The node's log lines: ``text`` (events as key=value pairs) or one JSON object a line."""

    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)

    @property
    def greeting_name(self) -> str:
        return self.hostname or f"{self.node_name}.{self.domain}"

    @property
    def registration_address(self) -> str:
        return f"{self.registration.local_part}@{self.domain.lower()}"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'teledespacho.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; ``overrides`` whose value is ``None`` are ignored (flag not given)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    settings_cls: type[Settings] = Settings
    if config_file is not None:
        try:
            tomllib.loads(config_file.read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config {config_file}: {exc.strerror}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config {config_file} is not valid TOML: {exc}") from exc
        file_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})
        settings_cls = type("SettingsFromFile", (Settings,), {"model_config": file_config})
    try:
        return settings_cls(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from exc
