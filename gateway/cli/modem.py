"""``teledispatch modem``: the dial-up link simulator as a TCP proxy."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from dialup_sim.control import ControlServer
from dialup_sim.line import MnpLevel
from dialup_sim.noise import NoiseSettings
from dialup_sim.phonebook import (
    Address,
    Phonebook,
    PhonebookError,
    normalize_number,
    parse_address,
)
from dialup_sim.proxy import ModemProxy, ProxySettings
from dialup_sim.result_codes import LINE_RATES
from dialup_sim.stats import CallReport
from dialup_sim.timing import CallTiming
from dialup_sim.vendors import DEFAULT_PROFILE, PROFILES, vendor_profile

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "modem",
        help="dial-up link simulator: a Hayes MNP modem and a slow line, as a TCP proxy",
        description=(
            "Put a 1997 dial-up line between mail clients and a server. --direct: a client "
            "that connects is already dialled (for mail clients). --hayes: the client talks "
            "AT commands first and dials a number (ATDT0800). Times are simulated; "
            "--time-scale runs them faster."
        ),
    )
    parser.add_argument("--listen", default="127.0.0.1:6400", help="HOST:PORT (127.0.0.1:6400)")
    parser.add_argument("--target", required=True, help="HOST:PORT of the server")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--direct", action="store_true", help="transparent line (default)")
    mode.add_argument("--hayes", action="store_true", help="AT command modem, dial first")
    parser.add_argument("--bps", type=int, default=9600, choices=LINE_RATES, help="line rate")
    parser.add_argument(
        "--profile",
        default=DEFAULT_PROFILE.name,
        choices=list(PROFILES),
        help="which modem --hayes emulates: result codes, commands, ATI (hayes)",
    )
    parser.add_argument(
        "--dte-bps",
        type=int,
        choices=LINE_RATES,
        help="DTE port rate that CONNECT reports under W0 (default: the line rate)",
    )
    parser.add_argument(
        "--mnp",
        choices=[level.value for level in MnpLevel],
        help="error control: the link's (--direct, default none) or what the answering "
        "modem supports (--hayes, default 5; the caller's \\N and %%C decide)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="one-way delay")
    parser.add_argument("--ber", type=float, default=0.0, help="bit-error rate, e.g. 1e-5")
    parser.add_argument("--lines", type=int, default=8, help="lines in the pool (8)")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument("--phonebook", type=Path, help="file of 'NUMBER HOST:PORT' lines")
    parser.add_argument(
        "--number",
        action="append",
        default=[],
        metavar="NUMBER=HOST:PORT",
        help="a phonebook entry (repeatable)",
    )
    parser.add_argument(
        "--access-number", default="0800", help="number that reaches --target (0800)"
    )
    parser.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="NUMBER=HOST:PORT",
        help="a number answered by modems: each program that connects to HOST:PORT is one "
        "node-side modem on NUMBER's line, gets RING and answers with ATA or S0 (repeatable)",
    )
    parser.add_argument("--drop-after", type=float, help="carrier lost after S simulated s")
    parser.add_argument(
        "--drop-per-minute", type=float, default=0.0, help="chance of losing carrier per minute"
    )
    parser.add_argument("--seed", type=int, help="seed for noise and carrier loss")
    parser.add_argument(
        "--pty", action="store_true", help="also serve a modem on a pseudo-terminal (prints it)"
    )
    parser.add_argument(
        "--answer-pty",
        action="append",
        default=[],
        metavar="NUMBER",
        help="also serve an answering modem on NUMBER on a pseudo-terminal (prints it)",
    )
    parser.add_argument(
        "--rfc2217",
        action="store_true",
        help="TCP clients speak RFC 2217 (rfc2217:// ports): DCD and RI reported, DTR obeyed",
    )
    parser.add_argument(
        "--control",
        metavar="HOST:PORT",
        help="listen for the test rig's carrier-drop switch here (DROP-AFTER N|OFF, STATUS); "
        "a node's chaos_modem_control names it",
    )
    parser.add_argument(
        "--ring-cadence",
        default="2/4",
        metavar="ON/OFF",
        help="incoming calls: seconds of ring and of silence, as the exchange sends them (2/4)",
    )
    parser.add_argument(
        "--tick-ms", type=float, default=10.0, help="real ms between services of a busy call"
    )
    parser.set_defaults(handler=run)


def settings_from(args: argparse.Namespace) -> ProxySettings:
    """Turn the parsed flags into proxy settings (``ValueError`` for bad values)."""
    phonebook = Phonebook.load(args.phonebook) if args.phonebook else Phonebook()
    for entry in args.number:
        number, sep, address = entry.partition("=")
        if not sep:
            raise PhonebookError(f"--number wants NUMBER=HOST:PORT, got {entry!r}")
        phonebook.add(number, parse_address(address))
    answer = {}
    for entry in args.answer:
        number, sep, address = entry.partition("=")
        if not sep or not normalize_number(number):
            raise PhonebookError(f"--answer wants NUMBER=HOST:PORT, got {entry!r}")
        answer[number] = parse_address(address, any_port=True)
    ring_on, ring_off = parse_cadence(args.ring_cadence)
    return ProxySettings(
        listen=parse_address(args.listen, any_port=True),
        target=parse_address(args.target),
        hayes=args.hayes,
        bps=args.bps,
        mnp=MnpLevel(args.mnp) if args.mnp else None,
        latency=args.latency_ms / 1000.0,
        noise=NoiseSettings(
            ber=args.ber, drop_after=args.drop_after, drop_per_minute=args.drop_per_minute
        ),
        lines=args.lines,
        time_scale=args.time_scale,
        phonebook=phonebook,
        access_number=args.access_number,
        seed=args.seed,
        tick=args.tick_ms / 1000.0,
        profile=vendor_profile(args.profile),
        dte_bps=args.dte_bps,
        answer=answer,
        rfc2217=args.rfc2217,
        timing=CallTiming(ring_on=ring_on, ring_off=ring_off),
    )


def parse_cadence(text: str) -> tuple[float, float]:
    """``ON/OFF`` in seconds, e.g. ``2/4`` (``ValueError`` otherwise)."""
    on, sep, off = text.partition("/")
    try:
        if sep:
            return float(on), float(off)
    except ValueError:
        pass
    raise ValueError(f"--ring-cadence wants ON/OFF seconds (e.g. 2/4), got {text!r}")


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        control = parse_address(args.control, any_port=True) if args.control else None
    except (ValueError, OSError) as exc:
        print(f"teledispatch modem: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(settings, args.pty, args.answer_pty, control))
    except OSError as exc:
        print(f"teledispatch modem: {exc}", file=sys.stderr)
        return 1
    return 0


def _print_report(report: CallReport) -> None:
    print(report.summary(), flush=True)


async def _serve(
    settings: ProxySettings, with_pty: bool, answer_ptys: list[str], control: Address | None
) -> None:
    proxy = ModemProxy(settings, on_report=_print_report)
    address = await proxy.start()
    switch = ControlServer(proxy, control) if control is not None else None
    mode = f"hayes, {settings.profile.name} profile" if settings.hayes else "direct"
    print(
        f"modem ({mode}) listening on {address.host}:{address.port}, "
        f"{settings.bps} bps, MNP {settings.error_control.value}, {settings.lines} lines, "
        f"time scale {settings.time_scale:g}, target {settings.target}",
        flush=True,
    )
    if switch is not None:
        where = await switch.start()
        print(f"control port on {where.host}:{where.port}", flush=True)
    for index, number in enumerate(settings.answer):
        where = proxy.answer_address(index)
        print(f"modems answering {number} on {where.host}:{where.port}", flush=True)
    if with_pty:
        print(f"modem on pseudo-terminal {proxy.open_pty()}", flush=True)
    for number in answer_ptys:
        path = proxy.open_pty(answer_number=number)
        print(f"modem answering {number} on pseudo-terminal {path}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        if switch is not None:
            await switch.close()
        await proxy.close()
