"""The POP3 session's state machine, as data (RFC 1939 sections 3-6).

Rules for this file:

1. Everything that decides *which* command may run in *which* state, and *where* a state
   goes next, lives here as a table. ``session.py`` only looks things up.
2. A missing key is the answer "not allowed": a command absent from ``HANDLERS[state]`` gets
   ``-ERR command not valid in this state``; a trigger absent from ``TRANSITIONS[state]`` is a
   bug in the core and raises ``Pop3UsageError`` naming the state and trigger.

States::

    AUTHORIZATION --AUTH_ACCEPTED--> TRANSACTION --QUIT--> UPDATE --UPDATE_FINISHED--> CLOSED
          |                               |
          +--QUIT / PEER_GONE / GIVE_UP---+--PEER_GONE / GIVE_UP--> CLOSED  (no UPDATE:
                                                                     marks are discarded)

A dropped connection never passes through UPDATE, so it never applies a DELE (RFC 1939
section 6: the UPDATE state is entered only on QUIT).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from gateway.pop3.errors import Pop3UsageError

__all__ = ["HANDLERS", "TRANSITIONS", "State", "Trigger", "next_state"]


class State(Enum):
    AUTHORIZATION = "AUTHORIZATION"
    TRANSACTION = "TRANSACTION"
    UPDATE = "UPDATE"
    CLOSED = "CLOSED"


class Trigger(Enum):
    AUTH_ACCEPTED = "auth accepted"
    QUIT = "QUIT"
    UPDATE_FINISHED = "update finished"
    PEER_GONE = "peer closed the connection"
    GIVE_UP = "too many errors"


TRANSITIONS: Final[Mapping[State, Mapping[Trigger, State]]] = {
    State.AUTHORIZATION: {
        Trigger.AUTH_ACCEPTED: State.TRANSACTION,
        Trigger.QUIT: State.CLOSED,
        Trigger.PEER_GONE: State.CLOSED,
        Trigger.GIVE_UP: State.CLOSED,
    },
    State.TRANSACTION: {
        Trigger.QUIT: State.UPDATE,
        Trigger.PEER_GONE: State.CLOSED,
        Trigger.GIVE_UP: State.CLOSED,
    },
    State.UPDATE: {
        Trigger.UPDATE_FINISHED: State.CLOSED,
    },
    State.CLOSED: {},
}

#: For each state, the keywords accepted there and the session method that runs each one.
HANDLERS: Final[Mapping[State, Mapping[str, str]]] = {
    State.AUTHORIZATION: {
        "USER": "_cmd_user",
        "PASS": "_cmd_pass",
        "APOP": "_cmd_apop",
        "AUTH": "_cmd_auth",
        "STLS": "_cmd_stls",
        "CAPA": "_cmd_capa",
        "QUIT": "_cmd_quit_authorization",
    },
    State.TRANSACTION: {
        "STAT": "_cmd_stat",
        "LIST": "_cmd_list",
        "UIDL": "_cmd_uidl",
        "RETR": "_cmd_retr",
        "TOP": "_cmd_top",
        "DELE": "_cmd_dele",
        "NOOP": "_cmd_noop",
        "RSET": "_cmd_rset",
        "CAPA": "_cmd_capa",
        "QUIT": "_cmd_quit_transaction",
    },
    State.UPDATE: {},
    State.CLOSED: {},
}


def next_state(state: State, trigger: Trigger) -> State:
    """Look up a transition.

    Raises:
        Pop3UsageError: the table has no such transition (a bug, not the peer's fault).
    """
    try:
        return TRANSITIONS[state][trigger]
    except KeyError:
        message = f"no transition for {trigger.value!r} in state {state.value}"
        raise Pop3UsageError(message) from None
