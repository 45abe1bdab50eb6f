"""Where mail goes when it is not for this node: the peers, the agents' home nodes, relay
timing and third-party mailboxes to pick up.

Read from the ``[topology]`` table of the node's TOML config. Every node of a deployment
knows, from the office registry (``offices.toml``: ``node`` per office) and from this table,
which node hosts each office and each agent's mailbox.

A peer is trusted by a shared secret: a node relaying to a peer authenticates (SMTP AUTH) as
its own node name with the secret both configs name for that pair. Only configured peers may
relay into a node; an address no configured node hosts is refused, so nothing is an open
relay.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["Peer", "PickupSource", "RelayTiming", "Topology"]


class Peer(BaseModel):
    """Another node: where its SMTP server listens and the secret shared with it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    smtp_port: int = Field(ge=1, le=65535)
    secret: SecretStr


class RelayTiming(BaseModel):
    """Retry schedule of the relay queue: exponential backoff, then give up with a DSN."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_retry_seconds: float = Field(default=60.0, gt=0)
    max_retry_seconds: float = Field(default=3600.0, gt=0)
    give_up_hours: float = Field(default=48.0, gt=0)
    poll_seconds: float = Field(default=5.0, gt=0)
    timeout_seconds: float = Field(default=30.0, gt=0)

    def delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failed attempt (1, 2, ...): doubling, capped."""
        seconds = self.first_retry_seconds * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, self.max_retry_seconds))

    @property
    def give_up_after(self) -> timedelta:
        return timedelta(hours=self.give_up_hours)


class PickupSource(BaseModel):
    """An outside mailbox (an ISP's, the agents' association's) this node empties."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """Names the source in the node's records (what was imported from where)."""
    protocol: Literal["imap", "pop3"]
    host: str
    port: int = Field(ge=1, le=65535)
    user: str
    password: SecretStr
    folder: str = "INBOX"
    deliver_to: str
    """The local address (e.g. an office intake) the imported messages are delivered to."""
    poll_seconds: float = Field(default=60.0, gt=0)
    agent: str | None = None
    """The agent whose own folder this is: everything picked up from it is that agent's
    submission, whatever its header says. Only for an IMAP folder other than INBOX, which
    only the mailbox's owner can write to (anyone on the Internet can mail an INBOX); see
    docs/security.md. Without it (or ``senders`` and a DKIM signature), nothing proves who
    wrote a message found there, and it is left where it is (and logged)."""

    senders: frozenset[str] | None = None
    """For a source not bound to an agent: the agents whose mail is taken from it, each
    message only when a valid DKIM signature of its ``From:`` address's domain proves it
    (see ``gateway.pickup.evidence``). Anything else is left at the source, and logged."""

    @field_validator("agent")
    @classmethod
    def _lower_case(cls, agent: str | None) -> str | None:
        return None if agent is None else agent.strip().lower()

    @field_validator("senders")
    @classmethod
    def _lower_cases(cls, senders: frozenset[str] | None) -> frozenset[str] | None:
        return None if senders is None else frozenset(s.strip().lower() for s in senders)

    @model_validator(mode="after")
    def _agent_needs_a_private_folder(self) -> PickupSource:
        if self.agent is not None and (self.protocol != "imap" or self.folder.upper() == "INBOX"):
            raise ValueError(
                "agent needs an IMAP folder other than INBOX that only the agent writes to: "
                "anyone can mail an INBOX, so its messages prove nothing about who wrote them"
            )
        if self.agent is not None and self.senders is not None:
            raise ValueError("a source bound to an agent takes no senders: all is the agent's")
        return self


class Topology(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    peers: dict[str, Peer] = Field(default_factory=dict)
    """Other nodes by node name (the names ``offices.toml`` uses)."""
    agent_homes: dict[str, str] = Field(default_factory=dict)
    """Agent address -> the node that hosts its mailbox; absent: this node, if it knows it."""
    relay: RelayTiming = Field(default_factory=RelayTiming)
    pickup: list[PickupSource] = Field(default_factory=list)
