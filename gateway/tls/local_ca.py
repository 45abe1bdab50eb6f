"""A node's own small certificate authority, and the server certificate it issues.

Made with ``cryptography`` on first start when the deployment names no certificate. The CA
key never leaves the data directory (mode 0600); clients are given ``ca.pem`` to trust.
ECDSA P-256 keys: every client the project meets (GnuTLS, OpenSSL) takes them, and they are
generated in milliseconds, so a fresh node starts without a pause.

The server certificate is re-issued (by the same CA) when the node's names change or it
nears its end, so a client that trusts the CA keeps working.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["LocalCa", "ServerCertificate", "ensure_local_ca", "server_names"]

CA_LIFETIME: Final = timedelta(days=3650)
SERVER_LIFETIME: Final = timedelta(days=397)  # the longest browsers and clients accept
RENEW_BEFORE: Final = timedelta(days=30)

_IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class LocalCa:
    """The CA certificate clients trust (``ca_file``) and its SHA-256 fingerprint."""

    ca_file: Path
    key_file: Path

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.ca_file.read_bytes())

    @property
    def fingerprint(self) -> str:
        """``AA:BB:...``, as ``openssl x509 -fingerprint -sha256`` prints it."""
        digest = self.certificate.fingerprint(hashes.SHA256())
        return ":".join(f"{byte:02X}" for byte in digest)


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    """The files an SSL context loads: certificate (chain) and private key."""

    cert_file: Path
    key_file: Path


def server_names(greeting_name: str, host: str) -> list[str]:
    """What a client may call the node: its greeting name, ``localhost``, loopback addresses,
    and the listening address when it is a specific one."""
    names = [greeting_name, "localhost", "127.0.0.1", "::1"]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host:
            names.append(host)
    else:
        if not address.is_unspecified:
            names.append(str(address))
    return list(dict.fromkeys(names))


def ensure_local_ca(
    directory: Path, names: list[str], *, now: datetime | None = None
) -> tuple[LocalCa, ServerCertificate, bool]:
    """The CA and server certificate under ``directory``, made or renewed as needed.

    Returns the CA, the server certificate and whether anything was created (so the caller
    can tell the operator which file to hand to clients).
    """
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    ca = LocalCa(directory / "ca.pem", directory / "ca.key")
    server = ServerCertificate(directory / "server.pem", directory / "server.key")
    created = False
    if not (ca.ca_file.exists() and ca.key_file.exists()) or _expiring(ca.ca_file, now):
        _write_ca(ca, names[0], now)
        created = True
    if created or _needs_reissue(server.cert_file, server.key_file, names, now):
        _issue_server(ca, server, names, now)
        created = True
    return ca, server, created


def _write_ca(ca: LocalCa, node: str, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Teledespacho"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Teledespacho local CA ({node})"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(ca.key_file, key)
    ca.ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _issue_server(ca: LocalCa, server: ServerCertificate, names: list[str], now: datetime) -> None:
    ca_key = serialization.load_pem_private_key(ca.key_file.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{ca.key_file} is not the local CA's EC key")
    ca_cert = ca.certificate
    key = ec.generate_private_key(ec.SECP256R1())
    alternative: list[x509.GeneralName] = []
    for name in names:
        address = _ip(name)
        alternative.append(x509.IPAddress(address) if address is not None else x509.DNSName(name))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(server.key_file, key)
    # The chain: some clients want the issuer sent along even when they hold it.
    server.cert_file.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )


def _needs_reissue(cert_file: Path, key_file: Path, names: list[str], now: datetime) -> bool:
    if not (cert_file.exists() and key_file.exists()) or _expiring(cert_file, now):
        return True
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return True
    held = {str(n) for n in extension.value.get_values_for_type(x509.DNSName)}
    held |= {str(n) for n in extension.value.get_values_for_type(x509.IPAddress)}
    wanted = {str(_ip(name) or name) for name in names}
    return not wanted <= held


def _expiring(cert_file: Path, now: datetime) -> bool:
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return certificate.not_valid_after_utc - RENEW_BEFORE < now


def _ip(name: str) -> _IpAddress | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
