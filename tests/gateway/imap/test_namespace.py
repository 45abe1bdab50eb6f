"""Names to mailboxes, without a store: isolation by construction, shared departments."""

from __future__ import annotations

import pytest

from gateway.imap.namespace import InvalidName, Namespace, check_name

OFFICE = "aduana-118@aduanas.gob.pe"
DEPARTMENT = "despacho.118@aduanas.gob.pe"


def test_every_name_resolves_inside_the_owner() -> None:
    own = Namespace("agente1@agencias.pe")
    assert own.resolve("inbox") == ("agente1@agencias.pe", "INBOX")
    assert own.resolve("agente2@agencias.pe/INBOX") == (
        "agente1@agencias.pe",
        "agente2@agencias.pe/INBOX",
    )
    assert own.resolve("Departamentos/despacho.118/INBOX")[0] == "agente1@agencias.pe"
    assert own.owners() == ["agente1@agencias.pe"]
    assert not own.is_shared("Departamentos/despacho.118/INBOX")


def test_shared_departments() -> None:
    office = Namespace(OFFICE, {"despacho.118": DEPARTMENT})
    assert office.owners() == [OFFICE, DEPARTMENT]
    assert office.resolve("Departamentos/despacho.118/inbox") == (DEPARTMENT, "INBOX")
    assert office.resolve("Departamentos/despacho.118/Canal rojo") == (DEPARTMENT, "Canal rojo")
    for missing in ("Departamentos/otro.118/INBOX", "Departamentos/despacho.118", "Departamentos"):
        with pytest.raises(KeyError):
            office.resolve(missing)
    assert office.name_of(DEPARTMENT, "INBOX") == "Departamentos/despacho.118/INBOX"
    assert office.name_of(OFFICE, "Recibidos") == "Recibidos"
    with pytest.raises(KeyError):
        office.name_of("agente1@agencias.pe", "INBOX")
    assert office.is_shared("Departamentos") and not office.is_shared("Departamentos2")


@pytest.mark.parametrize("name", ["", "/a", "a/", "a//b", "a\x00b", "x" * 256])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidName):
        check_name(name)


def test_valid_names() -> None:
    for name in ("Canal rojo", "Aceptadas/1997", "Régimen 10"):
        check_name(name)
