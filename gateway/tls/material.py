"""What a node serves TLS with: the deployment's certificate, or one from its own CA."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from config.settings import Settings
from gateway.tls.contexts import server_context
from gateway.tls.local_ca import LocalCa, ensure_local_ca, server_names

__all__ = ["NodeTls", "TlsSetupError", "node_tls"]


class TlsSetupError(Exception):
    """The configured certificate or key cannot be used; the message is one line."""


@dataclass(frozen=True, slots=True)
class NodeTls:
    """The context all listeners share; ``ca`` is the node's own CA, when it issued the
    certificate (``None`` when the deployment named its own), ``created`` when just made."""

    context: ssl.SSLContext
    ca: LocalCa | None
    created: bool


def node_tls(settings: Settings) -> NodeTls:
    """Load the configured certificate, or make (once) and load the local CA's.

    Raises:
        TlsSetupError: a file is missing or unreadable, or key and certificate do not match.
    """
    try:
        if settings.tls_cert_file is not None and settings.tls_key_file is not None:
            context = server_context(settings.tls_cert_file, settings.tls_key_file)
            return NodeTls(context, None, False)
        names = server_names(settings.greeting_name, settings.host)
        ca, server, created = ensure_local_ca(settings.tls_dir, names)
        return NodeTls(server_context(server.cert_file, server.key_file), ca, created)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise TlsSetupError(f"cannot set up TLS: {exc}") from exc
