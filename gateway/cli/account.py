"""``teledispatch account add|list|password|requests|approve|reject|token``: manage the
accounts of a node's store, and decide the mailbox requests agents mailed to its
registration address."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

from config.clock import SystemClock
from config.offices import load_offices
from config.settings import ConfigError, Settings
from gateway.cli._common import add_node_flags, fail, settings_from
from gateway.cli.account_token import register_token
from gateway.node import hasher_for
from gateway.registration.decisions import DecisionRefused, RegistrationOffice
from gateway.routing.router import RoutingSnapshot
from mailboxes.addresses import InvalidAddress
from mailboxes.registrations import MailboxRequest
from mailboxes.schema import Role
from mailboxes.store import AccountExists, Store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("account", help="manage accounts")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register an account")
    add.add_argument("address")
    add.add_argument("--password", required=True)
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--agent-code", help="the customs agent's code (agents)")
    add.add_argument("--office", help="customs office code (offices and departments)")
    add.add_argument("--apop-secret", help="enable POP3 APOP with this shared secret")
    add_node_flags(add)
    add.set_defaults(handler=run_add)

    password = actions.add_parser(
        "password", help="change an account's password (a running node sees it at once)"
    )
    password.add_argument("address")
    password.add_argument("--password", required=True, help="the new password")
    add_node_flags(password)
    password.set_defaults(handler=run_password)

    listing = actions.add_parser("list", help="list accounts")
    add_node_flags(listing)
    listing.set_defaults(handler=run_list)

    requests = actions.add_parser("requests", help="list the mailbox requests received by mail")
    requests.add_argument("--pending", action="store_true", help="only those not decided yet")
    add_node_flags(requests)
    requests.set_defaults(handler=run_requests)

    approve = actions.add_parser(
        "approve", help="approve a mailbox request: create the agent's account, mail its password"
    )
    approve.add_argument("number", type=int, help="the request number")
    approve.add_argument("--by", help="who decides (default: the login name)")
    approve.add_argument(
        "--print-password",
        action="store_true",
        help="print only the one-time password (for scripts)",
    )
    add_node_flags(approve)
    approve.set_defaults(handler=run_approve)

    reject = actions.add_parser("reject", help="reject a mailbox request, mailing the reason")
    reject.add_argument("number", type=int, help="the request number")
    reject.add_argument("--reason", required=True, help="why, as the requester will read it")
    reject.add_argument("--by", help="who decides (default: the login name)")
    add_node_flags(reject)
    reject.set_defaults(handler=run_reject)

    register_token(actions)


async def _open(settings: Settings) -> Store:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return await Store.open(
        settings.effective_database_url, clock=SystemClock(), hasher=hasher_for(settings)
    )


def run_add(args: argparse.Namespace) -> int:
    role = Role(args.role)
    if role is Role.AGENT and not args.agent_code:
        return fail("an agent account needs --agent-code", 2)
    if role is not Role.AGENT and not args.office:
        return fail(f"a {role.value} account needs --office", 2)

    async def add(settings: Settings) -> str:
        store = await _open(settings)
        try:
            account = await store.create_account(
                args.address,
                args.password,
                role=role,
                agent_code=args.agent_code,
                office_code=args.office,
                apop_secret=args.apop_secret,
            )
        finally:
            await store.close()
        return account.address

    try:
        address = asyncio.run(add(settings_from(args)))
    except ConfigError as exc:
        return fail(str(exc), 2)
    except (AccountExists, InvalidAddress) as exc:
        return fail(str(exc))
    print(f"account {address} added ({role.value})")
    return 0


def run_password(args: argparse.Namespace) -> int:
    async def change(settings: Settings) -> bool:
        store = await _open(settings)
        try:
            return await store.set_password(args.address, args.password)
        finally:
            await store.close()

    try:
        changed = asyncio.run(change(settings_from(args)))
    except ConfigError as exc:
        return fail(str(exc), 2)
    except InvalidAddress as exc:
        return fail(str(exc))
    if not changed:
        return fail(f"no account {args.address}")
    print(f"password of {args.address} changed")
    return 0


def run_list(args: argparse.Namespace) -> int:
    async def listing(settings: Settings) -> None:
        store = await _open(settings)
        try:
            for account in await store.list_accounts():
                detail = account.agent_code or account.office_code or ""
                print(f"{account.address}\t{account.role.value}\t{detail}")
        finally:
            await store.close()

    try:
        asyncio.run(listing(settings_from(args)))
    except ConfigError as exc:
        return fail(str(exc), 2)
    return 0


_T = TypeVar("_T")


def _with_desk(args: argparse.Namespace, work: Callable[[RegistrationOffice], Awaitable[_T]]) -> _T:
    """Run ``work`` on the node's store, with the registry and routes of its settings."""

    async def run(settings: Settings) -> _T:
        registry = load_offices(settings.offices_file)
        routes = RoutingSnapshot.of(
            node_name=settings.node_name,
            domain=settings.domain,
            offices=registry,
            topology=settings.topology,
            host_all_offices=settings.host_all_offices,
        )
        store = await _open(settings)
        try:
            office = RegistrationOffice(
                store,
                registration_address=settings.registration_address,
                domain=settings.domain,
                registry=registry,
                clock=SystemClock(),
                hosted_elsewhere=routes.remote_node,
                server=f"{settings.greeting_name} (SMTP {settings.smtp_port}, "
                f"POP3 {settings.pop3_port}, IMAP {settings.imap_port})",
            )
            return await work(office)
        finally:
            await store.close()

    return asyncio.run(run(settings_from(args)))


def _describe(request: MailboxRequest) -> str:
    lines = [
        f"request {request.number}  {request.state.value}  received "
        f"{request.received_at:%Y-%m-%d %H:%M} UTC from {request.requester} ({request.client})",
        f"  mailbox {request.mailbox}  agent {request.agent_code}  RUC {request.ruc}  "
        f"offices {' '.join(request.offices)}",
        f"  agency {request.agency}; contact {request.contact}",
    ]
    if request.decided_at is not None:
        decided = f"  {request.state.value} by {request.decided_by} on "
        decided += f"{request.decided_at:%Y-%m-%d %H:%M} UTC"
        if request.reason:
            decided += f": {request.reason}"
        lines.append(decided)
    return "\n".join(lines)


def _decider(args: argparse.Namespace) -> str:
    return str(args.by or getpass.getuser())


def run_requests(args: argparse.Namespace) -> int:
    async def listing(office: RegistrationOffice) -> list[MailboxRequest]:
        return await office.requests.listing(pending_only=args.pending)

    try:
        found = _with_desk(args, listing)
    except ConfigError as exc:
        return fail(str(exc), 2)
    for request in found:
        print(_describe(request))
    if not found:
        print("no pending requests" if args.pending else "no requests")
    return 0


def run_approve(args: argparse.Namespace) -> int:
    try:
        approved = _with_desk(args, lambda office: office.approve(args.number, by=_decider(args)))
    except ConfigError as exc:
        return fail(str(exc), 2)
    except DecisionRefused as exc:
        return fail(f"request {args.number} not approved: " + "; ".join(exc.problems))
    if args.print_password:
        print(approved.password)
        return 0
    request = approved.request
    print(
        f"request {request.number} approved: account {request.mailbox} (agent "
        f"{request.agent_code}, offices {' '.join(request.offices)}); the letter with its "
        f"one-time password was {approved.letter_to}"
    )
    if not approved.reachable:  # only the password opens the letter: say it once, here
        print(f"hand the one-time password to the agent in person: {approved.password}")
    return 0


def run_reject(args: argparse.Namespace) -> int:
    try:
        rejected = _with_desk(
            args, lambda office: office.reject(args.number, reason=args.reason, by=_decider(args))
        )
    except ConfigError as exc:
        return fail(str(exc), 2)
    except DecisionRefused as exc:
        return fail(f"request {args.number} not rejected: " + "; ".join(exc.problems))
    print(f"request {rejected.request.number} rejected; the reason was {rejected.letter_to}")
    return 0
