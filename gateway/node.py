"""A node: the store, the network servers and the pipeline, started and stopped together."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from config.clock import Clock, EmulatedClock, SystemClock
from config.offices import Office, OfficeRegistry, load_offices
from config.reference import ReferenceData, shipped_reference
from config.settings import Settings
from gateway.allowance import SubmissionAllowance
from gateway.chaos import Chaos
from gateway.demo import ensure_demo_accounts
from gateway.directory import LocalDirectory
from gateway.http import HttpContext, HttpListenError, HttpServer
from gateway.http.connections import HttpConnectionRules
from gateway.imap import ImapServer
from gateway.imap.connection import Bounds
from gateway.imap.filing import OfficeFiling
from gateway.limits import ConnectionLimits, fd_bounded_cap, quiet_accept_errors
from gateway.logins import LoginChecks
from gateway.pickup import PickupWorker
from gateway.pickup.evidence import DnsLookup
from gateway.pipeline.process import AnalysisBudget
from gateway.pipeline.worker import PipelineWorker, default_processes
from gateway.pop3.server import Pop3Server
from gateway.registration.desk import RegistrationDesk
from gateway.routing import RelayWorker, Router
from gateway.routing.moves import OfficeMoves
from gateway.routing.router import RoutingSnapshot
from gateway.smtp import SmtpServer
from gateway.smtp.chaotic import ChaoticHandler
from gateway.tls import NodeTls, TlsSetupError, node_tls
from gateway.tls.renewal import CertificateRenewal
from mailboxes.database import store_location
from mailboxes.errors import StoreError, failure_reason
from mailboxes.passwords import PasswordHasher
from mailboxes.store import Store

__all__ = ["Node", "NodeStartError", "clock_for", "run_until_signalled"]

log = logging.getLogger(__name__)

_FULL_PASS_EVERY: Final = 100
"""Passes of the collector's middle generation between two full passes (Python's default: 10)."""


class NodeStartError(Exception):
    """The node cannot start (busy port, unreachable database); the message is one line."""


def clock_for(settings: Settings) -> Clock:
    if settings.emulated_date is not None:
        return EmulatedClock(settings.emulated_date)
    return SystemClock()


def hasher_for(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


@dataclass
class Node:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    hasher: PasswordHasher | None = None
    offices: OfficeRegistry = field(default_factory=load_offices)
    reference: ReferenceData = field(default_factory=shipped_reference)
    dkim_dns: DnsLookup | None = None
    """How pickup looks up DKIM keys (None: the DNS)."""
    filing: OfficeFiling = field(init=False)
    store: Store | None = field(default=None, init=False)
    servers: dict[str, asyncio.Server] = field(default_factory=dict, init=False)
    worker: PipelineWorker | None = field(default=None, init=False)
    relay: RelayWorker | None = field(default=None, init=False)
    router: Router | None = field(default=None, init=False)
    moves: OfficeMoves | None = field(default=None, init=False)
    pickup: PickupWorker | None = field(default=None, init=False)
    limits: ConnectionLimits | None = field(default=None, init=False)
    allowance: SubmissionAllowance | None = field(default=None, init=False)
    """The bytes each agent may submit in a day, over SMTP, the API and IMAP APPEND."""
    _smtp: SmtpServer | None = field(default=None, init=False)
    _restore_loop_errors: Callable[[], None] | None = field(default=None, init=False)
    logins: LoginChecks | None = field(default=None, init=False)
    _pop3: Pop3Server | None = field(default=None, init=False)
    _imap: ImapServer | None = field(default=None, init=False)
    tls: NodeTls | None = field(default=None, init=False)
    renewal: CertificateRenewal | None = field(default=None, init=False)
    chaos: Chaos = field(default_factory=Chaos, init=False)
    http: HttpServer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # Checked when the node is built, so a bad table is a configuration error.
        self.filing = OfficeFiling.from_table(self.settings.office_folders)

    @property
    def hosted_offices(self) -> list[Office]:
        if self.settings.host_all_offices:
            return list(self.offices.values())
        return self.offices.hosted_by(self.settings.node_name)

    def port(self, service: str) -> int:
        """The port a service actually listens on (useful when configured as 0)."""
        if service == "http" and self.http is not None:
            return self.http.port
        if service == "https" and self.http is not None and self.http.https_port is not None:
            return self.http.https_port
        sockets = self.servers[service].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def console_url(self) -> str:
        assert self.http is not None
        host = self.settings.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.http.port}/"

    @property
    def console_tls_url(self) -> str | None:
        """The console over HTTPS, when ``https_port`` is set."""
        if self.http is None or self.http.https_port is None:
            return None
        host = self.settings.host
        return f"https://{f'[{host}]' if ':' in host else host}:{self.http.https_port}/"

    async def start(self, *, demo: bool = False) -> None:
        settings = self.settings
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.router = router = Router(
            RoutingSnapshot.of(
                node_name=settings.node_name,
                domain=settings.domain,
                offices=self.offices,
                topology=settings.topology,
                host_all_offices=settings.host_all_offices,
            )
        )
        try:
            self.tls = tls = node_tls(settings)
        except TlsSetupError as exc:
            raise NodeStartError(str(exc)) from exc
        if tls.ca is not None:
            log.info(
                "TLS: certificate from the node's own CA; clients trust %s (SHA-256 %s)%s",
                tls.ca.ca_file.resolve(),
                tls.ca.fingerprint,
                " (created now)" if tls.created else "",
            )
        try:
            store = await Store.open(
                settings.effective_database_url,
                clock=self.clock,
                hasher=self.hasher or hasher_for(settings),
                routing=router,  # replies to agents of other nodes; held offices' jobs
                reserve=settings.min_free_space_mib * 1024 * 1024,
            )
            await store.database.open_connections()  # before clients can take descriptors
        except StoreError as exc:  # unreachable, unreadable (not a database), refused login
            where = store_location(settings.effective_database_url)
            raise NodeStartError(f"cannot open the store {where}: {failure_reason(exc)}") from exc
        self.store = store
        if demo:
            created = await ensure_demo_accounts(store, self.hosted_offices, settings.domain)
            if created:
                log.info("demo accounts created: %s", ", ".join(created))
        directory = LocalDirectory(store, router, postmaster=settings.postmaster)
        self.moves = moves = OfficeMoves(
            store,
            router=router,
            clock=self.clock,
            registry_file=settings.offices_file,
        )
        self.logins = logins = LoginChecks(
            store,
            hasher=store.hasher,
            limits=settings.logins,
            peer_secrets={
                name: peer.secret.get_secret_value()
                for name, peer in settings.topology.peers.items()
            },
        )
        desk = None
        if settings.registration.open:
            desk = RegistrationDesk(
                store,
                address=settings.registration_address,
                domain=settings.domain,
                offices=lambda: router.current.offices,  # replaced whole by an office move
                settings=settings.registration,
                clock=self.clock,
            )
        self.allowance = allowance = SubmissionAllowance(
            settings.submission_mib_per_day * 1024 * 1024
        )
        max_connections = fd_bounded_cap(settings.max_connections)
        if max_connections < settings.max_connections:
            log.info("at most %d connections: the descriptor limit is lower", max_connections)
        self.limits = limits = ConnectionLimits(
            max_connections, settings.max_connections_per_address
        )
        self._restore_loop_errors = quiet_accept_errors(asyncio.get_running_loop())
        try:
            await moves.start()  # hold moved offices before the pipeline starts
            # The analysis processes first: their pipes take descriptors, which a flood of
            # clients arriving the moment the listeners open would otherwise hold.
            self.worker = PipelineWorker(
                store,
                offices=self.offices,
                clock=self.clock,
                domain=settings.domain,
                channel_seed=settings.channel_seed.encode(),
                reference=self.reference,
                filing=self.filing,
                processes=settings.pipeline_workers or default_processes(),
                budget=AnalysisBudget(
                    max_bytes=settings.max_message_size + 1024 * 1024,  # and trace fields
                    max_parts=settings.analysis_max_parts,
                    max_depth=settings.analysis_max_depth,
                    seconds=settings.analysis_seconds,
                    memory=settings.analysis_memory_mib * 1024 * 1024,
                ),
                before_pass=self.chaos.answer_pause,
            )
            await self.worker.start()
            self._smtp = smtp = SmtpServer(
                ChaoticHandler(
                    self.chaos, store, directory, logins, moves, desk, allowance=allowance
                ),
                hostname=settings.greeting_name,
                max_message_size=settings.max_message_size,
                idle_timeout=settings.smtp_idle_timeout,
                login_timeout=settings.login_timeout,
                limits=limits,
                tls_context=tls.context,
                auth_requires_tls=settings.auth_requires_tls,
            )
            for service, port, implicit in (
                ("smtp", settings.smtp_port, False),
                ("smtps", settings.smtps_port, True),
            ):
                if port is not None:
                    await self._listen(
                        service,
                        port,
                        functools.partial(
                            smtp.start, host=settings.host, port=port, implicit_tls=implicit
                        ),
                    )
            self._pop3 = pop3 = Pop3Server(
                store,
                greeting_name=settings.greeting_name,
                idle_timeout=settings.pop3_idle_timeout,
                login_timeout=settings.login_timeout,
                limits=limits,
                tls_context=tls.context,
                auth_requires_tls=settings.auth_requires_tls,
                apop=settings.pop3_apop,
                logins=logins,
            )
            await self._listen(
                "pop3",
                settings.pop3_port,
                lambda: pop3.start(host=settings.host, port=settings.pop3_port),
            )
            pop3s_port = settings.pop3s_port
            if pop3s_port is not None:
                await self._listen(
                    "pop3s",
                    pop3s_port,
                    lambda: pop3.start_implicit_tls(host=settings.host, port=pop3s_port),
                )
            self._imap = imap = ImapServer(
                store,
                greeting_name=settings.greeting_name,
                max_message_size=settings.max_message_size,
                share_departments=settings.imap_share_departments,
                bounds=Bounds(
                    login_timeout=settings.login_timeout,
                    idle_timeout=settings.imap_idle_timeout,
                ),
                limits=limits,
                tls_context=tls.context,
                auth_requires_tls=settings.auth_requires_tls,
                logins=logins,
                allowance=allowance,
            )
            await self._listen(
                "imap",
                settings.imap_port,
                lambda: imap.start(host=settings.host, port=settings.imap_port),
            )
            imaps_port = settings.imaps_port
            if imaps_port is not None:
                await self._listen(
                    "imaps",
                    imaps_port,
                    lambda: imap.start_implicit_tls(host=settings.host, port=imaps_port),
                )
            self.relay = RelayWorker(
                store, router=router, clock=self.clock, reporting_host=settings.greeting_name
            )
            await self.relay.start()
            self.pickup = PickupWorker(
                store,
                sources=settings.topology.pickup,
                directory=directory,
                clock=self.clock,
                max_message=settings.max_message_size,
                dkim_dns=self.dkim_dns,
            )
            await self.pickup.start()
            await self._start_http(store, directory, limits)
            self.renewal = CertificateRenewal(settings, tls.context)  # a node runs for months
            self.renewal.start()
        except BaseException:
            await self.stop()
            raise

    async def _start_http(
        self, store: Store, directory: LocalDirectory, limits: ConnectionLimits
    ) -> None:
        s = self.settings
        context = HttpContext.build(
            store, directory, self.clock, s.domain, admins=s.http_admins,
            test_rig=s.http_test_rig, chaos=self.chaos, max_body=s.max_message_size,
            peers=s.topology.peers,
            token_secret=s.http_token_secret.get_secret_value() if s.http_token_secret else None,
            logins=self.logins, modem_control=s.chaos_modem_control, hostname=s.greeting_name,
            auth_requires_tls=s.auth_requires_tls,
            identify=self.worker.pool.identify if self.worker is not None else None,
            allowance=self.allowance,
        )  # fmt: skip
        rules = HttpConnectionRules(limits, request_timeout=s.http_request_timeout)
        self.http = http = HttpServer(
            context, host=s.host, port=s.http_port, rules=rules, https_port=s.https_port,
            tls_context=self.tls.context if self.tls is not None else None,
        )  # fmt: skip
        try:
            await http.start()
        except HttpListenError as exc:
            raise NodeStartError(str(exc)) from exc
        log.info("HTTP listening on %s:%d", s.host, http.port)
        if http.https_port is not None:
            log.info("HTTPS listening on %s:%d", s.host, http.https_port)

    async def _listen(
        self, service: str, port: int, start: Callable[[], Awaitable[asyncio.Server]]
    ) -> None:
        try:
            server = await start()
        except OSError as exc:
            raise NodeStartError(
                f"cannot listen for {service.upper()} on {self.settings.host}:{port}: "
                f"{exc.strerror or exc}"
            ) from exc
        self.servers[service] = server
        log.info("%s listening on %s:%d", service.upper(), self.settings.host, self.port(service))

    async def stop(self) -> None:
        """Stop accepting, let the pipeline finish its batch, then close the store."""
        for server in self.servers.values():
            server.close()  # every mail listener first: nothing new while HTTP winds down
        if self.http is not None:
            await self.http.stop()
            self.http = None
        for server in self.servers.values():
            await server.wait_closed()
        self.servers.clear()
        if self._smtp is not None:  # 421 to each session (after the DATA it may be in)
            await self._smtp.aclose()
            self._smtp = None
        if self._pop3 is not None:  # Server.close() leaves live sessions running (3.11)
            await self._pop3.aclose()
            self._pop3 = None
        if self._imap is not None:  # IDLE sessions get BYE before the store closes
            await self._imap.aclose()
            self._imap = None
        if self.pickup is not None:
            await self.pickup.stop()
            self.pickup = None
        if self.moves is not None:
            await self.moves.stop()
            self.moves = None
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self.logins is not None:
            self.logins.close()
            self.logins = None
        if self.renewal is not None:
            await self.renewal.stop()
            self.renewal = None
        if self.store is not None:
            await self.store.close()
            self.store = None
        if self._restore_loop_errors is not None:
            self._restore_loop_errors()
            self._restore_loop_errors = None


async def run_until_signalled(node: Node, *, demo: bool) -> None:
    """Run ``node`` until SIGTERM or SIGINT, then shut it down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await node.start(demo=demo)
    # What start-up built (modules, tables, compiled statements) lives as long as the node.
    # Frozen, it is left out of the collector's full passes, each of which otherwise walked
    # it all: under load such a pass held the event loop 66 ms (3-4 ms with it frozen).
    gc.collect()
    gc.freeze()
    # With so little left outside the frozen heap, a full pass came every tenth pass of the
    # middle generation, walking whatever was alive then: four IMAP clients fetching mails
    # of 999 parts (each parse, live for a while, some 36 000 objects) caused about a
    # hundred such passes in 20 s, of 70-100 ms each with the interpreter lock held. One
    # in a hundred: the other clients' commands waited 28-29 ms at the 99th percentile
    # instead of 59-60, and the fetches took 17.4-17.8 s instead of 20.2-20.4.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _FULL_PASS_EVERY)
    if demo and node.http is not None:
        print(f"Consola: {node.console_url}  (aduana-118@aduanas.gob.pe, clave demo)", flush=True)
        if node.console_tls_url is not None:
            print(f"Consola (HTTPS): {node.console_tls_url}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await node.stop()
