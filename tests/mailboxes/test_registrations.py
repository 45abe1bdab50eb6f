"""Mailbox requests in the store, on both backends: filing under a number, the decision
with its account, scope and letter in one transaction, and each decided only once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailboxes.records import Recipient
from mailboxes.registrations import (
    AlreadyDecided,
    Letter,
    MailboxRequest,
    MailboxRequests,
    NumberTaken,
    RequestState,
)
from mailboxes.relay import RelayQueue
from mailboxes.store import AccountExists, Store
from tests.mailboxes.test_database import hand_offs

__all__ = ["hand_offs"]

REGISTRATION = "buzones@aduanas.gob.pe"
REQUESTER = "despacho@piscosur.com.pe"


def _request(number: int, *, agent_code: str = "6120", mailbox: str = REQUESTER) -> MailboxRequest:
    return MailboxRequest(
        number=number,
        requester=REQUESTER,
        client="127.0.0.1",
        mailbox=mailbox,
        agent_code=agent_code,
        agency="Agencia Sur",
        ruc="20100070970",
        contact="Ana",
        offices=("127", "118"),
        state=RequestState.PENDING,
        received_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    )


async def _file(requests: MailboxRequests, request: MailboxRequest) -> None:
    await requests.file(
        request,
        original=Recipient(REGISTRATION),
        raw=b"Subject: solicitud\r\n\r\nagente: 6120\r\n",
        answer=Letter(Recipient(REQUESTER), b"Subject: recibida\r\n\r\n"),
    )


async def test_a_request_is_filed_with_its_mail_and_answer(store: Store) -> None:
    requests = MailboxRequests(store)
    assert await requests.next_number() == 1
    await _file(requests, _request(1))
    assert await requests.next_number() == 2
    assert await requests.get(1) == _request(1)
    assert len(await store.list_messages(REGISTRATION)) == 1
    assert len(await store.list_messages(REQUESTER)) == 1
    with pytest.raises(NumberTaken):
        await _file(requests, _request(1))
    assert len(await store.list_messages(REGISTRATION)) == 1  # nothing of the loser remains


async def test_an_answer_for_a_peer_is_queued_for_relay(store: Store) -> None:
    requests = MailboxRequests(store)
    await requests.file(
        _request(1),
        original=Recipient(REGISTRATION),
        raw=b"Subject: solicitud\r\n\r\n",
        answer=Letter(Recipient(REQUESTER, relay_to="tacna"), b"Subject: recibida\r\n\r\n"),
    )
    [queued] = await RelayQueue(store).pending()
    assert (queued.recipient, queued.node, queued.sender) == (REQUESTER, "tacna", "")
    assert await store.list_messages(REQUESTER) == []


async def test_approval_creates_the_account_and_scope_once(store: Store) -> None:
    requests = MailboxRequests(store)
    await _file(requests, _request(1))
    letter = Letter(Recipient(REQUESTER), b"Subject: aprobada\r\n\r\n")
    decided = await requests.approve(1, password_hash=store.hasher.hash("x"), by="of127",
                                     letter=letter)  # fmt: skip
    assert decided.state is RequestState.APPROVED and decided.decided_by == "of127"
    assert decided.decided_at is not None
    found = await store.credentials(REQUESTER)
    assert found is not None
    account, password_hash = found
    assert account.agent_code == "6120" and store.hasher.verify(password_hash, "x")
    assert await requests.office_scope(REQUESTER) == {"127", "118"}
    assert len(await store.list_messages(REQUESTER)) == 2
    with pytest.raises(AlreadyDecided):
        await requests.reject(1, reason="no", by="of127", letter=letter)
    assert await requests.agent_code_holder("6120") == REQUESTER


async def test_a_taken_agent_code_leaves_the_request_pending(store: Store) -> None:
    await store.create_account("agente1@agencias.pe", "x", role="agent", agent_code="6120")
    requests = MailboxRequests(store)
    await _file(requests, _request(1))
    letter = Letter(Recipient(REQUESTER), b"Subject: aprobada\r\n\r\n")
    with pytest.raises(AccountExists):
        await requests.approve(1, password_hash="h", by="of127", letter=letter)
    request = await requests.get(1)
    assert request is not None and request.state is RequestState.PENDING
    assert len(await store.list_messages(REQUESTER)) == 1  # only the acknowledgement


async def test_rejection_is_recorded_with_its_reason(store: Store) -> None:
    requests = MailboxRequests(store)
    await _file(requests, _request(1))
    await _file(requests, _request(2, agent_code="7001"))
    letter = Letter(Recipient(REQUESTER), b"Subject: rechazada\r\n\r\n")
    await requests.reject(1, reason="RUC inactivo", by="of127", letter=letter)
    [pending] = await requests.listing(pending_only=True)
    assert pending.number == 2
    rejected = await requests.get(1)
    assert rejected is not None and rejected.reason == "RUC inactivo"
    assert rejected.state is RequestState.REJECTED


async def test_filing_and_deciding_are_one_hand_off_each(
    store: Store, hand_offs: list[int]
) -> None:
    if not store.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")
    requests = MailboxRequests(store)
    await _file(requests, _request(1))  # connections opened, statements compiled
    await requests.reject(1, reason="no", by="of127", letter=Letter(Recipient(REQUESTER), b"x"))
    assert await requests.get(1) is not None
    hand_offs[0] = 0
    await _file(requests, _request(2))
    assert hand_offs[0] == 1  # was 29: the request row, two mails, their mailboxes
    hand_offs[0] = 0
    letter = Letter(Recipient(REQUESTER), b"Subject: aprobada\r\n\r\n")
    await requests.approve(2, password_hash="h", by="of127", letter=letter)
    assert hand_offs[0] == 1  # the decision, the account, its scope, the letter
    hand_offs[0] = 0
    assert await requests.office_scope(REQUESTER) == {"127", "118"}
    assert hand_offs[0] == 1
