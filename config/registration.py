"""Settings of mailbox requests by mail (``[registration]`` in the node's TOML config).

Seed 000: agents "may request the start-up of mailboxes". A node takes such requests, from
anyone and without SMTP AUTH, at one address only; everything about that door is bounded here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RegistrationSettings"]


class RegistrationSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    open: bool = True
    """Take mailbox requests by mail at all (closed: unauthenticated mail is refused at MAIL)."""
    local_part: str = Field(default="buzones", pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """The registration address is ``<local_part>@<domain>``."""
    max_size: int = Field(default=64 * 1024, ge=1024)
    """Largest request, in bytes: a form is a few lines, so this is far below other mail."""
    per_sender: int = Field(default=5, ge=1)
    """Requests a sender address may send in ``window_minutes``."""
    per_client: int = Field(default=20, ge=1)
    """Requests one client (IP address) may send in ``window_minutes``."""
    window_minutes: float = Field(default=60.0, gt=0)
