"""Benchmark (not a test): many simultaneous 9600-bps calls through one modem proxy process.

Starts ``teledispatch modem --direct --bps 9600 --mnp none`` as its own process in front of
a sink served from this process, then opens ``--calls`` connections at once; each sends
``--size`` bytes, the sink answers one byte when it has them all, and the call's simulated
duration (wall time times the time scale) is compared with the line arithmetic: 10 bits a
character at 9600 bps, ``(size + 1) * 10 / 9600`` seconds. Prints the proxy's CPU time,
the spread of the timing error and, last, ``ratio: X.XX``: the median of measured divided
by theoretical duration (1.00 is a perfect line).

    python bench/modem_lines.py [--calls 1000] [--size 20000] [--time-scale 1] [--tick-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BPS = 9600
BITS_PER_CHAR = 10


def raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


async def start_sink(size: int) -> tuple[asyncio.Server, int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readexactly(size)
            writer.write(b"K")  # then hang up: the proxy delivers it, then drops the call
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=4096)
    return server, server.sockets[0].getsockname()[1]


def start_proxy(
    target_port: int, calls: int, scale: float, tick_ms: float, log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    command = [
        sys.executable, "-m", "gateway", "modem",
        "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{target_port}",
        "--direct", "--bps", str(BPS), "--mnp", "none", "--lines", str(calls),
        "--time-scale", str(scale), "--tick-ms", str(tick_ms),
    ]  # fmt: skip
    out = log.open("wb")
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if " listening on 127.0.0.1:" in text:
            port = int(text.split(" listening on 127.0.0.1:")[1].split(",")[0])
            return process, port
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited: {text}")
        time.sleep(0.05)
    raise RuntimeError("the proxy did not start")


async def one_call(port: int, payload: bytes, scale: float) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(payload)
    await writer.drain()
    answer = await reader.readexactly(1)
    finished = time.monotonic()
    writer.close()
    assert answer == b"K"
    return (finished - started) * scale


async def run(calls: int, size: int, scale: float, tick_ms: float) -> None:
    raise_file_limit(4 * calls + 256)
    sink, sink_port = await start_sink(size)
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "modem.log"
        proxy, port = start_proxy(sink_port, calls, scale, tick_ms, log)
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        wall_started = time.monotonic()
        try:
            durations = await asyncio.gather(
                *(one_call(port, payload, scale) for _ in range(calls))
            )
        finally:
            wall = time.monotonic() - wall_started
            proxy.terminate()
            proxy.wait(timeout=60)
            sink.close()
            await sink.wait_closed()
        reports = sum(1 for line in log.read_text().splitlines() if " ended (" in line)
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    proxy_cpu = children.ru_utime + children.ru_stime
    own_cpu = (own_after.ru_utime - own_before.ru_utime) + (
        own_after.ru_stime - own_before.ru_stime
    )
    theoretical = (size + 1) * BITS_PER_CHAR / BPS
    ratios = sorted(duration / theoretical for duration in durations)
    worst = max(abs(r - 1.0) for r in ratios)
    print(f"calls: {calls} simultaneous, {size} bytes each, 9600 bps 8N1, time scale {scale:g}")
    print(f"theoretical call: {theoretical:.3f} s simulated ({theoretical / scale:.3f} s wall)")
    print(f"wall time of the run: {wall:.2f} s; calls reported by the proxy: {reports}")
    print(
        f"proxy CPU: {proxy_cpu:.2f} s ({100 * proxy_cpu / wall:.0f} % of one core), "
        f"{1000 * proxy_cpu / calls:.1f} ms per call; this process: {own_cpu:.2f} s"
    )
    print(
        f"measured/theoretical: min {ratios[0]:.4f}, median {statistics.median(ratios):.4f}, "
        f"p95 {ratios[int(0.95 * (len(ratios) - 1))]:.4f}, max {ratios[-1]:.4f}"
    )
    print(f"worst timing error: {100 * worst:.2f} %")
    print(f"ratio: {statistics.median(ratios):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--tick-ms", type=float, default=100.0)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.size, args.time_scale, args.tick_ms))


if __name__ == "__main__":
    main()
