"""Bench the widget: from a host page's DOMContentLoaded to the first page of a 10,000-comment
thread visible in it, in headless Chromium, everything on 127.0.0.1.

Seeds a fresh SQLite file (or an empty `--database-url`) with one embedded page's discussion
of 10,000 comments (the same generator as `thread_read.py`), starts `rejoinder serve` as a
user would, serves a static host page with the two lines of the embedding tag from a second
port, and loads it in Chromium `--runs` times cold (a fresh browser profile: embed.js and its
CSS fetched too) and as many times warm (a reload: both from the browser's cache). A script
the page runs first watches every animation frame for the widget's first comment; the figure
is that frame's time minus the navigation's DOMContentLoaded. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import thread_read
from playwright.sync_api import Browser, sync_playwright

from rejoinder.core.models import ArticleDraft
from rejoinder.store import articles as article_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade

SIZE = 10_000
PAGE_ID = "bench-embed-10000"
GOAL_MS = 150.0
CHROMIUM = os.environ.get("REJOINDER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

# Runs before the page's own scripts: notes the first animation frame in which the widget
# shows a comment, on the same clock as the navigation timing.
WATCH = """
(() => {
  const look = () => {
    const host = document.getElementById('rejoinder-thread');
    const root = host && host.shadowRoot;
    if (root && root.querySelector('ol.comment-list > li')) {
      window.__rjVisible = performance.now();
    } else {
      requestAnimationFrame(look);
    }
  };
  requestAnimationFrame(look);
})();
"""
MEASURED = """
() => new Promise((done) => {
  const check = () => {
    const nav = performance.getEntriesByType('navigation')[0];
    if (window.__rjVisible && nav && nav.domContentLoadedEventStart) {
      done({visible: window.__rjVisible, dcl: nav.domContentLoadedEventStart,
            shown: document.getElementById('rejoinder-thread').shadowRoot
                     .querySelectorAll('li.comment').length});
    } else { setTimeout(check, 20); }
  };
  check();
})
"""


def seed(url: str, host_origin: str) -> str:
    """Migrate; the embedded page's discussion with its thread; the host's origin allowed.
    Returns the discussion's slug."""
    db = Database(url)
    try:
        upgrade(db)
        now = datetime.now(UTC).replace(microsecond=0)
        rng = random.Random(f"{thread_read.SEED}-embed")
        started = time.perf_counter()
        with db.write() as conn:
            site = site_store.ensure_default_site(conn, "Rejoinder", now)
            site_store.set_site_origins(conn, site.id, [host_origin])
            existing = article_store.get_article_by_page(conn, site.id, PAGE_ID)
            if existing is not None:
                print(f"seed: {PAGE_ID} already there with {existing.comment_count:,} comments")
                return existing.slug
            draft = ArticleDraft(
                slug=PAGE_ID,
                title="A page with 10,000 comments",
                dek="",
                author="",
                body_markdown="",
                published_at=now - timedelta(days=4),
                page_id=PAGE_ID,
                page_url=f"{host_origin}/story",
            )
            article = article_store.add_article(conn, site.id, draft, "", now)
            authors = thread_read.make_authors(rng, 400)
            plan = thread_read.plan_thread(rng, SIZE, authors, now - timedelta(days=3))
            thread_read.insert_plan(conn, article.id, plan)
            article_store.touch_article(conn, article.id, SIZE, now)
        print(f"seed: {SIZE:,} comments in {time.perf_counter() - started:.1f} s")
        return article.slug
    finally:
        db.dispose()


def host_page(server: str) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Host story</title></head>
<body><h1>A story on the host site</h1><p>Its text.</p>
<div id="rejoinder-thread" data-page-id="{PAGE_ID}" data-title="Host story"></div>
<script src="{server}/embed.js" data-site="default" async></script>
</body></html>""".encode()


def serve_host(server: str) -> ThreadingHTTPServer:
    body = host_page(server)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def measure(browser: Browser, page_url: str, runs: int) -> dict[str, list[float]]:
    """`runs` cold loads (a fresh profile each) and `runs` warm reloads; ms after DCL."""
    cold: list[float] = []
    warm: list[float] = []
    shown = 0
    for run in range(runs + 1):  # the first is a warm-up of the server's caches
        context = browser.new_context()
        context.add_init_script(WATCH)
        try:
            page = context.new_page()
            page.goto(page_url)
            result = page.evaluate(MEASURED)
            if run:
                cold.append(result["visible"] - result["dcl"])
            page.reload()
            result = page.evaluate(MEASURED)
            if run:
                warm.append(result["visible"] - result["dcl"])
            shown = result["shown"]
        finally:
            context.close()
    return {"cold": cold, "warm": warm, "shown": [float(shown)]}


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p90_ms": round(p90, 1),
        "min_ms": round(ordered[0], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="cold and warm loads (default 15)")
    parser.add_argument("--database-url", help="an EMPTY database instead of a SQLite file")
    args = parser.parse_args()
    if not 1 <= args.runs <= 200:
        parser.error("--runs must be from 1 to 200")
    workdir = Path(tempfile.mkdtemp(prefix="rejoinder-bench-embed-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    process: subprocess.Popen[bytes] | None = None
    httpd: ThreadingHTTPServer | None = None
    try:
        port = thread_read.free_port()
        server = f"http://127.0.0.1:{port}"
        httpd = serve_host(server)
        host_origin = f"http://127.0.0.1:{httpd.server_address[1]}"
        slug = seed(url, host_origin)
        process = thread_read.start_server(url, port, workdir, None)
        load_before = round(os.getloadavg()[0], 2)
        print(f"server on {server}; host page on {host_origin}; discussion /articles/{slug}")
        print(f"load average before: {load_before} on {os.cpu_count()} CPUs")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                times = measure(browser, f"{host_origin}/story", args.runs)
            finally:
                browser.close()
        cold, warm = summary(times["cold"]), summary(times["warm"])
        shown = int(times["shown"][0])
        print(f"comments in the first page shown: {shown}")
        print(f"{'load':<6}{'p50 ms':>9}{'p90 ms':>9}{'min ms':>9}{'max ms':>9}")
        for name, figures in (("cold", cold), ("warm", warm)):
            print(
                f"{name:<6}{figures['p50_ms']:>9}{figures['p90_ms']:>9}"
                f"{figures['min_ms']:>9}{figures['max_ms']:>9}"
            )
        met = {"cold_p50": cold["p50_ms"] <= GOAL_MS, "warm_p50": warm["p50_ms"] <= GOAL_MS}
        print(
            f"goal: DOMContentLoaded to the first page visible <= {GOAL_MS:.0f} ms (p50): "
            + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items())
        )
        report: dict[str, Any] = {
            "thread_size": SIZE,
            "comments_shown": shown,
            "runs": args.runs,
            "cold": cold,
            "warm": warm,
            "goal_ms": GOAL_MS,
            "met": met,
            "cpus": os.cpu_count(),
            "load_before": load_before,
        }
        print(json.dumps(report, separators=(",", ":")))
        return 0
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if process is not None:
            thread_read.stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
