"""Dialling through a ``--hayes`` proxy from a synchronous client program."""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest

from dialup_sim.client import CarrierLost, DialError, ModemLine
from dialup_sim.noise import NoiseSettings
from tests.dialup_sim.conftest import Echo, ProxyFactory, Sink
from tests.dialup_sim.samples import mail_text

pytestmark = pytest.mark.slow

SCALE = 50.0


def send_over_modem(modem: ModemLine, message: bytes) -> None:
    sock = modem.data_socket()

    async def session() -> None:
        # aiosmtplib takes the dialled line through its public sock= argument.
        client = aiosmtplib.SMTP(sock=sock, timeout=30, start_tls=False)
        await client.connect()
        await client.sendmail("agente1@agencias.pe", ["aduana-118@aduanas.gob.pe"], message)
        sock.watch_carrier = False  # the NO CARRIER after QUIT is expected
        await client.quit()

    asyncio.run(session())


async def test_dial_send_and_hang_up_with_the_modem_report(
    smtp_sink: Sink, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(smtp_sink.address, hayes=True, time_scale=SCALE)
    message = b"Subject: DUA\r\n\r\n" + mail_text(5000) + b"\r\n"

    def session() -> tuple[str, float, int, int]:
        with ModemLine.dial(proxy.address, "0800", timeout=30) as modem:
            send_over_modem(modem, message)
            summary = modem.hang_up()
            sent = modem.data_socket().sent
            return modem.connect_message, summary.online_seconds, summary.sent, sent

    connect, online, modem_sent, counted = await asyncio.to_thread(session)
    assert connect == "CONNECT 9600/REL"
    assert smtp_sink.handler.messages == [message]
    assert modem_sent == counted  # what the client counted is what the modem carried
    assert online > 0.5  # 5 kB of text at MNP 5 speed, plus the SMTP dialogue


async def test_dial_error_carries_the_result(echo_server: Echo, start_proxy: ProxyFactory) -> None:
    proxy = await start_proxy(echo_server.address, hayes=True, lines=1, time_scale=SCALE)

    def dial_twice() -> str:
        with ModemLine.dial(proxy.address, "0800", timeout=30):
            try:
                ModemLine.dial(proxy.address, "0800", timeout=30)
            except DialError as exc:
                return exc.result
        return "connected"

    assert await asyncio.to_thread(dial_twice) == "BUSY"


async def test_no_carrier_interrupts_a_session(
    echo_server: Echo, start_proxy: ProxyFactory
) -> None:
    proxy = await start_proxy(
        echo_server.address, hayes=True, time_scale=SCALE, noise=NoiseSettings(drop_after=5.0)
    )

    def read_until_dropped() -> bool:
        with ModemLine.dial(proxy.address, "0800", timeout=30) as modem:
            sock = modem.data_socket()
            sock.sendall(b"ping")
            try:
                while sock.recv(100):
                    pass
            except CarrierLost:
                return True
            return False

    assert await asyncio.to_thread(read_until_dropped)
