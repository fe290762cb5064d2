"""Bench abuse: how a normal reader fares while others abuse the server.

One `rejoinder serve` worker (moderation on, as by default) on a fresh SQLite file, with an
article and a thread of comments. A reader reads the article page in a loop, first on the
quiet server, then while, all at once:

* (a) 4 clients send the longest comment the check endpoint takes, as fast as it lets them;
* (b) 2 clients each send a 200 MB comment body;
* (c) 1,000 idle sockets are held open and 200 slowloris connections trickle a request head.

For each period it prints the reader's requests per second, median and p99 latency and
failed requests, and the worker's peak RSS. Goals (issue 18): the reader's p99 while abused
at most 3x its quiet p99, no failed reader request, and the worker's RSS at most 50 MB above
its quiet peak. 127.0.0.1 only; every period is bounded (`--seconds`) and every socket and
process is closed at the end. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from thread_read import stop_server

GOALS = {"p99_ratio_at_most": 3.0, "reader_failures_at_most": 0, "rss_growth_mb_at_most": 50}
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REJOINDER_DATABASE_URL": f"sqlite:///{folder / 'abuse.db'}",
        "REJOINDER_BASE_URL": base,
        "REJOINDER_ADMIN_TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "rejoinder", "serve", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError("the server did not answer within 120 s")


def rss_mb(pid: int) -> float:
    """The resident memory of the process and its children (the worker), in MB."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        total += int(rss_mb(int(child)) * 1024)
    return total / 1024


def prepare(base: str) -> str:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        made = client.post(
            "/api/v1/articles",
            json={"title": "A quiet read", "slug": "quiet-read", "body": "A paragraph.\n\n" * 20},
            headers=headers,
        )
        made.raise_for_status()
        for n in range(20):
            client.post(
                "/api/v1/articles/quiet-read/comments",
                json={
                    "body": f"Comment {n}: a fair point about the bus lanes and the budget.",
                    "name": f"Reader {n}",
                    "email": f"reader{n}@example.org",
                },
            )
    return "/articles/quiet-read"


def read_loop(base: str, path: str, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            try:
                ok = client.get(path).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failures += not ok
    latencies.sort()
    return {
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "failures": failures,
    }


def sample_rss(pid: int, stop_flag: threading.Event, peak: list[float]) -> None:
    while not stop_flag.is_set():
        try:
            peak[0] = max(peak[0], rss_mb(pid))
        except (FileNotFoundError, ProcessLookupError):
            return
        time.sleep(0.1)


async def checks(base: str, until: float, sent: list[int]) -> None:
    text = ("A long and civil comment about the council's plans for the bus lanes. " * 80)[:5000]
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < until:
            try:
                answer = await client.post("/api/v1/moderation/check", json={"text": text})
                sent.append(answer.status_code)
                if answer.status_code == 429:
                    wait = float(answer.headers.get("retry-after", "1"))
                    await asyncio.sleep(min(wait, until - time.monotonic()))
            except httpx.HTTPError:
                await asyncio.sleep(0.1)


async def big_body(port: int, until: float, outcome: list[str]) -> None:
    """A 200 MB comment body, sent as fast as the server reads it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    size = 200 * 1024 * 1024
    writer.write(
        (
            "POST /api/v1/articles/quiet-read/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        ).encode()
    )
    chunk = b"x" * (1024 * 1024)
    sent = 0
    try:
        while sent < size and time.monotonic() < until:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), timeout=max(0.1, until - time.monotonic()))
            sent += len(chunk)
        status = await asyncio.wait_for(reader.readline(), timeout=5)
        outcome.append(status.decode("latin-1").strip() or f"closed after {sent >> 20} MB")
    except (ConnectionError, TimeoutError):
        outcome.append(f"cut off after {sent >> 20} MB")
    finally:
        writer.close()


async def idle_and_slow(port: int, until: float, held: list[int]) -> None:
    """1,000 idle sockets and 200 that send a request head one byte a second."""
    idle: list[asyncio.StreamWriter] = []
    for _ in range(1000):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            idle.append(writer)
        except OSError:
            break
    slow: list[asyncio.StreamWriter] = []
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            slow.append(writer)
        except OSError:
            break
    held.extend([len(idle), len(slow)])
    head = b"GET /articles/quiet-read HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000
    step = 0
    while time.monotonic() < until:
        for writer in slow:
            if not writer.is_closing():
                writer.write(head[step : step + 1])
        step = (step + 1) % len(head)
        await asyncio.sleep(1)
    for writer in idle + slow:
        writer.close()


def abuse(base: str, seconds: float) -> Callable[[], dict[str, Any]]:
    """Start the abuse in a thread of its own; the returned function waits for its report."""
    port = int(base.rsplit(":", 1)[1])
    report: dict[str, Any] = {}

    async def all_at_once() -> None:
        until = time.monotonic() + seconds
        statuses: list[int] = []
        bodies: list[str] = []
        held: list[int] = []
        await asyncio.gather(
            *(checks(base, until, statuses) for _ in range(4)),
            *(big_body(port, until, bodies) for _ in range(2)),
            idle_and_slow(port, until, held),
        )
        report.update(
            checks_answered={str(s): statuses.count(s) for s in sorted(set(statuses))},
            big_bodies=bodies,
            idle_sockets=held[0] if held else 0,
            slowloris=held[1] if len(held) > 1 else 0,
        )

    thread = threading.Thread(target=lambda: asyncio.run(all_at_once()), daemon=True)
    thread.start()

    def finish() -> dict[str, Any]:
        thread.join(timeout=seconds + 60)
        return report

    return finish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of each period")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        process, base = start_server(Path(folder))
        try:
            path = prepare(base)
            read_loop(base, path, 2)  # warm: templates, caches
            flag, peak = threading.Event(), [0.0]
            sampler = threading.Thread(target=sample_rss, args=(process.pid, flag, peak))
            sampler.start()
            quiet = read_loop(base, path, args.seconds)
            flag.set()
            sampler.join()
            quiet["peak_rss_mb"] = round(peak[0], 1)
            print(f"quiet: {quiet}")
            flag, peak = threading.Event(), [0.0]
            sampler = threading.Thread(target=sample_rss, args=(process.pid, flag, peak))
            sampler.start()
            finish = abuse(base, args.seconds)
            time.sleep(1)  # the sockets open and the bodies start first
            abused = read_loop(base, path, args.seconds - 1)
            attackers = finish()
            flag.set()
            sampler.join()
            abused["peak_rss_mb"] = round(peak[0], 1)
            print(f"abused: {abused}")
            print(f"attackers: {attackers}")
        finally:
            stop_server(process)
    ratio = abused["p99_ms"] / max(quiet["p99_ms"], 0.001)
    growth = abused["peak_rss_mb"] - quiet["peak_rss_mb"]
    met = (
        ratio <= GOALS["p99_ratio_at_most"]
        and abused["failures"] <= GOALS["reader_failures_at_most"]
        and growth <= GOALS["rss_growth_mb_at_most"]
    )
    print(
        json.dumps(
            {
                "quiet": quiet,
                "abused": abused,
                "attackers": attackers,
                "p99_ratio": round(ratio, 2),
                "rss_growth_mb": round(growth, 1),
                "goal_met": met,
                "goals": GOALS,
            }
        )
    )


if __name__ == "__main__":
    main()
