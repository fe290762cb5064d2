"""Bench start-up: how long `rejoinder serve` takes from its start to its first answer.

A server is started as a user starts it (`rejoinder serve`, default workers, moderation and
the model on, as by default) on a SQLite file, and `/healthz` is asked every 5 ms from the
moment the process is started; the time to the first 200 is the start-up time. That first
answer says how many phrase patterns the worker has ready, which must be all of them: a server
that answers before its patterns are built has only moved the wait to the first comment. Then
an article page is read, and the first comment posted (which loads the model).

Each run starts a fresh process; `--runs` of them on an existing database (migrated once
before), and one on an empty file (which the server migrates first) with an empty cache
folder, so that start also compiles the phrase patterns; the later starts take the patterns
it kept there, as every restart of a server does. With `--isso CMD`,
Isso's start-up is measured the same way in the same run (its own command line, e.g.
`'/tmp/isso/bin/isso -c /tmp/isso.cfg run'`, listening at `--isso-url`). 127.0.0.1 only;
every process is stopped at the end. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

GOALS = {"first_answer_s_at_most": 1.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_answer(
    command: list[str], url: str, env: dict[str, str], limit: float = 60
) -> tuple[float, httpx.Response, subprocess.Popen[bytes]]:
    """Start `command` and poll `url` until it answers 200: seconds from the start, the
    answer, and the still running process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    with httpx.Client(timeout=2) as client:
        while time.perf_counter() - started < limit:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            try:
                response = client.get(url)
                if response.status_code == 200:
                    return time.perf_counter() - started, response, process
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    stop(process)
    raise RuntimeError(f"no answer from {url} within {limit} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def rejoinder_run(database: Path, *, fresh: bool) -> dict[str, Any]:
    """One start of `rejoinder serve`: the first answer, the patterns it had ready, an article
    page, and the first comment."""
    if fresh and database.exists():
        database.unlink()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REJOINDER_DATABASE_URL": f"sqlite:///{database}",
        "REJOINDER_BASE_URL": base,
        "REJOINDER_ADMIN_TOKEN": "bench-token",
        "REJOINDER_CACHE_DIR": str(database.parent / "cache"),
    }
    command = [
        sys.executable,
        "-m",
        "rejoinder",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    seconds, answer, process = first_answer(command, base + "/healthz", env)
    try:
        health = answer.json()
        headers = {"Authorization": "Bearer bench-token"}
        with httpx.Client(base_url=base, timeout=60) as client:
            slug = f"start-{time.time_ns()}"
            made = client.post(
                "/api/v1/articles",
                json={"title": "Start-up", "slug": slug, "body": "Text."},
                headers=headers,
            )
            made.raise_for_status()
            clock = time.perf_counter()
            page = client.get(f"/articles/{slug}")
            page_ms = (time.perf_counter() - clock) * 1000
            clock = time.perf_counter()
            posted = client.post(
                f"/api/v1/articles/{slug}/comments",
                json={  # a new writer each run: the same comment again would be a duplicate
                    "body": f"Thanks, a clear piece on the bus lanes ({slug}).",
                    "name": "Ada",
                    "email": f"ada+{slug}@example.org",
                },
            )
            post_ms = (time.perf_counter() - clock) * 1000
    finally:
        stop(process)
    return {
        "first_answer_s": round(seconds, 3),
        "patterns_ready": health.get("patterns_ready"),
        "patterns_total": health.get("patterns_total"),
        "page_status": page.status_code,
        "page_ms": round(page_ms, 1),
        "first_post_status": posted.status_code,
        "first_post_ms": round(post_ms, 1),
    }


def lift_posting_limits(database: Path) -> None:
    """Every run posts from 127.0.0.1 within a minute of the last: lift the default site's
    per-address limits, so that each first post is judged rather than refused as a flood."""
    from rejoinder.store import sites
    from rejoinder.store.database import Database

    db = Database(f"sqlite:///{database}")
    try:
        with db.write() as conn:
            site = sites.get_site(conn, "default")
            assert site is not None
            policy = {"flood_seconds": 0, "per_minute": None, "per_hour": None}
            sites.update_site_settings(conn, site.id, {"policy": policy})
    finally:
        db.dispose()


def isso_run(command: str, url: str) -> float:
    seconds, _answer, process = first_answer(shlex.split(command), url, dict(os.environ))
    stop(process)
    return round(seconds, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="starts on a migrated database")
    parser.add_argument("--isso", help="Isso's command line, to measure it in the same run")
    parser.add_argument("--isso-url", default="http://127.0.0.1:8090/", help="where Isso answers")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "startup.db"
        fresh = rejoinder_run(database, fresh=True)
        print(f"empty database and cache (migrated and compiled at start): {fresh}")
        lift_posting_limits(database)
        runs = []
        for number in range(args.runs):
            # a copy of the migrated file each time, so that every run starts alike
            copy = Path(folder) / f"run-{number}.db"
            shutil.copyfile(database, copy)
            run = rejoinder_run(copy, fresh=False)
            print(f"run {number + 1}: {run}")
            runs.append(run)
    times = [r["first_answer_s"] for r in runs]
    all_ready = all(
        r["patterns_ready"] is not None and r["patterns_ready"] == r["patterns_total"]
        for r in [fresh, *runs]
    )
    figures: dict[str, Any] = {
        "first_answer_s_median": round(statistics.median(times), 3),
        "first_answer_s_max": max(times),
        "first_answer_s_empty_database_and_cache": fresh["first_answer_s"],
        "patterns_ready_at_first_answer": all_ready,
        "patterns_total": runs[0]["patterns_total"],
        "page_ms_median": round(statistics.median(r["page_ms"] for r in runs), 1),
        "first_post_ms_median": round(statistics.median(r["first_post_ms"] for r in runs), 1),
    }
    if args.isso:
        isso = [isso_run(args.isso, args.isso_url) for _ in range(args.runs)]
        print(f"isso: {isso}")
        figures["isso_first_answer_s_median"] = round(statistics.median(isso), 3)
    figures["goal_met"] = (
        all_ready and figures["first_answer_s_max"] <= GOALS["first_answer_s_at_most"]
    )
    figures["goals"] = GOALS
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
