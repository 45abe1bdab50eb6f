"""TLS for the three mail protocols: the certificate a node serves, and its SSL contexts.

A deployment names its own certificate and key (``tls_cert_file``/``tls_key_file``); without
them the node issues itself one from a small local CA kept under its data directory, so any
client can be told to trust that CA's file and use TLS from the first start.
"""

from gateway.tls.contexts import server_context
from gateway.tls.local_ca import LocalCa, ServerCertificate, ensure_local_ca, server_names
from gateway.tls.material import NodeTls, TlsSetupError, node_tls

__all__ = [
    "LocalCa",
    "NodeTls",
    "ServerCertificate",
    "TlsSetupError",
    "ensure_local_ca",
    "node_tls",
    "server_context",
    "server_names",
]
