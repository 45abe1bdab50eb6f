"""``teledispatch account token ADDRESS``: a bearer token for the HTTP API."""

from __future__ import annotations

import argparse
import asyncio

from config.clock import SystemClock
from config.settings import ConfigError, Settings
from gateway.cli._common import add_node_flags, fail, settings_from
from gateway.http.tokens import issue_token
from gateway.node import hasher_for
from mailboxes.addresses import InvalidAddress
from mailboxes.store import Store

__all__ = ["register_token"]


def register_token(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = actions.add_parser(
        "token", help="print a bearer token for the HTTP API (needs http_token_secret)"
    )
    token.add_argument("address")
    token.add_argument("--days", type=int, default=30, help="valid for this many days (30)")
    add_node_flags(token)
    token.set_defaults(handler=run_token)


def run_token(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 3660:
        return fail("--days must be between 1 and 3660", 2)

    async def known(settings: Settings) -> bool:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = await Store.open(
            settings.effective_database_url, clock=SystemClock(), hasher=hasher_for(settings)
        )
        try:
            return await store.get_account(args.address) is not None
        finally:
            await store.close()

    try:
        settings = settings_from(args)
        if settings.http_token_secret is None:
            return fail("set http_token_secret (config or TELEDISPATCH_HTTP_TOKEN_SECRET)", 2)
        if not asyncio.run(known(settings)):
            return fail(f"no account {args.address}")
    except ConfigError as exc:
        return fail(str(exc), 2)
    except InvalidAddress as exc:
        return fail(str(exc))
    secret = settings.http_token_secret.get_secret_value()
    print(issue_token(secret, args.address.strip().lower(), seconds=args.days * 86400))
    return 0
