"""Which mailboxes an IMAP login sees, and under which names.

Isolation is by construction: a name is only ever resolved inside the logged-in account's
own mailboxes, so no spelling of a name reaches another account's folder. The one exception
is deliberate and configured: an office account may see its departments' mailboxes, under
``Departamentos/<department>/<folder>`` (``<department>`` is the local part of the
department's address, e.g. ``Departamentos/despacho.118/INBOX``).

Pure: no store, no I/O; the backend asks the store which departments an office has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from mailboxes.folders import INBOX

__all__ = [
    "DELIMITER",
    "MAX_NAME_LENGTH",
    "SHARED_ROOT",
    "InvalidName",
    "Namespace",
    "check_name",
    "department_label",
]

DELIMITER: Final = "/"
SHARED_ROOT: Final = "Departamentos"
MAX_NAME_LENGTH: Final = 255


class InvalidName(ValueError):
    """Not a name a folder can have (empty parts, control characters, too long...)."""


def department_label(address: str) -> str:
    return address.partition("@")[0]


def check_name(name: str) -> None:
    """Raise ``InvalidName`` unless ``name`` can name a folder of the store."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidName(name)
    if any(not part for part in name.split(DELIMITER)):
        raise InvalidName(name)  # leading, trailing or doubled delimiter
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidName(name)


@dataclass(frozen=True)
class Namespace:
    """The names one login sees: its own folders, plus its departments' if shared."""

    owner: str
    departments: Mapping[str, str] = field(default_factory=dict)
    """Label (as in the name) to department address."""

    @property
    def shares(self) -> bool:
        return bool(self.departments)

    def owners(self) -> list[str]:
        return [self.owner, *self.departments.values()]

    def resolve(self, name: str) -> tuple[str, str]:
        """(owner, folder) of an IMAP mailbox name; ``KeyError`` if it names nothing.

        INBOX is matched in any case (RFC 3501 §5.1); other names are case-sensitive.
        """
        if name.upper() == INBOX:
            return self.owner, INBOX
        if self.shares and self.is_shared(name):
            _, _, rest = name.partition(DELIMITER)
            label, _, folder = rest.partition(DELIMITER)
            address = self.departments.get(label)
            if address is None or not folder:
                raise KeyError(name)
            return address, INBOX if folder.upper() == INBOX else folder
        return self.owner, name

    def is_shared(self, name: str) -> bool:
        """Whether ``name`` lies in the shared tree (where folders are not created here)."""
        return self.shares and (name == SHARED_ROOT or name.startswith(SHARED_ROOT + DELIMITER))

    def name_of(self, owner: str, folder: str) -> str:
        """The IMAP name of one of the store's mailboxes visible to this login."""
        if owner == self.owner:
            return folder
        for label, address in self.departments.items():
            if address == owner:
                return DELIMITER.join((SHARED_ROOT, label, folder))
        raise KeyError((owner, folder))
