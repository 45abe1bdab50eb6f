"""A DKIM key pair for tests only (RSA 1024, the smallest dkimpy accepts), the DNS record
that publishes it, and a signer: the agents' domain as its mail system would sign."""

from __future__ import annotations

import dkim

from gateway.pickup.evidence import DnsLookup

SELECTOR = b"teledespacho"
PRIVATE_KEY = b"""-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQDBDylbr0QOV2hiPuQ1NCBjOk3GGydSbGXvb1vNwyG96MAQITrK
tN58178Xz3GVSG2qlMW4ZvQCh8yrZeeabRwb4CLi70nsE6BZMiiA6gBUTr2+dz1A
MwAOLTSK3x8i/GE5B1o4sXyf3zCH9frf2QXeJzf+9TJ4H/6lZQ8ECFlvKQIDAQAB
AoGAOk8r/KcY9QPtYQ8Buhf+WDn514XIAJsAxqppneH7xPIRYE3JBgRO1oILE1Py
SFZR2R2KAkIGHOWLKZFjvD6MKFDJfni9KyOn61EMgtvav+e+xshESW7agUhO15SK
NXcO1S3PynUSI9EF51mAgQ93LEE2dcT6vQ5sqkUvdpAlR0kCQQDncHKDYU+OL0DJ
+aIzZ6PLSElrO5W45hNXVzXexRA+BDaCpn2TDcNXWoq5WzaP8T8aY5Kt3ZX8AIRM
8ORGay5LAkEA1YwJfvoSpH5gy2iuwI9hdZXpqkTyyOQzp0cMr9UYB6OYo4W2CbTR
kvZKowferJXuYKC0ChLEsIdQ2Ha+5JFf2wJBAIUOoudhlMlb5VW5TUVcelCuuHcM
BKIOtGPsYa43gYUGCwjGCz/2E64vAb5a8F2FBxB22qdW05nT+jv56mOJz00CQD/c
nC5j/NVCkhHioXgmqN+wUGvCKNUZIbVh0xJ2aLRIIWqtnw3yDEal7xYoUVhNkjdF
d/IXQMkF/pBtmpLiQscCQGEcg7FSiOGk0UOWPUUKgZ/ohaIiCfww441f1GxqPQhg
c/LpbkCuMWVpQK+RkRCKErYHGujl0cUQA+mGZAxCZV0=
-----END RSA PRIVATE KEY-----
"""
PUBLIC_KEY = (
    b"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDBDylbr0QOV2hiPuQ1NCBjOk3G"
    b"GydSbGXvb1vNwyG96MAQITrKtN58178Xz3GVSG2qlMW4ZvQCh8yrZeeabRwb4CLi"
    b"70nsE6BZMiiA6gBUTr2+dz1AMwAOLTSK3x8i/GE5B1o4sXyf3zCH9frf2QXeJzf+"
    b"9TJ4H/6lZQ8ECFlvKQIDAQAB"
)


def dns_for(*domains: str) -> dict[bytes, bytes]:
    """The TXT records publishing the test key for ``domains``."""
    return {
        SELECTOR + b"._domainkey." + domain.encode() + b".": b"v=DKIM1; k=rsa; p=" + PUBLIC_KEY
        for domain in domains
    }


def lookup(records: dict[bytes, bytes]) -> DnsLookup:
    def txt(name: bytes, timeout: float = 5) -> bytes | None:
        return records.get(name)

    return txt


def signed(raw: bytes, domain: str, **options: object) -> bytes:
    """``raw`` with a DKIM-Signature of ``domain`` on top."""
    headers = options.pop("include_headers", [b"from", b"to", b"subject", b"date", b"message-id"])
    signature = dkim.sign(
        raw, SELECTOR, domain.encode(), PRIVATE_KEY, include_headers=headers, **options
    )
    return signature + raw
