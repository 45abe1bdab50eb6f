"""Attributing a picked-up message by its DKIM signature, and nothing else."""

from __future__ import annotations

from gateway.pickup.evidence import signed_sender
from tests.gateway.pickup.dkim_keys import dns_for, lookup, signed

AGENT = "agente1@agencias.pe"
SENDERS = frozenset({AGENT})
DNS = lookup(dns_for("agencias.pe", "otro.pe"))
MESSAGE = (
    b"From: Agente Uno <agente1@agencias.pe>\r\n"
    b"To: aduana-127@aduanas.gob.pe\r\n"
    b"Subject: DUA\r\n"
    b"\r\n"
    b"la declaracion\r\n"
)


def test_a_valid_signature_of_the_senders_domain_attributes_it() -> None:
    found = signed_sender(signed(MESSAGE, "agencias.pe"), SENDERS, DNS)
    assert found.sender == AGENT


def test_headers_alone_prove_nothing() -> None:
    found = signed_sender(MESSAGE, SENDERS, DNS)
    assert found.sender is None and "no valid DKIM signature of agencias.pe" in found.reason


def test_a_signature_of_another_domain_proves_nothing() -> None:
    assert signed_sender(signed(MESSAGE, "otro.pe"), SENDERS, DNS).sender is None


def test_a_tampered_body_or_from_proves_nothing() -> None:
    good = signed(MESSAGE, "agencias.pe")
    assert signed_sender(good.replace(b"la declaracion", b"otra cosa"), SENDERS, DNS).sender is None
    moved = signed(MESSAGE.replace(b"agente1", b"agente2"), "agencias.pe")
    assert signed_sender(moved.replace(b"agente2", b"agente1"), SENDERS, DNS).sender is None


def test_a_signature_over_part_of_the_body_proves_nothing() -> None:
    partial = signed(MESSAGE, "agencias.pe", length=True)
    assert b" l=" in partial or b";l=" in partial
    appended = partial + b"y algo que el firmante nunca vio\r\n"
    assert signed_sender(appended, SENDERS, DNS).sender is None


def test_only_the_sources_senders_and_one_from() -> None:
    assert (
        signed_sender(signed(MESSAGE, "agencias.pe"), frozenset({"x@agencias.pe"}), DNS).sender
        is None
    )
    two = MESSAGE.replace(b"To:", b"From: agente2@agencias.pe\r\nTo:")
    assert signed_sender(signed(two, "agencias.pe"), SENDERS, DNS).sender is None


def test_an_unpublished_key_proves_nothing() -> None:
    assert signed_sender(signed(MESSAGE, "agencias.pe"), SENDERS, lookup({})).sender is None


def test_a_from_nested_past_reading_proves_nothing() -> None:
    # The address parser recursed once per nested comment: the pickup pass raised instead.
    deep = MESSAGE.replace(b"From: Agente Uno", b"From: " + b"(" * 3000 + b")" * 3000)
    found = signed_sender(signed(deep, "agencias.pe"), SENDERS, DNS)
    assert found.sender is None and found.reason == "it has no single From: address"
