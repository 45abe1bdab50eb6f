"""The certificate every listener serves, kept current while the node runs.

A node serves for months and a server certificate lasts 397 days: read only at start, it
would expire under a node that is never restarted, and every client would refuse it. So the
node looks again every hour. Its listeners share one SSL context, and a certificate loaded
into it is what each later handshake presents (sessions already open keep theirs):

- its own CA's certificate is re-issued when it nears its end or the node's names change,
  as at start (``ensure_local_ca``);
- a deployment's files (``tls_cert_file``/``tls_key_file``), renewed by its own tooling, are
  loaded again once either changes, as Postfix's next smtpd reads them, after the new pair
  is checked: a renewal caught half written is not served, and the old pair stays.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography import x509

from config.settings import Settings
from gateway.tasks import cancel_and_wait
from gateway.tls.contexts import server_context
from gateway.tls.local_ca import ensure_local_ca, server_names

__all__ = ["CHECK_INTERVAL", "CertificateRenewal"]

log = logging.getLogger(__name__)

CHECK_INTERVAL: Final = 3600.0
"""Seconds between two looks at the certificate (it is renewed 30 days before its end)."""

_Stamp = tuple[tuple[int, int], ...]


class CertificateRenewal:
    """Looks at the served certificate every ``interval`` seconds (``check`` for one look)."""

    def __init__(
        self, settings: Settings, context: ssl.SSLContext, *, interval: float = CHECK_INTERVAL
    ) -> None:
        self._settings = settings
        self._context = context
        self._interval = interval
        self._files: tuple[Path, Path] | None = None
        if settings.tls_cert_file is not None and settings.tls_key_file is not None:
            self._files = (settings.tls_cert_file, settings.tls_key_file)
        self._stamp = _stamp(self._files) if self._files is not None else ()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="tls-renewal")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except Exception:  # a broken look must not end the looking
                log.exception("TLS: looking at the certificate failed")

    async def check(self, now: datetime | None = None) -> bool:
        """Look once; True when a new certificate is served from now on."""
        if self._files is not None:
            return await self._reload_changed(*self._files)
        return await self._renew_own(now or datetime.now(UTC))

    async def _renew_own(self, now: datetime) -> bool:
        settings = self._settings
        names = server_names(settings.greeting_name, settings.host)
        _, server, created = await asyncio.to_thread(
            ensure_local_ca, settings.tls_dir, names, now=now
        )
        if not created:
            return False
        with await asyncio.to_thread(_PemPair.read, server.cert_file, server.key_file) as pair:
            self._context.load_cert_chain(pair.cert_path, pair.key_path)
        log.info(
            "TLS: the node's CA issued a new server certificate, served from now on (valid "
            "until %s)",
            pair.until,
        )
        return True

    async def _reload_changed(self, cert_file: Path, key_file: Path) -> bool:
        stamp = await asyncio.to_thread(_stamp, (cert_file, key_file))
        if stamp == self._stamp:
            return False
        self._stamp = stamp  # told once per change, whether it can be served or not
        try:
            pair = await asyncio.to_thread(_PemPair.read, cert_file, key_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.warning(
                "TLS: %s or %s changed but cannot be served (%s); the previous certificate "
                "stays until they change again",
                cert_file,
                key_file,
                exc,
            )
            return False
        with pair:  # the very bytes just checked, whatever the files hold by now
            self._context.load_cert_chain(pair.cert_path, pair.key_path)
        log.info("TLS: %s changed; served from now on (valid until %s)", cert_file, pair.until)
        return True


class _PemPair:
    """A certificate and key read once, checked as a pair, held in memory-only files.

    ``SSLContext.load_cert_chain`` takes paths only. Loading the shared context from the
    files after checking them would race a renewal writing them again, and a failed load can
    leave a context holding a certificate without its key. Loaded from these copies (Linux
    ``memfd``: never on disk), the check (off the event loop) and the load (on it, where the
    handshakes read the context) see the same bytes.
    """

    def __init__(self, cert: bytes, key: bytes) -> None:
        self.until = _valid_until(cert)
        self._fds = [os.memfd_create("tls-cert"), os.memfd_create("tls-key")]
        for fd, data in zip(self._fds, (cert, key), strict=True):
            os.write(fd, data)

    @classmethod
    def read(cls, cert_file: Path, key_file: Path) -> _PemPair:
        """The pair as the files hold it now; raises if it cannot be served."""
        pair = cls(cert_file.read_bytes(), key_file.read_bytes())
        try:
            server_context(Path(pair.cert_path), Path(pair.key_path))
        except BaseException:
            pair.close()
            raise
        return pair

    @property
    def cert_path(self) -> str:
        return f"/proc/self/fd/{self._fds[0]}"

    @property
    def key_path(self) -> str:
        return f"/proc/self/fd/{self._fds[1]}"

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self) -> _PemPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stamp(files: tuple[Path, ...]) -> _Stamp:
    """What changes when a file is written again: its modification time and size."""
    stamps = []
    for path in files:
        try:
            status = path.stat()
        except OSError:
            stamps.append((-1, -1))
        else:
            stamps.append((status.st_mtime_ns, status.st_size))
    return tuple(stamps)


def _valid_until(pem: bytes) -> str:
    """When a PEM certificate (chain: its first) ends; ValueError if it is not one."""
    certificate = x509.load_pem_x509_certificate(pem)
    return certificate.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
