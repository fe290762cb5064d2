"""Bench live updates: 1,000 open streams on one worker, a post, and the time until all have it.

A server is started as a user starts it (`rejoinder serve --workers 1`) on 127.0.0.1, with a
fresh SQLite file (or `--database-url`, with `--redis-url` for the Redis hub). One article;
a warm-up post and page read; then `--streams` connections open the article's event stream
(raw sockets on one asyncio loop, a few dozen at a time) and each waits for its `ready`. Then
`--posts` comments are posted through the JSON API, one every second, and each stream notes
when it reads the comment's event. For each post: the time from sending the POST to each
stream having the event (p50, p99, max over the streams), and how many never got it within
`--patience` seconds. The worker's resident memory (VmRSS from /proc) is read before the
streams open, with them open, and after they close.

With `--workers 2 --redis-url ...` the streams spread over the workers (the kernel hands each
connection to one), so most of them hear of a post through Redis: the time across processes.

Moderation is off by default (`--moderation` turns it on): this measures the fan-out, not the
pipeline (bench/moderation.py does). Everything is bounded: each wait has a deadline, the
whole run stops after `--limit` seconds, and the server is stopped in every case. The last
line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from thread_read import stop_server

GOALS = {"all_within_s": 1.0, "stream_memory_mb_at_most": 50.0}
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pids: list[int]) -> float:
    """The sum of VmRSS over `pids`, in MB."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def worker_pids(pid: int) -> list[int]:
    """The processes that serve: `serve` itself with one worker (uvicorn runs it in process),
    else its children (uvicorn's workers; multiprocessing's resource tracker is one too, and
    small)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(c) for c in children.read_text().split()] if children.exists() else []
    return found or [pid]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "rejoinder", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(process)
    raise RuntimeError("the server did not answer in 60 s")


# A comment event's data starts with its id (JSON keys keep their order).
COMMENT = re.compile(rb'event: comment\ndata: \{"id":(\d+),')


@dataclass
class Stream:
    """One open event stream on a raw socket: what it has read, and when each comment came."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    tail: bytes = b""
    seen: dict[int, float] = field(default_factory=dict)  # comment id: perf_counter()

    async def read_until(self, marker: bytes, patience: float) -> None:
        async with asyncio.timeout(patience):
            while marker not in self.tail:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionError("the stream ended")
                self.tail = (self.tail + chunk)[-4096:]

    async def follow(self) -> None:
        """Read for as long as the stream is open, noting when each comment arrives."""
        while True:
            chunk = await self.reader.read(65536)
            now = time.perf_counter()
            if not chunk:
                return
            # The last bytes are kept: an event may be split between two reads.
            self.tail = self.tail[-256:] + chunk
            for match in COMMENT.finditer(self.tail):
                self.seen.setdefault(int(match[1]), now)


async def open_stream(port: int, path: str, patience: float) -> Stream:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    stream = Stream(reader, writer)
    await stream.read_until(b"event: ready", patience)
    if not stream.tail.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the stream was refused: {stream.tail[:200]!r}")
    return stream


async def run(args: argparse.Namespace, port: int, pids: list[int]) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        made = await http.post(
            "/api/v1/articles",
            json={"title": "Live bench", "body": "A paragraph to discuss."},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        made.raise_for_status()
        slug = made.json()["slug"]

        async def post(n: int) -> tuple[float, int, float]:
            started = time.perf_counter()
            answer = await http.post(
                f"/api/v1/articles/{slug}/comments",
                json={
                    "body": f"Comment {n} of the live bench: the bus lanes, again.",
                    "name": f"Reader {n}",
                    "email": f"reader{n}@example.org",
                },
            )
            if answer.status_code != 201:
                raise RuntimeError(f"post {n} answered {answer.status_code}: {answer.text}")
            return started, int(answer.json()["id"]), time.perf_counter() - started

        await post(0)  # warm-up: the first post and page load what they need
        (await http.get(f"/articles/{slug}")).raise_for_status()
        await asyncio.sleep(1)
        before = rss_mb(pids)

        path = f"/api/v1/articles/{slug}/events"
        streams: list[Stream] = []
        opening = time.perf_counter()
        for start in range(0, args.streams, args.batch):
            count = min(args.batch, args.streams - start)
            streams += await asyncio.gather(
                *(open_stream(port, path, args.patience) for _ in range(count))
            )
        open_s = time.perf_counter() - opening
        readers = [asyncio.create_task(s.follow()) for s in streams]
        await asyncio.sleep(1)
        opened = rss_mb(pids)
        print(
            f"{len(streams)} streams open in {open_s:.1f} s; worker {before:.1f} -> {opened:.1f} MB"
        )

        posts = []
        peak = opened
        for n in range(1, args.posts + 1):
            started, comment_id, post_s = await post(n)
            deadline = time.perf_counter() + args.patience
            while time.perf_counter() < deadline:
                if all(comment_id in s.seen for s in streams):
                    break
                await asyncio.sleep(0.01)
            times = sorted(s.seen[comment_id] - started for s in streams if comment_id in s.seen)
            missing = len(streams) - len(times)
            peak = max(peak, rss_mb(pids))
            figures = {
                "comment_id": comment_id,
                "post_ms": round(post_s * 1000, 1),
                "received": len(times),
                "missing": missing,
                "p50_ms": round(statistics.median(times) * 1000, 1) if times else None,
                "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 1) if times else None,
                "max_ms": round(times[-1] * 1000, 1) if times else None,
            }
            posts.append(figures)
            print(
                f"post {n}: {figures['received']}/{len(streams)} streams, "
                f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
                f"max {figures['max_ms']} ms (the POST itself {figures['post_ms']} ms)"
            )
            await asyncio.sleep(1)
        with_streams = rss_mb(pids)

        for task in readers:
            task.cancel()
        for stream in streams:
            stream.writer.close()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.sleep(2)
        after = rss_mb(pids)
    return {
        "posts": posts,
        "open_s": round(open_s, 2),
        "rss_before_mb": round(before, 1),
        "rss_with_streams_mb": round(with_streams, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_after_close_mb": round(after, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50, help="streams opened at once")
    parser.add_argument("--patience", type=float, default=30.0, help="seconds per wait")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds for the whole run")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=os.environ.get("REJOINDER_REDIS_URL"))
    parser.add_argument("--moderation", action="store_true", help="judge the posts too")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="more than one: the streams spread over the workers, and posts reach the others "
        "through Redis (give --redis-url); memory is then the sum over the workers",
    )
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.streams + 100:  # this process holds every stream's socket
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.streams + 1024), hard))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'live.db'}"
        port = free_port()
        env = {
            **os.environ,
            "REJOINDER_DATABASE_URL": database_url,
            "REJOINDER_BASE_URL": f"http://127.0.0.1:{port}",
            "REJOINDER_ADMIN_TOKEN": TOKEN,
            "REJOINDER_MODERATION": "true" if args.moderation else "false",
        }
        env.pop("REJOINDER_REDIS_URL", None)
        if args.redis_url:
            env["REJOINDER_REDIS_URL"] = args.redis_url
        process = start_server(env, port, args.workers)
        try:
            time.sleep(1)  # every worker up, not only the first to answer
            pids = worker_pids(process.pid)
            figures = asyncio.run(asyncio.wait_for(run(args, port, pids), args.limit))
        finally:
            stop_server(process)
    received = figures["posts"]
    worst = max((p["max_ms"] or float("inf")) for p in received) if received else None
    all_in = all(p["missing"] == 0 for p in received)
    stream_mb = figures["rss_with_streams_mb"] - figures["rss_before_mb"]
    met = {
        "all_within_s": all_in and worst is not None and worst <= GOALS["all_within_s"] * 1000,
        "stream_memory_mb_at_most": stream_mb <= GOALS["stream_memory_mb_at_most"],
    }
    result = {
        **figures,
        "streams": args.streams,
        "worst_max_ms": worst,
        "stream_memory_mb": round(stream_mb, 1),
        "stream_kb_each": round(stream_mb * 1024 / max(1, args.streams), 1),
        "hub": "redis" if args.redis_url else "local",
        "backend": "postgresql" if database_url.startswith("postgresql") else "sqlite",
        "moderation": args.moderation,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_before": round(load_before, 2),
        "goals": GOALS,
        "met": met,
    }
    for name, ok in met.items():
        print(f"{name}: {'met' if ok else 'NOT met'}")
    print(json.dumps(result))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
