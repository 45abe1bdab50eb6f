"""Node settings: defaults, overridden by a TOML file, overridden by ``TELEDISPATCH_*`` variables,
overridden by command-line flags (passed in as keyword arguments)."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from config.logins import LoginLimits
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
    countries_file: Path | None = None
    """ISO 3166-1 country codes with the days each was assigned and withdrawn."""

    host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    pop3_port: int = Field(default=1110, ge=0, le=65535)
    imap_port: int = Field(default=1143, ge=0, le=65535)
    hostname: str | None = None
    """Name in greetings; default ``<node_name>.<domain>``."""

    # TLS (docs/clients.md): STARTTLS on the three ports above, and implicit TLS (RFC 8314)
    # on these; ``false`` (or "off") turns an implicit-TLS listener off, 0 takes any free port.
    smtps_port: int | None = Field(default=4465, ge=0, le=65535)
    pop3s_port: int | None = Field(default=1995, ge=0, le=65535)
    imaps_port: int | None = Field(default=1993, ge=0, le=65535)
    tls_cert_file: Path | None = None
    """PEM certificate chain; default: one issued by the node's own CA under ``data_dir/tls``."""
    tls_key_file: Path | None = None
    """PEM private key of ``tls_cert_file``."""
    auth_requires_tls: bool = False
    """Refuse AUTH, LOGIN, USER/PASS before TLS. Off by default: the 1997 profile logs in in
    plain text over the modem; TLS is offered either way for clients that want it."""
    postmaster: str | None = None
    """The mailbox that receives mail for ``postmaster`` (RFC 5321 §4.5.1); default
    ``postmaster@<domain>``, readable once an account of that name is added."""
    pop3_apop: bool = False
    """Offer APOP (the greeting's timestamp); only accounts given an APOP secret can use it,
    and clients that see the timestamp try it first, so it stays off unless wanted."""

    max_message_size: int = Field(default=20 * 1024 * 1024, ge=1024)
    min_free_space_mib: int = Field(default=100, ge=0)
    """MiB of the SQLite store's disk that incoming mail leaves free (SMTP answers 452, the
    API 507, below it): the room in which what was taken is still answered. 0: none."""
    submission_mib_per_day: int = Field(default=512, ge=1)
    """MiB one agent may submit in a day (from its first mail counted), over SMTP, the API and
    IMAP APPEND together; past it, its mail is refused (452 4.7.1, the API 429, NO
    [OVERQUOTA]) and the others' goes on. Counted in memory (``gateway.allowance``)."""

    # Connections and time limits (docs/security.md).
    login_timeout: float = Field(default=60.0, gt=0)
    """Seconds a client has, from connecting, to log in (SMTP AUTH, POP3, IMAP)."""
    smtp_idle_timeout: float = Field(default=300.0, gt=0)
    """Seconds an SMTP client may take for each command, DATA included (RFC 5321: 5 min)."""
    pop3_idle_timeout: float = Field(default=600.0, gt=0)
    """Seconds a logged-in POP3 client may stay silent (RFC 1939: at least 10 min)."""
    imap_idle_timeout: float = Field(default=1800.0, gt=0)
    """Seconds a logged-in IMAP client may take for each command, IDLE included (RFC 3501:
    at least 30 min)."""
    http_request_timeout: float = Field(default=60.0, gt=0)
    """Seconds an HTTP client has to send a whole request, headers and body, from its first
    byte (from connecting, for the first request); then ``408`` and the connection closed."""
    max_connections: int = Field(default=1000, ge=1)
    """Open SMTP, POP3, IMAP and HTTP connections in all; lowered to fit the descriptor
    limit."""
    max_connections_per_address: int = Field(default=50, ge=1)
    """Open SMTP, POP3, IMAP and HTTP connections from one client address."""
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
    https_port: int | None = Field(default=None, ge=0, le=65535)
    """The same API and console over TLS (the mail ports' certificate); off unless set."""
    http_admins: list[str] = Field(default_factory=list)
    """Accounts that are administrators over HTTP: they see every office's declarations."""
    http_test_rig: bool = False
    """Allow the test rig's administration (emulated date, chaos); off in production."""
    chaos_modem_control: str | None = None
    """``HOST:PORT`` of a modem simulator's control port (``teledispatch modem --control``):
    the chaos switch ``modem`` (carrier drop after N bytes) is passed on to it."""
    http_token_secret: SecretStr | None = None
    """Signs the API tokens ``teledispatch account token`` prints; unset, tokens are off.
    Changing it revokes every token."""

    # The declaration pipeline (gateway.pipeline): worker processes read the submissions.
    pipeline_workers: int | None = Field(default=None, ge=1)
    """Worker processes that read and validate submissions; default one per core."""
    analysis_seconds: float = Field(default=30.0, gt=0)
    """Seconds one submission may take to read; its process is then killed and replaced,
    and the agent told the mail was over the limit."""
    analysis_max_parts: int = Field(default=1000, ge=1)
    """MIME parts of a submission beyond which it is answered without being read."""
    analysis_max_depth: int = Field(default=20, ge=1)
    """Nesting of MIME parts (mails forwarded inside mails) beyond which likewise."""
    analysis_memory_mib: int = Field(default=768, ge=16)
    """Memory (MiB) reading one submission may take in its worker process, beyond what the
    process holds before its first mail; the mail is then answered as over the limit and
    the process replaced. Linux only."""

    log_format: Literal["text", "json"] = "text"
    """The node's log lines: ``text`` (events as key=value pairs) or one JSON object a line."""

    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    logins: LoginLimits = Field(default_factory=LoginLimits)
    """Failed-login penalty, password-check threads, cache of good logins (``[logins]``)."""

    @field_validator("smtps_port", "pop3s_port", "imaps_port", "https_port", mode="before")
    @classmethod
    def _port_off(cls, value: Any) -> Any:
        if value is False or (isinstance(value, str) and value.lower() in ("off", "false")):
            return None
        return value

    @field_validator("chaos_modem_control")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is not None:
            host, _, port = value.rpartition(":")
            if not host or not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
                raise ValueError(f"expected HOST:PORT, got {value!r}")
        return value

    @model_validator(mode="after")
    def _certificate_with_key(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together")
        return self

    @property
    def greeting_name(self) -> str:
        return self.hostname or f"{self.node_name}.{self.domain}"

    @property
    def registration_address(self) -> str:
        return f"{self.registration.local_part}@{self.domain.lower()}"

    @property
    def tls_dir(self) -> Path:
        """Where the node keeps its own CA and the certificate it issues itself."""
        return self.data_dir / "tls"

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
