"""How the node answers failed logins, and how it remembers good ones (``[logins]``).

One policy for SMTP, POP3, IMAP and the peers' relay login: a failed login delays the next
attempts from that client address and on that account (see ``gateway.logins``).
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LoginLimits"]


def _default_threads() -> int:
    """Half the cores: a flood of password checks may take half the machine, never all."""
    return max(1, (os.cpu_count() or 2) // 2)


class LoginLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    penalty_seconds: float = Field(default=1.0, ge=0)
    """Delay after the first failure; it doubles with each further one (Dovecot's penalty).
    0 turns the penalty off."""
    max_penalty_seconds: float = Field(default=15.0, ge=0)
    """The longest delay. An attempt that would have to wait longer is not checked: it is
    answered with a temporary failure after this long."""
    forget_after_seconds: float = Field(default=900.0, gt=0)
    """Failures are forgotten after this long without another one."""
    trust_seconds: float = Field(default=7 * 86400.0, ge=0)
    """After a good login, that client address is exempt from the account's penalty (not
    from its own) for this long: a guesser elsewhere cannot slow the owner down."""
    tracked: int = Field(default=100_000, ge=1)
    """How many addresses and accounts the penalty remembers (least recent forgotten)."""
    check_threads: int = Field(default_factory=_default_threads, ge=1)
    """Threads that verify passwords (Argon2id), apart from every other thread of the node."""
    cache_size: int = Field(default=10_000, ge=0)
    """Recent good logins remembered so a reconnecting client skips Argon2id; 0: none."""
    cache_seconds: float = Field(default=3600.0, gt=0)
    """How long a remembered login stays valid (Dovecot's auth_cache_ttl)."""
