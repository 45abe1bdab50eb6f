"""What third-party pickup remembers, on both backends: a message recorded as imported in
its delivery's transaction, or passed over, is seen; another mailbox key is not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from mailboxes.pickup import pass_over, seen, seen_keys
from mailboxes.store import Store


async def test_imported_and_passed_over_messages_are_seen_once(store: Store) -> None:
    now = store.clock.now()
    await store.deliver("a@isp.pe", ["b@x.pe"], b"uno", also=seen("isp", "17", "1", now))
    await pass_over(store, seen("isp", "17", "2", now))
    assert await seen_keys(store, "isp", "17") == {"1", "2"}
    assert await seen_keys(store, "isp", "18") == set()  # a new UIDVALIDITY: all new
    assert await seen_keys(store, "otro", "17") == set()
    with pytest.raises(IntegrityError):  # imported twice: the delivery fails with it
        await store.deliver("a@isp.pe", ["b@x.pe"], b"uno", also=seen("isp", "17", "1", now))
    assert len(await store.list_messages("b@x.pe")) == 1
