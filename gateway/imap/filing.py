"""Which office folder an accepted declaration is filed in: by control channel or regime.

An office's clerks split the work: the red channel goes to physical inspection, the orange
to documentary review, and some offices keep each customs regime apart. A filing table says
where the office copy of an accepted declaration goes; what no rule names goes to INBOX.
A channel rule wins over a regime rule (an inspection is urgent whatever the regime).

Folders need not exist beforehand: the store creates a folder on its first delivery, and
IMAP clients see it in LIST at once. Pure: the pipeline asks ``folder_for`` inside its
answering transaction. Configured as a TOML table, for example::

    [office_folders]
    channel = { rojo = "Canal rojo", naranja = "Canal naranja" }
    regime = { "40" = "Exportacion" }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.imap.namespace import InvalidName, check_name
from mailboxes.folders import INBOX

__all__ = ["FilingError", "OfficeFiling"]

CHANNELS = frozenset({"verde", "naranja", "rojo"})


class FilingError(ValueError):
    """The filing table is not valid; the message names the faulty entry."""


@dataclass(frozen=True)
class OfficeFiling:
    by_channel: Mapping[str, str] = field(default_factory=dict)
    by_regime: Mapping[str, str] = field(default_factory=dict)
    default: str = INBOX

    def folder_for(self, *, regime: str, channel: str) -> str:
        """The folder for an accepted declaration of that regime and control channel."""
        return self.by_channel.get(channel.lower()) or self.by_regime.get(regime) or self.default

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> OfficeFiling:
        """From the ``office_folders`` table; ``FilingError`` on anything it cannot use."""
        unknown = set(table) - {"channel", "regime", "default"}
        if unknown:
            raise FilingError(f"office_folders: unknown key {sorted(unknown)[0]!r}")
        by_channel = _folders(table.get("channel", {}), "channel")
        for channel in by_channel:
            if channel not in CHANNELS:
                raise FilingError(f"office_folders.channel: no channel named {channel!r}")
        by_regime = _folders(table.get("regime", {}), "regime")
        for regime in by_regime:
            if not (len(regime) == 2 and regime.isdigit()):
                raise FilingError(f"office_folders.regime: {regime!r} is not a 2-digit regime")
        default = _folder(table.get("default", INBOX), "default")
        return cls(by_channel=by_channel, by_regime=by_regime, default=default)


def _folders(entries: object, where: str) -> dict[str, str]:
    if not isinstance(entries, Mapping):
        raise FilingError(f"office_folders.{where} must be a table")
    folders: dict[str, str] = {}
    for key, folder in entries.items():
        name = str(key).lower() if where == "channel" else str(key)
        folders[name] = _folder(folder, f"{where}.{key}")
    return folders


def _folder(folder: object, where: str) -> str:
    if not isinstance(folder, str):
        raise FilingError(f"office_folders.{where} must be a folder name")
    try:
        check_name(folder)
    except InvalidName as exc:
        raise FilingError(f"office_folders.{where}: {folder!r} cannot name a folder") from exc
    return INBOX if folder.upper() == INBOX else folder
