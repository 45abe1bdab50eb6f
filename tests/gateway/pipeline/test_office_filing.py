"""The office copy of an accepted declaration is filed where the office's filing table says."""

from __future__ import annotations

from config import OfficeRegistry
from config.clock import FixedClock
from gateway.imap.filing import OfficeFiling
from gateway.pipeline import PipelineWorker
from mailboxes.store import Store
from tests.gateway.pipeline.helpers import (
    DOMAIN,
    OFFICE,
    declaration,
    flat,
    mailbox,
    submission,
    submit,
)


async def test_accepted_declarations_are_filed_by_regime_and_channel(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    worker = PipelineWorker(
        accounts,
        offices=offices,
        clock=clock,
        domain=DOMAIN,
        filing=OfficeFiling(by_regime={"10": "Importacion"}, by_channel={"verde": "Canal verde"}),
    )
    for n in range(6):
        await submit(accounts, submission(flat(declaration(reference=f"FIL-{n}"))))
    await worker.run_until_idle()

    green = await mailbox(accounts, OFFICE, "Canal verde")
    imports = await mailbox(accounts, OFFICE, "Importacion")
    assert len(green) + len(imports) == 6
    assert green and imports, "the seeded draw gives verde and other channels among six"
    assert {copy["X-Teledespacho-Channel"] for copy in green} == {"verde"}  # channel rule wins
    assert "verde" not in {copy["X-Teledespacho-Channel"] for copy in imports}
    assert await mailbox(accounts, OFFICE) == []  # nothing left in INBOX
