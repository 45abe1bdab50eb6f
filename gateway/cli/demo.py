"""``teledispatch demo topology``: three nodes relaying a DUA, then an office move.

Generates a deployment in a temporary directory (three node configs and a shared office
registry, on free loopback ports), starts Headquarters (hosting the centralized offices),
Callao Maritime and Tacna in this process, sends a DUA from an agent homed at Headquarters
to Callao, waits for the reply, moves Pisco to its own node, sends Pisco a DUA there, shuts
everything down and prints what happened. The last line is ``topology: ok`` or
``topology: FAILED <why>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import logging
import re
import tempfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from config.clock import Clock, SystemClock
from config.offices import load_offices, move_office, render_offices
from config.settings import load_settings
from edi_formats.codec import WireFormat, render_declaration
from gateway.cli.office import write_atomically
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from gateway.ports import free_ports
from validators.engine import transmission_date
from validators.samples import sample_declaration

__all__ = ["register", "run_topology"]

HQ, CALLAO, TACNA, PISCO = "sede-central", "callao-maritima", "tacna", "pisco"
DOMAIN = "aduanas.gob.pe"
SECRET = "demo-secreto-entre-nodos"  # noqa: S105 - a throwaway demo deployment
NUMBER = re.compile(r"\b(\d{3}-\d{4}-\d{2}-\d{6})\b")


class DemoFailed(Exception):
    """A step of the demonstration did not happen; the message says which."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="demonstrations on loopback")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    topology = kinds.add_parser("topology", help="three nodes, relay and an office move")
    topology.add_argument("--timeout", type=float, default=30.0, help="per step, seconds")
    topology.set_defaults(handler=run)


def _config(root: Path, name: str, ports: dict[str, dict[str, int]]) -> str:
    """A node's TOML config: its ports, the shared registry, its peers, agents' homes."""
    mine = ports[name]
    lines = [
        f'node_name = "{name}"',
        f'data_dir = "{root / name}"',
        f'offices_file = "{root / "offices.toml"}"',
        f"smtp_port = {mine['smtp']}",
        f"pop3_port = {mine['pop3']}",
        f"imap_port = {mine['imap']}",
        f"smtps_port = {mine['smtps']}",
        f"pop3s_port = {mine['pop3s']}",
        f"imaps_port = {mine['imaps']}",
        f"http_port = {mine['http']}",
        "",
        "[topology.agent_homes]",
        *(f'"{agent.address}" = "{HQ}"' for agent in DEMO_AGENTS),
        "",
        "[topology.relay]",
        "first_retry_seconds = 1",
        "poll_seconds = 0.2",
    ]
    for peer, peer_ports in ports.items():
        if peer != name:
            lines += [
                "",
                f'[topology.peers."{peer}"]',
                'host = "127.0.0.1"',
                f"smtp_port = {peer_ports['smtp']}",
                f'secret = "{SECRET}"',
            ]
    return "\n".join(lines) + "\n"


def _dua(office: str, reference: str, clock: Clock) -> bytes:
    agent = DEMO_AGENTS[0]
    declaration = sample_declaration(
        "dua",
        office=office,
        agent_code=agent.agent_code,
        as_of=transmission_date(clock.now()),
        reference=reference,
    )
    message = EmailMessage()
    message["From"] = agent.address
    message["To"] = f"aduana-{office}@{DOMAIN}"
    message["Subject"] = f"DUA {reference}"
    message.set_content("Adjunto la declaración.\n")
    message.add_attachment(
        render_declaration(declaration, WireFormat.FLAT),
        maintype="application",
        subtype="octet-stream",
        filename="DUA.TXT",
    )
    return message.as_bytes(policy=email.policy.SMTP)


class _Demo:
    def __init__(self, root: Path, timeout: float, say: Callable[[str], None]) -> None:
        self.root = root
        self.timeout = timeout
        self.say = say
        self.clock = SystemClock()
        self.nodes: dict[str, Node] = {}
        services = ("smtp", "pop3", "imap", "smtps", "pop3s", "imaps", "http")
        names = (HQ, CALLAO, TACNA, PISCO)
        free = iter(free_ports(len(services) * len(names)))
        self.ports = {name: {service: next(free) for service in services} for name in names}

    def write_configs(self) -> None:
        (self.root / "offices.toml").write_text(render_offices(load_offices()), "utf-8")
        for name in self.ports:
            (self.root / f"{name}.toml").write_text(_config(self.root, name, self.ports), "utf-8")

    async def start(self, name: str) -> Node:
        settings = load_settings(self.root / f"{name}.toml")
        node = Node(settings, clock=self.clock, offices=load_offices(settings.offices_file))
        await node.start(demo=True)
        self.nodes[name] = node
        hosted = ", ".join(office.code for office in node.hosted_offices) or "none"
        self.say(f"node {name}: SMTP 127.0.0.1:{node.port('smtp')}, offices {hosted}")
        return node

    async def stop_all(self) -> None:
        for name in list(self.nodes):
            await self.nodes.pop(name).stop()

    async def send_and_wait(self, office: str, reference: str) -> str:
        """Send a DUA as the agent through Headquarters; the number in its reply."""
        agent = DEMO_AGENTS[0].address
        hq = self.nodes[HQ]
        assert hq.store is not None
        before = len(await hq.store.list_messages(agent))
        assert hq.tls is not None and hq.tls.ca is not None
        async with aiosmtplib.SMTP(
            hostname="127.0.0.1",
            port=hq.port("smtp"),
            timeout=10,
            cert_bundle=str(hq.tls.ca.ca_file),  # STARTTLS, trusting HQ's own CA
        ) as c:
            await c.login(agent, DEMO_PASSWORD)
            await c.sendmail(
                agent, [f"aduana-{office}@{DOMAIN}"], _dua(office, reference, self.clock)
            )
        self.say(f"{agent} (home {HQ}) sent DUA {reference} to aduana-{office}@{DOMAIN}")
        arrived = asyncio.Event()
        unsubscribe = hq.store.subscribe(lambda change: arrived.set())
        try:
            async with asyncio.timeout(self.timeout):
                while len(infos := await hq.store.list_messages(agent)) <= before:
                    arrived.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(arrived.wait(), 0.5)
        except TimeoutError:
            raise DemoFailed(f"no reply to {reference} within {self.timeout:g} s") from None
        finally:
            unsubscribe()
        raw = await hq.store.read_message(agent, "INBOX", infos[-1].uid)
        reply = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(reply["Subject"])
        self.say(f"reply in {agent}'s mailbox at {HQ}: {subject}")
        body = reply.get_body(("plain",))
        found = NUMBER.search(subject) or NUMBER.search(
            body.get_content() if isinstance(body, EmailMessage) else ""
        )
        if not subject.startswith("ACEPTADA") or found is None:
            raise DemoFailed(f"DUA {reference} was not accepted: {subject}")
        return found.group(1)

    async def run(self) -> None:
        self.write_configs()
        self.say(f"deployment generated: {', '.join(f'{n}.toml' for n in self.ports)}")
        for name in (HQ, CALLAO, TACNA):
            await self.start(name)
        number = await self.send_and_wait("118", "DEMO-CALLAO-1")
        if not number.startswith("118-"):
            raise DemoFailed(f"Callao's DUA got {number}")
        self.say(f"Callao Maritime numbered it {number}; the reply was relayed back")
        first = await self.send_and_wait("127", "DEMO-PISCO-1")
        self.say(f"Pisco (centralized at {HQ}) numbered {first}")

        registry = load_offices(self.root / "offices.toml")
        write_atomically(
            self.root / "offices.toml", render_offices(move_office(registry, "127", PISCO))
        )
        self.say(f"office move 127 --to {PISCO}: Pisco is decentralized now")
        await self.start(PISCO)
        hq_moves = self.nodes[HQ].moves
        assert hq_moves is not None
        await hq_moves.refresh()
        second = await self.send_and_wait("127", "DEMO-PISCO-2")
        pisco = self.nodes[PISCO].store
        assert pisco is not None
        if len(await pisco.list_messages(f"aduana-127@{DOMAIN}", "Recibidos")) != 1:
            raise DemoFailed("the DUA after the move was not received by Pisco's node")
        self.say(f"Pisco's own node received it and numbered it {second}")
        if int(second[-6:]) != int(first[-6:]) + 1 or second[:-6] != first[:-6]:
            raise DemoFailed(f"numbering did not continue across the move: {first} then {second}")
        self.say("numbering continued across the move")


async def run_topology(step_seconds: float, say: Callable[[str], None]) -> str | None:
    """Run the demonstration; ``None`` if it worked, else why not."""
    with tempfile.TemporaryDirectory(prefix="teledespacho-topology-") as tmp:
        demo = _Demo(Path(tmp), step_seconds, say)
        try:
            await demo.run()
        except DemoFailed as exc:
            return str(exc)
        except Exception as exc:  # any failure is reported on the last line
            return f"{type(exc).__name__}: {exc}"
        finally:
            await demo.stop_all()
            say("all nodes stopped")
    return None


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    failure = asyncio.run(run_topology(args.timeout, lambda line: print(line, flush=True)))
    if failure is None:
        print("topology: ok")
        return 0
    print(f"topology: FAILED {failure}")
    return 1
