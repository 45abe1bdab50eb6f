"""The server-side SSL context all three protocols share (STARTTLS and implicit TLS).

Python's defaults for a server (``Purpose.CLIENT_AUTH``): no client certificates asked for,
TLS 1.2 at least, the system's cipher policy. aiosmtpd warns when a context would verify
clients, so this one never does.
"""

from __future__ import annotations

import ssl
from pathlib import Path

__all__ = ["server_context"]


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A context serving ``cert_file`` (a PEM chain) with ``key_file``.

    Raises:
        OSError, ssl.SSLError: a file is missing, unreadable or not a matching pair.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(cert_file, key_file)
    return context
