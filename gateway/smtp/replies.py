"""The SMTP replies this gateway sends itself (RFC 5321 codes, RFC 3463 enhanced codes)."""

from __future__ import annotations

from typing import Final

OK: Final = "250 2.0.0 OK"
AUTH_OK: Final = "235 2.7.0 Authentication successful"
AUTH_INVALID: Final = "535 5.7.8 Authentication credentials invalid"
AUTH_MALFORMED: Final = "501 5.5.2 Cannot decode the credentials"
AUTH_TEMP_FAIL: Final = "454 4.7.0 Temporary authentication failure"
SENDER_NOT_OWNED: Final = "553 5.7.1 Sender address is not the authenticated user's"
HEADER_NOT_OWNED: Final = "550 5.7.1 The From: and Sender: fields must name your own address"
NO_SUCH_USER: Final = "550 5.1.1 No such mailbox here"
RELAY_DENIED: Final = "550 5.7.1 Relaying denied"
BAD_ADDRESS: Final = "553 5.1.3 Malformed address"
TOO_MANY_RECIPIENTS: Final = "452 4.5.3 Too many recipients"
HANDOVER_REFUSED: Final = "554 5.6.0 Not an acceptable numbering handover"
AUTH_REQUIRED: Final = "530 5.7.0 Authentication required"
OFFICE_NOT_IN_SCOPE: Final = "550 5.7.1 This mailbox is not enabled for that customs office"
REQUEST_ALONE: Final = "452 4.5.3 Send the mailbox request in a message of its own"
LOCAL_ERROR: Final = "451 4.3.0 Local error in processing, try again later"
STORAGE_FULL: Final = "452 4.3.1 Insufficient system storage, try again later"
ALLOWANCE_USED: Final = "452 4.7.1 Over this sender's daily submission allowance, try later"
LARGER_THAN_A_DAY: Final = "552 5.3.4 Message larger than a day's submission allowance"


def queued(job_ids: list[int]) -> str:
    if job_ids:
        return f"250 2.0.0 OK queued for declaration processing as {','.join(map(str, job_ids))}"
    return OK
