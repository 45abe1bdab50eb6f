"""``teledispatch account add|list|password``: manage the accounts of a node's store."""

from __future__ import annotations

import argparse
import asyncio

from config.clock import SystemClock
from config.settings import ConfigError, Settings
from gateway.cli._common import add_node_flags, fail, settings_from
from gateway.node import hasher_for
from mailboxes.addresses import InvalidAddress
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
