"""Who wrote a message found in an outside mailbox that is not bound to an agent.

Its ``From:`` is whatever its writer typed. What a third party cannot forge is a valid DKIM
signature (RFC 6376) of the sender's domain over that ``From:``: the domain's own mail
system signed it. So a message is attributed to an agent of the source's ``senders`` only
when its single ``From:`` address is that agent's and a DKIM signature of exactly that
address's domain verifies (dkimpy), signs ``From:``, and covers the whole body (no ``l=``,
which would let anyone append to a signed message). Anything else is left at the source,
with the reason. Blocking (DNS, RSA): run it off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Final

import dkim
from dkim.dnsplug import get_txt

from gateway.mail.reading import addresses as read_addresses
from mailboxes.addresses import InvalidAddress, normalize_address

__all__ = ["Attribution", "DnsLookup", "signed_sender"]

DnsLookup = Callable[..., bytes | None]
"""dkimpy's TXT lookup: ``(name: bytes, timeout=...) -> bytes | None``."""

MAX_SIGNATURES: Final = 5


@dataclass(frozen=True, slots=True)
class Attribution:
    sender: str | None
    """The agent the message is proven to come from, or ``None``: leave it."""
    reason: str


def signed_sender(
    raw: bytes, senders: Collection[str], dns: DnsLookup | None = None
) -> Attribution:
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    fields = headers.get_all("From") or []
    addresses = read_addresses(str(field) for field in fields)
    if len(fields) != 1 or len(addresses) != 1:
        return Attribution(None, "it has no single From: address")
    try:
        claimed = normalize_address(addresses[0][1])
    except InvalidAddress:
        return Attribution(None, "its From: is not an address")
    if claimed not in senders:
        return Attribution(None, f"From: {claimed} is not one of the source's senders")
    domain = claimed.rpartition("@")[2]
    signatures = len(headers.get_all("DKIM-Signature") or [])
    for index in range(min(signatures, MAX_SIGNATURES)):
        verifier = dkim.DKIM(raw, minkey=1024)
        try:
            if not verifier.verify(index, dnsfunc=dns or get_txt):
                continue
        except dkim.DKIMException:
            continue
        fields_signed = verifier.signature_fields
        if (
            verifier.domain.decode("ascii", "replace").lower() == domain
            and b"from" in verifier.include_headers
            and b"l" not in fields_signed
        ):
            return Attribution(claimed, f"DKIM signature of {domain}")
    return Attribution(None, f"it has no valid DKIM signature of {domain} over From:")
