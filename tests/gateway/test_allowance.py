"""Each sender's bytes in its day, on an injected clock."""

from __future__ import annotations

from gateway.allowance import DAY, SubmissionAllowance


def test_a_sender_has_its_bytes_a_day_whatever_the_case_of_its_address() -> None:
    now = [0.0]
    allowance = SubmissionAllowance(1000, monotonic=lambda: now[0])
    assert allowance.take("agente1@agencias.pe", 700)
    assert not allowance.take("Agente1@Agencias.PE", 400)  # refused: nothing counted
    assert allowance.has_room("agente1@agencias.pe", 300)
    assert allowance.take("agente1@agencias.pe", 300)
    assert not allowance.has_room("agente1@agencias.pe")
    assert allowance.take("agente2@agencias.pe", 1000)  # another sender's own day
    now[0] = DAY - 1
    assert not allowance.has_room("agente1@agencias.pe")
    assert allowance.resets_in("agente1@agencias.pe") == 1
    now[0] = DAY
    assert allowance.has_room("agente1@agencias.pe", 1000)


def test_a_mail_larger_than_a_whole_day_is_never_taken() -> None:
    allowance = SubmissionAllowance(1000, monotonic=lambda: 0.0)
    assert not allowance.take("agente1@agencias.pe", 1001)
    assert allowance.take("agente1@agencias.pe", 1000)


def test_a_mail_given_back_leaves_its_bytes_to_the_sender() -> None:
    allowance = SubmissionAllowance(1000, monotonic=lambda: 0.0)
    assert allowance.take("agente1@agencias.pe", 800)
    allowance.give_back("Agente1@agencias.pe", 800)  # not stored
    assert allowance.take("agente1@agencias.pe", 1000)
