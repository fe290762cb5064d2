"""Bench the widget live: post in one browser, see it in another, each on its own worker.

Two `rejoinder serve` processes (one worker each) share a fresh PostgreSQL database and Redis,
as two workers or two hosts of one deployment do. A static host page on a third port embeds
the discussion twice over: the writer's copy loads embed.js from the first server, the
reader's from the second, so every comment crosses from one process to the other through
Redis. Both pages are open in headless Chromium (two browser contexts). `--posts` times, the
writer's widget posts a comment through its own form (the pre-submit check, then the post),
and the reader's widget is watched for it by a MutationObserver. The figure of one post is
the time from the click in the writer's page to the comment's element in the reader's page,
both read from the same clock (`Date.now()` of one machine). The last line is one JSON object.

Moderation is the default one (rules and the shipped model) on a site whose posting limits
are lifted, so that one writer may post every second. Every wait has a deadline; the servers
are stopped and the database is dropped in every case.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import thread_read
from playwright.sync_api import Page, sync_playwright

from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade

PAGE_ID = "bench-live-widget"
GOALS = {"p50_ms": 300.0, "max_ms": 1000.0}
CHROMIUM = os.environ.get("REJOINDER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
LIFTED = {
    "min_form_seconds": 0,
    "flood_seconds": 0,
    "per_minute": None,
    "per_hour": None,
    "top_level_per_thread": None,
}

# In the reader's page: note when a comment with a given text first shows in the widget.
WATCH = """
(() => {
  window.__rjSeen = {};
  const start = () => {
    const host = document.getElementById('rejoinder-thread');
    const root = host && host.shadowRoot;
    if (!root) { setTimeout(start, 20); return; }
    new MutationObserver(() => {
      root.querySelectorAll('li.comment .text').forEach((text) => {
        const key = text.textContent.trim();
        if (!(key in window.__rjSeen)) window.__rjSeen[key] = Date.now();
      });
    }).observe(root, { childList: true, subtree: true });
  };
  start();
})();
"""

SHADOW = "document.getElementById('rejoinder-thread').shadowRoot"
# In the writer's page: type the comment and press the form's button, noting the time.
POST = f"""
(body) => {{
  const root = {SHADOW};
  const form = root.querySelector('#commentform');
  form.elements.body.value = body;
  form.elements.name.value = 'Bench Writer';
  form.elements.email.value = 'bench.writer@example.org';
  const clicked = Date.now();
  root.querySelector('#commentform button[type=submit]').click();
  return clicked;
}}
"""


def host_page(server: str, who: str) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Host story ({who})</title></head>
<body><h1>A story on the host site</h1><p>Its text.</p>
<div id="rejoinder-thread" data-page-id="{PAGE_ID}" data-title="Host story"></div>
<script src="{server}/embed.js" data-site="default" async></script>
</body></html>""".encode()


def serve_host(pages: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body or b"not here")

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def seed(url: str, host_origin: str) -> None:
    """Migrate; let the host page embed the default site, with posting limits lifted."""
    db = Database(url)
    try:
        upgrade(db)
        with db.write() as conn:
            site = site_store.ensure_default_site(conn, "Rejoinder", datetime.now(UTC))
            site_store.set_site_origins(conn, site.id, [host_origin])
            site_store.update_site_settings(conn, site.id, {"policy": LIFTED})
    finally:
        db.dispose()


def open_widget(page: Page, url: str) -> None:
    """Load the host page and wait until its widget shows the form and its stream is open."""
    with page.expect_response(lambda r: "/events" in r.url, timeout=30_000):
        page.goto(url)
    page.wait_for_function(f"() => {SHADOW} && {SHADOW}.querySelector('#commentform')")


def run_posts(writer: Page, reader: Page, posts: int, patience: float) -> list[float | None]:
    """Each post's click-to-visible time in ms, None for one not seen within `patience` s."""
    times: list[float | None] = []
    for n in range(posts + 1):  # the first warms both servers (model, caches, connections)
        body = f"Bench comment {n} {uuid.uuid4().hex[:8]}."
        clicked = float(writer.evaluate(POST, body))
        deadline = time.monotonic() + patience
        seen: float | None = None
        while time.monotonic() < deadline:
            at = reader.evaluate("(key) => window.__rjSeen[key] || null", body)
            if at is not None:
                seen = float(at)
                break
            time.sleep(0.02)
        if n:
            times.append(None if seen is None else seen - clicked)
        # The writer's own copy is back before the next post (its button enabled again).
        writer.wait_for_function(
            f"() => !{SHADOW}.querySelector('#commentform button[type=submit]').disabled",
            timeout=patience * 1000,
        )
        time.sleep(0.3)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=20, help="posts to time (default 20)")
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL URL whose role may create databases; a fresh one is made beside it",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--patience", type=float, default=10.0, help="seconds per post at most")
    args = parser.parse_args()
    if not 1 <= args.posts <= 500:
        parser.error("--posts must be from 1 to 500")
    workdirs = [Path(tempfile.mkdtemp(prefix="rejoinder-bench-live-")) for _ in range(2)]
    name = f"rj_bench_live_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(args.postgres), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.postgres.rsplit("/", 1)[0] + "/" + name
    processes: list[subprocess.Popen[bytes]] = []
    pages: dict[str, bytes] = {}
    httpd = serve_host(pages)
    host_origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        seed(url, host_origin)
        servers = []
        for workdir in workdirs:
            port = thread_read.free_port()
            os.environ["REJOINDER_WORKERS"] = "1"
            processes.append(thread_read.start_server(url, port, workdir, args.redis_url))
            servers.append(f"http://127.0.0.1:{port}")
        pages["/writer"] = host_page(servers[0], "writer")
        pages["/reader"] = host_page(servers[1], "reader")
        load_before = round(os.getloadavg()[0], 2)
        print(f"writer's widget from {servers[0]}, reader's from {servers[1]}; Redis between")
        print(f"load average before: {load_before} on {os.cpu_count()} CPUs")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                reader_context, writer_context = browser.new_context(), browser.new_context()
                reader_context.add_init_script(WATCH)
                reader, writer = reader_context.new_page(), writer_context.new_page()
                open_widget(reader, f"{host_origin}/reader")
                open_widget(writer, f"{host_origin}/writer")
                times = run_posts(writer, reader, args.posts, args.patience)
            finally:
                browser.close()
        seen = sorted(t for t in times if t is not None)
        missed = len(times) - len(seen)
        figures: dict[str, Any] = {"posts": len(times), "missed": missed}
        if seen:
            figures.update(
                p50_ms=round(statistics.median(seen), 1),
                p90_ms=round(seen[min(len(seen) - 1, round(0.9 * (len(seen) - 1)))], 1),
                min_ms=round(seen[0], 1),
                max_ms=round(seen[-1], 1),
            )
            print("click in one browser to visible in the other, ms:")
            print("  " + " ".join(f"{t:.0f}" for t in times if t is not None))
            print(
                f"p50 {figures['p50_ms']} ms, p90 {figures['p90_ms']} ms, "
                f"max {figures['max_ms']} ms; not seen within {args.patience:g} s: {missed}"
            )
        met = {
            "p50": bool(seen) and figures["p50_ms"] <= GOALS["p50_ms"],
            "max": bool(seen) and not missed and figures["max_ms"] <= GOALS["max_ms"],
        }
        print(
            f"goals: p50 <= {GOALS['p50_ms']:.0f} ms, max <= {GOALS['max_ms']:.0f} ms: "
            + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items())
        )
        report = {**figures, "goals": GOALS, "met": met, "cpus": os.cpu_count()}
        report["load_before"] = load_before
        print(json.dumps(report, separators=(",", ":")))
        return 0
    finally:
        for process in processes:
            thread_read.stop_server(process)
        httpd.shutdown()
        httpd.server_close()
        with psycopg.connect(libpq(args.postgres), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
