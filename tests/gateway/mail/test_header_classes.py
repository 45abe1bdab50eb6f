"""Header classes made once per kind of field (``gateway.mail.header_classes``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from email.headerregistry import (
    AddressHeader,
    BaseHeader,
    ContentTypeHeader,
    HeaderRegistry,
    UnstructuredHeader,
)

import pytest

import gateway.imap  # noqa: F401 - installs the patch, as the node does
from gateway.imap.content import parse_bounded
from tests.gateway.imap.test_many_parts import MANY_PARTS


@pytest.fixture
def collector_off() -> Iterator[None]:
    """No automatic pass while a test counts what a pass would find."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("collector_off")
def test_parsing_a_mail_of_many_parts_leaves_nothing_for_the_collector() -> None:
    content = parse_bounded(MANY_PARTS)
    assert len(content.body.nested) == 999
    del content
    assert gc.collect() == 0  # 3 000 objects before: a class, its MRO and more per field


def test_one_class_per_kind_of_field_and_the_same_fields_parsed() -> None:
    registry = HeaderRegistry()
    first = registry("Content-Type", "text/plain; charset=utf-8")
    second = registry("content-type", 'multipart/mixed; boundary="b"')
    assert type(first) is type(second)
    assert isinstance(first, ContentTypeHeader) and isinstance(first, BaseHeader)
    assert (first.content_type, first.params) == ("text/plain", {"charset": "utf-8"})
    assert second.params == {"boundary": "b"}
    sender = registry("From", "Agente <agente1@agencias.pe>")
    assert isinstance(sender, AddressHeader)
    assert sender.addresses[0].addr_spec == "agente1@agencias.pe"
    assert type(registry("X-Otro", "valor")).__mro__[1:3] == (UnstructuredHeader, BaseHeader)


def test_a_type_mapped_later_still_takes_effect() -> None:
    registry = HeaderRegistry()
    assert not isinstance(registry("X-Remitente", "a@b.pe"), AddressHeader)
    registry.map_to_type("X-Remitente", AddressHeader)
    assert isinstance(registry("X-Remitente", "a@b.pe"), AddressHeader)
    assert not isinstance(HeaderRegistry()("X-Remitente", "a@b.pe"), AddressHeader)
