"""The registration desk on a real store, without the network: what it files and answers."""

from __future__ import annotations

from config.clock import FixedClock
from config.offices import load_offices
from config.registration import RegistrationSettings
from gateway.registration.desk import RegistrationDesk
from mailboxes.registrations import MailboxRequests
from mailboxes.store import Store
from tests.gateway.registration.helpers import FOR_NEW_MAILBOX, REGISTRATION, request_mail


def _desk(store: Store, clock: FixedClock, now: list[float]) -> RegistrationDesk:
    registry = load_offices()
    return RegistrationDesk(
        store,
        address=REGISTRATION,
        domain="aduanas.gob.pe",
        offices=lambda: registry,
        settings=RegistrationSettings(per_sender=1, per_client=2, window_minutes=1),
        clock=clock,
        monotonic=lambda: now[0],
    )


async def test_a_null_sender_notice_is_kept_and_never_a_request(
    store: Store, clock: FixedClock
) -> None:
    desk = _desk(store, clock, [0.0])
    reply = await desk.receive("<>", "127.0.0.1", request_mail("x@y.pe", FOR_NEW_MAILBOX))
    assert reply.startswith("250")
    assert await MailboxRequests(store).listing() == []
    assert len(await store.list_messages(REGISTRATION)) == 1


def test_limits_reopen_when_the_window_passes(store: Store, clock: FixedClock) -> None:
    now = [0.0]
    desk = _desk(store, clock, now)
    assert desk.admit("a@x.pe", "10.0.0.1") is None
    assert desk.admit("a@x.pe", "10.0.0.1") is not None  # per sender
    assert desk.admit("b@x.pe", "10.0.0.1") is None
    assert desk.admit("c@x.pe", "10.0.0.1") is not None  # per client
    now[0] = 60.0
    assert desk.admit("a@x.pe", "10.0.0.1") is None


def test_a_stranger_must_give_a_return_path_and_a_fitting_size(
    store: Store, clock: FixedClock
) -> None:
    desk = _desk(store, clock, [0.0])
    assert desk.check_sender("<>", []) is not None
    assert desk.check_sender("a@x.pe", ["SIZE=1000000"]) is not None
    assert desk.check_sender("a@x.pe", ["SIZE=1000", "BODY=8BITMIME"]) is None
