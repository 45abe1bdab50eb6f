"""API tokens: ``td1.<address and expiry>.<HMAC-SHA256>``, signed with ``http_token_secret``.

Stateless, so every node sharing the secret accepts them and nothing is stored; a token
names an account, which must still exist when it is used. Changing the secret revokes
every token at once. Expiry is checked against the real time (a node may run on an
emulated 1997 calendar; a credential's lifetime must not).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

__all__ = ["InvalidToken", "issue_token", "read_token"]

PREFIX = "td1"
MAX_TOKEN = 1024


class InvalidToken(ValueError):
    """Not a token of ours, altered, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, signed: str) -> str:
    return _b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())


def issue_token(secret: str, address: str, *, seconds: int, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + seconds)
    payload = _b64(f"{address}\n{expires}".encode())
    signed = f"{PREFIX}.{payload}"
    return f"{signed}.{_signature(secret, signed)}"


def read_token(secret: str, token: str, *, now: float | None = None) -> str:
    """The account address the token names; ``InvalidToken`` otherwise."""
    if len(token) > MAX_TOKEN or token.count(".") != 2:
        raise InvalidToken("not a token")
    prefix, payload, signature = token.split(".")
    if prefix != PREFIX:
        raise InvalidToken("not a token")
    if not hmac.compare_digest(signature, _signature(secret, f"{prefix}.{payload}")):
        raise InvalidToken("bad signature")
    try:
        address, _, expires = _unb64(payload).decode("utf-8").partition("\n")
        deadline = int(expires)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidToken("not a token") from None
    if (time.time() if now is None else now) >= deadline:
        raise InvalidToken("expired")
    return address
