"""A real dialer on the pseudo-terminal: pppd's ``chat`` (Debian's ppp package) dials,
connects, exchanges data and hangs up, as it would before starting pppd."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.dialup_sim.conftest import Echo, ProxyFactory
from tests.tools import needs

pytestmark = [pytest.mark.slow, needs("chat")]

CHAT = shutil.which("chat") or "/usr/sbin/chat"  # .ci/run installs Debian's ppp

# An init string of the era, the dial, a line of data checked through the echo server, then
# the escape (\d is one second: far more than S12 at this time scale) and ATH0.
SCRIPT = r"""ABORT BUSY
ABORT 'NO CARRIER'
ABORT 'NO DIALTONE'
ABORT 'NO ANSWER'
ABORT ERROR
TIMEOUT 10
'' ATZ
OK 'AT&F E1 V1 Q0 X4 &C1 &D2 &K3 \\N3 %C1 W2 S0=0'
OK ATDT0800
CONNECT \c
'' 'ping from chat\c'
'ping from chat' '\d+++\c'
OK ATH0
OK ATI6
'ENDED LOCAL HANG-UP' ''
"""


async def test_chat_dials_connects_and_hangs_up_on_the_pty(
    echo_server: Echo, start_proxy: ProxyFactory, tmp_path: Path
) -> None:
    # chat types 10 ms apart: at scale 10 the three pluses take 0.2 s, well inside S12.
    proxy = await start_proxy(echo_server.address, hayes=True, time_scale=10.0)
    path = proxy.open_pty()
    script = tmp_path / "dial.chat"
    script.write_text(SCRIPT)
    report = tmp_path / "report"

    def run_chat() -> subprocess.CompletedProcess[str]:
        with open(path, "r+b", buffering=0) as device:
            return subprocess.run(
                [CHAT, "-V", "-s", "-r", str(report), "-f", str(script)],
                stdin=device,
                stdout=device,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
                check=False,
            )

    done = await asyncio.to_thread(run_chat)
    assert done.returncode == 0, done.stderr  # 0: the script ran to its end
    log = done.stderr
    assert "CONNECT 9600/REL" in log
    assert "ping from chat" in log
    assert "ENDED LOCAL HANG" in log  # chat matched "ENDED LOCAL HANG-UP" to exit 0
    assert echo_server.connections == 1
    assert proxy.reports[-1].reason == "local hang-up"
    assert proxy.pool.in_use == 0
