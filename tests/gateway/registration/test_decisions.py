"""What refuses an approval, decided on facts alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from config.offices import load_offices
from gateway.registration.decisions import Facts, approval_problems, new_password
from mailboxes.registrations import MailboxRequest, RequestState

REQUEST = MailboxRequest(
    number=7,
    requester="despacho@piscosur.com.pe",
    client="127.0.0.1",
    mailbox="despacho@piscosur.com.pe",
    agent_code="6120",
    agency="Sur",
    ruc="20100070970",
    contact="Ana",
    offices=("127",),
    state=RequestState.PENDING,
    received_at=datetime(2026, 12, 4, tzinfo=UTC),
)
CLEAR = Facts(mailbox_taken=False, mailbox_homed_on=None, agent_code_holder=None)


def _problems(request: MailboxRequest = REQUEST, facts: Facts = CLEAR) -> list[str]:
    return approval_problems(request, facts, registry=load_offices(), domain="aduanas.gob.pe")


def test_a_clean_request_can_be_approved() -> None:
    assert _problems() == []


def test_every_refusal_is_named() -> None:
    bad = replace(REQUEST, ruc="20100070971", offices=("999",))
    facts = Facts(mailbox_taken=True, mailbox_homed_on="tacna", agent_code_holder="x@y.pe")
    problems = "\n".join(_problems(bad, facts))
    assert "already has a mailbox on this node" in problems
    assert "is hosted by node tacna" in problems
    assert "agent code 6120 already belongs to x@y.pe" in problems
    assert "RUC: el dígito verificador del RUC 20100070971 no es válido" in problems
    assert "no such office in the registry: 999" in problems


def test_a_decided_request_is_not_decided_again() -> None:
    done = replace(
        REQUEST,
        state=RequestState.REJECTED,
        decided_by="of127",
        decided_at=datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
    )
    assert _problems(done) == ["request 7 is already rejected (by of127 on 2026-12-04 10:00 UTC)"]


def test_passwords_are_fresh_and_unambiguous() -> None:
    passwords = {new_password() for _ in range(100)}
    assert len(passwords) == 100
    assert not any(set(p) & set("0O1lI") for p in passwords)
