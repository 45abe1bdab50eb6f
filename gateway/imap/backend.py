"""pymap's backend interfaces over the store: ``Config``, ``Login``, ``Identity``, ``Session``.

Logins are checked by ``gateway.logins`` (the penalty, cache and Argon2id threads shared
with SMTP and POP3), never by pymap's own password hashing. pymap runs on its asyncio subsystem,
so every store call is a plain ``await`` on the node's event loop and engine.

``Session`` overrides the four ``BaseSession`` commands that would otherwise touch the store
once per message (FETCH, STORE, COPY, MOVE): a ``UID STORE 1:* +FLAGS (\\Seen)`` on a
thousand messages is one transaction here, not a thousand.
"""

from __future__ import annotations

import secrets
from argparse import ArgumentParser, Namespace
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any, Final

from pymap.backend.session import BaseSession
from pymap.concurrent import Subsystem
from pymap.config import BackendCapability, IMAPConfig
from pymap.context import current_command, socket_info
from pymap.exceptions import (
    AuthorizationFailure,
    InvalidAuth,
    MailboxNotFound,
    MailboxReadOnly,
    NotAllowedError,
    ResponseError,
    TemporaryFailure,
)
from pymap.flags import FlagOp, PermanentFlags
from pymap.health import HealthStatus
from pymap.interfaces.backend import BackendInterface
from pymap.interfaces.login import IdentityInterface, LoginInterface
from pymap.interfaces.token import TokenCredentials
from pymap.mailbox import MailboxSnapshot
from pymap.parsing.command.select import FetchCommand
from pymap.parsing.commands import Commands
from pymap.parsing.response import ResponseCode, ResponseNo
from pymap.parsing.response.code import CopyUid
from pymap.parsing.specials import FetchRequirement, SequenceSet
from pymap.parsing.specials.flag import Flag, Seen
from pymap.parsing.specials.searchkey import SearchKey
from pymap.search import SearchCriteriaSet, SearchParams
from pymap.selected import SelectedMailbox
from pymap.token import AllTokens
from pymap.user import UserMetadata
from pysasl import SASLAuth
from pysasl.creds.server import ServerCredentials
from pysasl.hashing import BuiltinHash
from pysasl.identity import Identity as SaslIdentity

from config.clock import SystemClock
from gateway.allowance import SubmissionAllowance
from gateway.imap import extensions, fast_fetch
from gateway.imap.content import in_lane_read, made_in_lane
from gateway.imap.mailbox import (
    Backing,
    ContentBatch,
    MailboxData,
    MailboxSet,
    Message,
)
from gateway.imap.namespace import Namespace as FolderNamespace
from gateway.imap.namespace import department_label
from gateway.imap.registry import MailboxRegistry
from gateway.imap.selected import IncrementalMessages, IncrementalSelected, RecentFlags
from gateway.imap.wildcards import WILDCARDS_ON_LOOP, wildcards
from gateway.lane import in_lane, serve_as
from gateway.logins import LoginChecks, LoginRefused
from gateway.turns import Turns
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.errors import StoreError
from mailboxes.folders import INBOX, Folders
from mailboxes.passwords import PasswordHasher
from mailboxes.records import Account
from mailboxes.schema import Role
from mailboxes.store import Store

__all__ = ["Backend", "Config", "Identity", "Login", "Session"]

SOFTWARE: Final = b"Teledespacho"


class Config(IMAPConfig):
    """pymap's settings for our server: loopback defaults, no slow lookups at greeting."""

    def __init__(
        self,
        args: Namespace,
        *,
        greeting_name: str,
        share_departments: bool = False,
        idle_poll: float = 5.0,
        login_before_tls: bool = True,
        **extra: Any,
    ) -> None:
        extra.setdefault("admin_key", secrets.token_bytes())
        extra.setdefault("hash_context", BuiltinHash())  # never used: logins go to the store
        extra.setdefault("cpu_subsystem", Subsystem.for_asyncio())  # no idle thread pool
        extra.setdefault("subsystem", Subsystem.for_asyncio())
        extra.setdefault("reject_dnsbl", False)
        extra.setdefault("invalid_user_sleep", 0.0)  # the store equalises login costs itself
        super().__init__(args, **extra)
        self.greeting_name: Final = greeting_name
        self.share_departments: Final = share_departments
        self.idle_poll: Final = idle_poll
        self.login_before_tls: Final = login_before_tls
        # pymap builds these anew for every connection; pysasl's lookup reads the entry
        # points of every installed package (files opened per connection).
        self._tls_auth: Final = SASLAuth.defaults()
        self._commands: Final = extensions.register(Commands())

    @classmethod
    def build(
        cls, *, host: str, port: int, greeting_name: str, tls: bool = False, **overrides: Any
    ) -> Config:
        """A config without a command line (how the node embeds the server).

        ``tls=True`` (with ``ssl_context``) offers STARTTLS. ``login_before_tls`` (the
        default) offers LOGIN and AUTHENTICATE PLAIN in the clear too, as the SMTP and POP3
        servers do: 1997 clients on a dial-up line had no TLS. Without it, LOGIN waits for
        TLS and the capability says ``LOGINDISABLED`` (RFC 3501 §6.2.3).
        """
        args = Namespace(
            host=host,
            port=port,
            debug=False,
            cert=None,
            key=None,
            tls=tls,
            passlib_cfg=None,
            proxy_protocol=None,
            inherited_sockets=None,
        )
        return cls.from_args(args, greeting_name=greeting_name, **overrides)

    @property
    def tls_auth(self) -> SASLAuth:
        return self._tls_auth

    @property
    def commands(self) -> Commands:
        return self._commands

    @property
    def initial_capability(self) -> list[bytes]:
        return [
            *super().initial_capability,
            *extensions.CAPABILITIES,
            *extensions.PRE_LOGIN_CAPABILITIES,
        ]

    @property
    def login_capability(self) -> list[bytes]:
        return [*super().login_capability, *extensions.CAPABILITIES]

    @property
    def initial_auth(self) -> SASLAuth:
        """Before TLS: PLAIN and LOGIN, or none at all (``LOGINDISABLED``)."""
        return self.tls_auth if self.login_before_tls else SASLAuth([])

    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=True, object_id=False, multi_append=True)

    @property
    def greeting(self) -> bytes:
        return b"%b %b IMAP4rev1 ready." % (self.greeting_name.encode("ascii", "replace"), SOFTWARE)

    @property
    def id_response(self) -> dict[bytes, bytes]:
        return {b"name": SOFTWARE}


class _SecretCatcher(SaslIdentity):
    """Receives the cleartext password of PLAIN/LOGIN credentials, to hand to the store.

    pysasl verifies credentials against an identity synchronously; our check (Argon2id, off
    the event loop) is asynchronous, so the secret is taken here and checked afterwards.
    """

    __slots__ = ["_authcid", "secret"]

    def __init__(self, authcid: str) -> None:
        super().__init__()
        self._authcid = authcid
        self.secret: str | None = None

    @property
    def authcid(self) -> str:
        return self._authcid

    def compare_authcid(self, authcid: str) -> bool:
        return authcid == self._authcid

    def compare_secret(self, secret: str) -> bool:
        self.secret = secret
        return True

    def get_clear_secret(self) -> str | None:
        return None  # mechanisms that need the stored cleartext (CRAM-MD5) are not offered


def _cleartext_secret(credentials: ServerCredentials) -> str | None:
    catcher = _SecretCatcher(credentials.authcid)
    try:
        credentials.verify(catcher)
    except Exception:
        return None
    return catcher.secret


class LoginUnavailable(ResponseError):
    """A login that cannot be checked now: ``NO [UNAVAILABLE]`` (RFC 5530), Dovecot's answer
    to a temporary authentication failure (pymap's ``TemporaryFailure`` says ``[INUSE]``,
    which is not it). Too many failed logins lately, or the store unreachable."""

    def __init__(self, text: str = "Too many failed logins lately, try again later.") -> None:
        super().__init__(text)
        self.text = text

    def get_response(self, tag: bytes) -> ResponseNo:
        return ResponseNo(tag, self.text.encode(), ResponseCode.of(b"UNAVAILABLE"))


def _client() -> str | None:
    """The client's address, which pymap keeps in a context variable for the connection."""
    try:
        address = socket_info.get().peername_ip
    except LookupError:
        return None
    return None if address is None else str(address)


class Login(LoginInterface):
    def __init__(self, backing: Backing, config: Config, logins: LoginChecks) -> None:
        self.backing: Final = backing
        self.config: Final = config
        self.logins: Final = logins
        self._tokens = AllTokens(config)

    @property
    def store(self) -> Store:
        return self.backing.folders.store

    @property
    def tokens(self) -> AllTokens:
        return self._tokens

    async def authenticate(self, credentials: ServerCredentials) -> Identity:
        if isinstance(credentials, TokenCredentials):
            raise InvalidAuth()  # tokens are not issued by this server
        secret = _cleartext_secret(credentials)
        if secret is None:
            raise InvalidAuth()
        try:
            account = await self.logins.password(_client(), credentials.authcid, secret)
        except LoginRefused as exc:
            raise LoginUnavailable() from exc
        except StoreError as exc:
            self.backing.store_failed("IMAP login as %r: the store failed", credentials.authcid)
            raise LoginUnavailable("The mail store is unavailable, try again later.") from exc
        if account is None:
            raise InvalidAuth()
        return Identity(account, self)

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> Identity:
        if not isinstance(authenticated, Identity):
            raise AuthorizationFailure()
        try:
            wanted = normalize_address(authzid)
        except InvalidAddress as exc:
            raise AuthorizationFailure() from exc
        if wanted != authenticated.name:
            raise AuthorizationFailure()  # nobody may act as another account
        return authenticated

    async def namespace_for(self, account: Account) -> FolderNamespace:
        departments: dict[str, str] = {}
        if self.config.share_departments and account.role is Role.OFFICE:
            for other in await self.store.list_accounts(
                roles=(Role.DEPARTMENT,), office_code=account.office_code
            ):
                departments[department_label(other.address)] = other.address
        return FolderNamespace(account.address, departments)


class Identity(IdentityInterface):
    def __init__(self, account: Account, login: Login) -> None:
        self.account: Final = account
        self._login = login

    @property
    def name(self) -> str:
        return self.account.address

    @property
    def roles(self) -> frozenset[str]:
        return frozenset({self.account.role.value})

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[Session]:
        login = self._login
        serve_as(self.name)  # the connection's work in the lane takes the account's turns
        try:
            namespace = await login.namespace_for(self.account)
            await login.backing.folders.ensure(self.name, INBOX)  # INBOX always exists
        except StoreError as exc:
            login.backing.store_failed("IMAP session of %s: the store failed", self.name)
            raise TemporaryFailure("The mail store is unavailable, try again.") from exc
        yield Session(self.name, login.config, MailboxSet(login.backing, namespace))

    async def new_token(self, *, expiration: datetime | None = None) -> str | None:
        return None

    async def get(self) -> UserMetadata:
        return UserMetadata(self._login.config, self.name, roles=self.roles)

    async def set(self, metadata: UserMetadata) -> int | None:
        raise NotAllowedError("Accounts are managed with teledispatch account.")

    async def delete(self) -> None:
        raise NotAllowedError("Accounts are managed with teledispatch account.")


def _command_reads_content() -> bool:
    """Whether the FETCH being answered sends message bytes (pymap gives us only set_seen)."""
    command = current_command.get(None)
    if fast_fetch.is_fast(command):
        return command.parsed.reads_content  # worked out once for its attribute list
    if not isinstance(command, FetchCommand):
        return True
    needed = FetchRequirement.reduce(attribute.requirement for attribute in command.attributes)
    return not needed.has_none(FetchRequirement.CONTENT)


class Session(BaseSession[Message]):
    def __init__(self, owner: str, config: Config, mailbox_set: MailboxSet) -> None:
        super().__init__(owner)
        self._config = config
        self._mailbox_set = mailbox_set
        self._kept: tuple[str, MailboxData] | None = None
        """The selected folder, by the name it was selected with (``_selected_data``)."""

    @property
    def config(self) -> Config:
        return self._config

    @property
    def mailbox_set(self) -> MailboxSet:
        return self._mailbox_set

    async def _data(self, name: str, *, try_create: bool = False) -> MailboxData:
        try:
            return await self._mailbox_set.get_mailbox(name)
        except KeyError as exc:
            raise MailboxNotFound(name, try_create=try_create) from exc

    async def _selected_data(self, selected: SelectedMailbox) -> MailboxData:
        """The selected folder, looked up again only when the session's view no longer
        stands (``MailboxData.trusts``): a rename or delete in this process bumps the
        folder's version first. Each lookup cost a namespace walk, a registry lookup and a
        new ``MailboxData``, on every FETCH."""
        kept = self._kept
        if kept is not None and kept[0] == selected.lookup and kept[1].trusts(selected):
            return kept[1]
        mbx = await self._data(selected.lookup)
        self._kept = (selected.lookup, mbx)
        return mbx

    async def select_mailbox(
        self, name: str, readonly: bool = False
    ) -> tuple[MailboxSnapshot, SelectedMailbox]:
        """SELECT/EXAMINE: the view is built once here and kept up to date by modseq."""
        mbx = await self._data(name)
        selected = IncrementalSelected.open(
            mbx.mailbox_id,
            readonly or mbx.readonly,
            PermanentFlags(mbx.permanent_flags),
            RecentFlags(mbx.session_flags),
            mbx.selected_set,
            name,
        )
        snapshot = await mbx.load(selected, claim_recent=not selected.readonly)
        self._kept = (name, mbx)
        return snapshot, selected

    async def fetch_messages(
        self, selected: SelectedMailbox, sequence_set: SequenceSet, set_seen: bool
    ) -> tuple[Iterable[tuple[int, Message]], SelectedMailbox]:
        mbx = await self._selected_data(selected)
        view = selected.messages
        with_content = _command_reads_content()
        if not set_seen and isinstance(view, IncrementalMessages):
            # By UID: the view makes a message object only for one found gone.
            numbered = view.get_uids(sequence_set)
            uids = [uid for _, uid in numbered]
            current = await mbx.get_viewed(uids, view, with_content=with_content)
            seqs = [seq for seq, _ in numbered]
        else:
            listed = view.get_all(sequence_set)
            cached = [message for _, message in listed]
            if set_seen:
                current = await mbx.update_many(cached, frozenset({Seen}), FlagOp.ADD)
                if with_content:
                    ContentBatch(mbx, [m for m in current if not m.expunged])
            else:
                current = await mbx.get_many(cached, with_content=with_content)
            seqs = [seq for seq, _ in listed]
        pairs = list(zip(seqs, current, strict=True))
        if mbx.trusts(selected):  # what ``update_selected`` would find, without its call
            return pairs, selected
        return pairs, await mbx.update_selected(selected)

    async def list_mailboxes(
        self,
        ref_name: str,
        filter_: str,
        subscribed: bool = False,
        selected: SelectedMailbox | None = None,
    ) -> tuple[Iterable[tuple[str, str | None, Sequence[bytes]]], SelectedMailbox | None]:
        """pymap's LIST and LSUB, with a pattern of many wildcards matched in a worker
        thread: it may cost up to about a millisecond a folder (``gateway.imap.wildcards``),
        and an account may have ``MAX_FOLDERS``; the usual ``*``, ``%`` or ``INBOX/%``
        cost microseconds."""
        if not filter_:
            return await super().list_mailboxes(ref_name, filter_, subscribed, selected)
        mailboxes = self.mailbox_set
        tree = await (mailboxes.list_subscribed() if subscribed else mailboxes.list_mailboxes())
        delimiter = mailboxes.delimiter

        def matching() -> list[tuple[str, str | None, Sequence[bytes]]]:
            return [
                (entry.name, delimiter, entry.attributes)
                for entry in tree.list_matching(ref_name, filter_)
            ]

        on_loop = wildcards(ref_name + filter_) <= WILDCARDS_ON_LOOP
        found = matching() if on_loop else await in_lane(matching)
        return found, await self._load_updates(selected, None)

    async def search_mailbox(
        self, selected: SelectedMailbox, keys: frozenset[SearchKey]
    ) -> tuple[Iterable[tuple[int, Message]], SelectedMailbox]:
        """pymap's SEARCH, with a message too costly to parse on the loop also matched in the
        lane (a text key over a message of 19 MB, its parts decoded and
        case-folded, its header fields parsed, held every other client 0.2-0.4 s), taking
        turns on the loop between messages (``gateway.turns``): each key is tried on each
        message, and 5 000 keys, within a command's bound, held it 0.6 s a slice of 500."""
        mbx = await self._selected_data(selected)
        requirement = FetchRequirement.reduce(key.requirement for key in keys)
        params = SearchParams(selected, disabled=self.config.disable_search_keys)
        search = SearchCriteriaSet(keys, params)
        found: list[tuple[int, Message]] = []
        turns = Turns()
        async for seq, message in mbx.find(search.sequence_set, selected):
            loaded = await message.load_content(requirement)
            if made_in_lane(loaded):
                matched = await in_lane_read(loaded, partial(search.matches, seq, message))
            else:
                matched = search.matches(seq, message, loaded)
            if matched:
                found.append((seq, message))
            await turns.step()  # the other clients' turn, now and then
        return found, await mbx.update_selected(selected)

    async def update_flags(
        self,
        selected: SelectedMailbox,
        sequence_set: SequenceSet,
        flag_set: frozenset[Flag],
        mode: FlagOp = FlagOp.REPLACE,
    ) -> tuple[Iterable[tuple[int, Message]], SelectedMailbox]:
        if selected.readonly:
            raise MailboxReadOnly()
        mbx = await self._data(selected.lookup)
        listed = selected.messages.get_all(sequence_set)
        permanent = selected.permanent_flags & flag_set
        current = await mbx.update_many([m for _, m in listed], permanent, mode)
        pairs: list[tuple[int, Message]] = []
        for (seq, _), message in zip(listed, current, strict=True):
            if not message.expunged:
                selected.session_flags.update(message.uid, flag_set, mode)
            pairs.append((seq, message))
        return pairs, await mbx.update_selected(selected)

    async def copy_messages(
        self, selected: SelectedMailbox, sequence_set: SequenceSet, mailbox: str
    ) -> tuple[CopyUid | None, SelectedMailbox]:
        return await self._transfer(selected, sequence_set, mailbox, move=False)

    async def move_messages(
        self, selected: SelectedMailbox, sequence_set: SequenceSet, mailbox: str
    ) -> tuple[CopyUid | None, SelectedMailbox]:
        return await self._transfer(selected, sequence_set, mailbox, move=True)

    async def _transfer(
        self, selected: SelectedMailbox, sequence_set: SequenceSet, mailbox: str, *, move: bool
    ) -> tuple[CopyUid | None, SelectedMailbox]:
        source = await self._data(selected.lookup)
        destination = await self._data(mailbox, try_create=True)
        uids = [uid for _, uid in selected.messages.get_uids(sequence_set)]
        if move:
            pairs = await source.move_many(uids, destination)
        else:
            pairs = await source.copy_many(uids, destination)
        dest_selected = self._pick_selected(selected, destination)
        if dest_selected is not None:
            for _, new_uid in pairs:
                dest_selected.session_flags.add_recent(new_uid)
        copy_uid = CopyUid(destination.uid_validity, pairs) if pairs else None
        return copy_uid, await source.update_selected(selected)


class Backend(BackendInterface):
    """The backend as pymap's plugin interface sees it (``Backend.for_store`` embeds it)."""

    def __init__(self, login: Login, config: Config, *, owns_store: bool = False) -> None:
        self._login = login
        self._config = config
        self._status = HealthStatus()
        self._owns_store = owns_store

    @classmethod
    def for_store(
        cls,
        store: Store,
        config: Config,
        *,
        owns_store: bool = False,
        logins: LoginChecks | None = None,
        allowance: SubmissionAllowance | None = None,
    ) -> Backend:
        registry = MailboxRegistry()
        backing = Backing(
            Folders(store), registry, store.clock, idle_poll=config.idle_poll, allowance=allowance
        )
        logins = logins or LoginChecks(store, hasher=store.hasher)
        return cls(Login(backing, config, logins), config, owns_store=owns_store)

    @property
    def login(self) -> Login:
        return self._login

    @property
    def config(self) -> Config:
        return self._config

    @property
    def status(self) -> HealthStatus:
        return self._status

    @property
    def registry(self) -> MailboxRegistry:
        return self._login.backing.registry

    @property
    def store(self) -> Store:
        return self._login.store

    @classmethod
    def add_subparser(cls, name: str, subparsers: Any) -> ArgumentParser:
        parser: ArgumentParser = subparsers.add_parser(name, help="Teledespacho store backend")
        parser.add_argument("--database-url", required=True, help="SQLAlchemy async URL")
        parser.add_argument("--greeting-name", default="teledespacho")
        return parser

    @classmethod
    async def init(cls, args: Namespace, **overrides: Any) -> tuple[Backend, Config]:
        """For pymap's own command line; the node uses ``for_store`` on its open store."""
        config = Config.from_args(args, greeting_name=args.greeting_name, **overrides)
        store = await Store.open(args.database_url, clock=SystemClock(), hasher=PasswordHasher())
        return cls.for_store(store, config, owns_store=True), config

    async def start(self, stack: AsyncExitStack) -> None:
        """Listen to the store's commits until ``stack`` closes (then close an owned store)."""
        if self._owns_store:
            stack.push_async_callback(self.store.close)
        unsubscribe = self.store.subscribe(self.registry.on_change)
        stack.callback(unsubscribe)
