"""APOP (RFC 1939 section 7): the greeting timestamp and the digest check.

APOP needs the shared secret in clear on the server. Our accounts keep only a memory-hard
password hash, so APOP works only for accounts given an explicit APOP secret; the adapter
gets that secret from the store and uses ``apop_digest_matches`` here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

__all__ = ["apop_digest", "apop_digest_matches", "make_greeting_timestamp"]

_HOST: Final = re.compile(r"[A-Za-z0-9.-]{1,200}")


def make_greeting_timestamp(process_id: int, counter: int, nonce: str, host: str) -> str:
    """A msg-id-like ``<pid.counter.nonce@host>``, unique per greeting as RFC 1939 asks."""
    if not _HOST.fullmatch(host):
        raise ValueError(f"greeting host name {host!r} is not a plain DNS name")
    if not nonce.isalnum():
        raise ValueError("the nonce must be alphanumeric")
    return f"<{process_id}.{counter}.{nonce}@{host}>"


def apop_digest(timestamp: str, secret: str) -> str:
    """MD5 over timestamp and secret, lowercase hex, as the client computes it."""
    data = (timestamp + secret).encode("utf-8")
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def apop_digest_matches(timestamp: str, secret: str, digest: str) -> bool:
    """Constant-time comparison of the client's digest with the expected one."""
    return hmac.compare_digest(apop_digest(timestamp, secret), digest.lower())
