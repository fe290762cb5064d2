"""Bench the moderators' desk: a held post's way to the Held queue, a queue of 10,000, the export.

Three figures, each against the real `rejoinder serve` (default workers) on 127.0.0.1:
(a) from the POST of a comment the pipeline holds to the first GET of the desk's Held page
    that lists it, as a logged-in moderator polls it; each measured comment is then rejected
    through the admin API (not timed) so the queue stays on one page;
(b) the desk's Held page (/admin, HTML) and the admin API's Held list with 10,000 held
    comments, bulk-inserted with the decisions the real pipeline makes of their text;
(c) `rejoinder audit export --format csv` of an audit log of 100,000 entries, as a subprocess.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import thread_read

from rejoinder.core.models import ArticleDraft, Role, Status
from rejoinder.core.moderation import ArticleRef, Submission, decide, fingerprint
from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.text import render_article, render_comment
from rejoinder.store import articles as article_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade
from rejoinder.store.schema import audit_log, comments
from rejoinder.usecases import accounts
from rejoinder.usecases.moderation import Judgement

PASSWORD = "desk bench password, long enough"
SEED = 20251125  # fixed: every run seeds the same comments
ARTICLES = 20
# Eight clients on one address: the site's flood and rate limits are off for this bench (the
# rate phase still runs its reads), as in bench/moderation.py.
LIMIT_NAMES = (
    "flood_seconds per_minute per_hour top_level_per_thread surge_per_minute duplicate_site_limit"
)
OPEN_LIMITS = dict.fromkeys(LIMIT_NAMES.split(), None)


ROWS = (
    ("page_html", "/admin (HTML)"),
    ("page_html_deep", "/admin page ~80"),
    ("api_list", "API held list"),
    ("api_counts", "API counts"),
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "max_ms": round(max(values), 2),
        "n": len(values),
    }


def held_sentence(rng: random.Random, insults: list[str]) -> str:
    return rng.choice(
        (
            "Only an {w} would vote for this plan.",
            "The councillor is an {w}, and the figures prove it.",
            "Whoever wrote this report is a complete {w}.",
        )
    ).format(w=rng.choice(insults))


def judged(text: str, now: datetime) -> Judgement:
    """What the pipeline (its phases, without the model or a history) makes of `text`."""
    submission = Submission(
        text=text, name="Bench Writer", email="", article=ArticleRef(0), now=now, via_form=False
    )
    return Judgement(decision=decide(submission), scores={}, fingerprint=fingerprint(text))


def prepare(url: str) -> tuple[list[int], str, str]:
    """Migrate; one site with open limits, ARTICLES articles, a moderator with an API token.
    Returns the article ids, the slug the posts go to and the token."""
    db = Database(url)
    try:
        upgrade(db)
        now = datetime.now(UTC).replace(microsecond=0)
        ids = []
        with db.write() as conn:
            site = site_store.ensure_default_site(conn, "Rejoinder", now)
            if article_store.get_article(conn, site.id, "desk-bench-1") is not None:
                raise SystemExit("the database has the bench's articles already: give an empty one")
            settings = site_store.get_site_settings(conn, site.id)
            settings["policy"] = {**settings.get("policy", {}), **OPEN_LIMITS}
            site_store.update_site_settings(conn, site.id, settings)
            for n in range(1, ARTICLES + 1):
                body = f"Article {n} of the desk bench: the council's plan, and what it costs."
                draft = ArticleDraft(
                    slug=f"desk-bench-{n}",
                    title=f"The council's plan, part {n}",
                    dek="",
                    author="Bench Reporter",
                    body_markdown=body,
                    published_at=now - timedelta(days=2),
                )
                ids.append(
                    article_store.add_article(conn, site.id, draft, render_article(body), now).id
                )
        accounts.add_user(db, "bench", Role.MODERATOR, PASSWORD, now)
        token = accounts.add_token(db, "bench", "desk bench", now)
        return ids, "desk-bench-1", token
    finally:
        db.dispose()


def seed_held(url: str, article_ids: list[int], count: int) -> float:
    """`count` held comments over the articles, oldest first, with the decisions the pipeline
    makes of their text (so the desk marks real spans); returns the seconds it took."""
    rng = random.Random(SEED)
    insults = sorted(lexicon.word_lists("hold")["insult"])
    authors = thread_read.make_authors(rng, 600)
    started = time.perf_counter()
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for index in range(count):
        author = rng.choice(authors)
        body = thread_read.make_body(rng)
        sentences = body.split(". ")
        sentences.insert(rng.randrange(len(sentences) + 1), held_sentence(rng, insults)[:-1])
        body = ". ".join(sentences)
        judgement = judged(body, now)
        rows.append(
            {
                "article_id": rng.choice(article_ids),
                "parent_id": None,
                "root_id": None,
                "depth": 0,
                "number": 0,
                "author_name": author.name,
                "author_email": author.email,
                "author_website": author.website,
                "body_markdown": body,
                "body_html": render_comment(body),
                "status": Status.HELD.value,
                "created_at": now - timedelta(seconds=2 * (count - index)),
                "edited_at": None,
                "imported": False,
                "notify_replies": False,
                "ip_hash": f"{rng.getrandbits(128):032x}",
                "ip_group_hash": f"{rng.getrandbits(128):032x}",
                "fingerprint": judgement.fingerprint,
                "moderation": judgement.record(),
            }
        )
    held = sum(json.loads(r["moderation"])["verdict"] == "hold" for r in rows)
    if held != count:
        raise SystemExit(f"the pipeline holds only {held} of the {count} seeded comments")
    db = Database(url)
    try:
        with db.write() as conn:
            for start in range(0, count, 2000):
                conn.execute(insert(comments), rows[start : start + 2000])
    finally:
        db.dispose()
    return time.perf_counter() - started


def analyze(url: str) -> None:
    """PostgreSQL: refresh the planner's statistics after a bulk insert, as autovacuum would
    within a minute on a live site (SQLite plans without statistics unless asked)."""
    if url.startswith("sqlite"):
        return
    db = Database(url)
    try:
        with db.write() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        db.dispose()


def seed_audit(url: str, count: int) -> float:
    """`count` audit entries in the proportions a busy site makes them: mostly the pipeline's
    verdicts (with reasons and scores), then desk actions and readers' reports."""
    rng = random.Random(SEED + 1)
    started = time.perf_counter()
    db = Database(url)
    try:
        with db.read() as conn:
            ids = list(conn.execute(select(comments.c.id)).scalars())
            before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        base = datetime.now(UTC) - timedelta(days=60)
        batch: list[dict[str, Any]] = []
        with db.write() as conn:
            for n in range(count):
                roll = rng.random()
                comment_id = rng.choice(ids) if ids else None
                at = base + timedelta(seconds=n * 50)
                row: dict[str, Any]
                if roll < 0.7:
                    verdict = rng.choice(("publish", "publish", "publish", "hold", "refuse"))
                    insult = {
                        "phase": "words",
                        "code": "insult",
                        "action": verdict,
                        "message": 'it calls people "idiots"',
                        "score": None,
                    }
                    reasons = [] if verdict == "publish" else [insult]
                    row = {
                        "actor_kind": "machine",
                        "actor": "pipeline",
                        "action": "verdict",
                        "before": None,
                        "after": verdict,
                        "note": "",
                        "data": {
                            "reasons": reasons,
                            "scores": {
                                "toxicity": round(rng.random(), 4),
                                "insult": round(rng.random(), 4),
                            },
                        },
                    }
                elif roll < 0.9:
                    action = rng.choice(("approve", "reject"))
                    row = {
                        "actor_kind": "user",
                        "actor": rng.choice(("ana", "kofi", "mira")),
                        "action": action,
                        "before": "held",
                        "after": "published" if action == "approve" else "rejected",
                        "note": rng.choice(("", "", "off-topic", "checked the source")),
                        "data": {"number": rng.randint(1, 400)} if action == "approve" else {},
                    }
                else:
                    k = rng.randint(1, 5)
                    row = {
                        "actor_kind": "reader",
                        "actor": "reader",
                        "action": "report",
                        "before": str(k - 1),
                        "after": str(k),
                        "note": "",
                        "data": {"reason": rng.choice(("abuse", "spam", "other")), "count": k},
                    }
                row.update(created_at=at, site_id=1, comment_id=comment_id)
                row["data"] = json.dumps(row["data"])
                batch.append(row)
                if len(batch) == 5000:
                    conn.execute(insert(audit_log), batch)
                    batch = []
            if batch:
                conn.execute(insert(audit_log), batch)
        with db.read() as conn:
            after = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        if after - before != count:
            raise SystemExit(f"the audit log grew by {after - before}, not {count}")
    finally:
        db.dispose()
    return time.perf_counter() - started


def log_in(base: str) -> httpx.Client:
    """A moderator's browser: the login form, its CSRF field, the session cookie."""
    http = httpx.Client(base_url=base, timeout=30)
    form = http.get("/admin/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if form.status_code != 200 or token is None:
        raise SystemExit(f"no login form: {form.status_code}")
    done = http.post(
        "/admin/login", data={"csrf": token[1], "name": "bench", "password": PASSWORD, "next": ""}
    )
    if done.status_code != 303:
        raise SystemExit(f"login failed: {done.status_code} {done.text[:300]}")
    return http


def timed_gets(
    http: httpx.Client, path: str, rounds: int, **options: Any
) -> tuple[list[float], int]:
    for _ in range(3):  # warm-up: connections, templates, the database's caches
        http.get(path, **options)
    times = []
    size = 0
    for _ in range(rounds):
        started = time.perf_counter()
        response = http.get(path, **options)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.text[:300]}")
        size = len(response.content)
    return times, size


def bench_post_to_held(
    base: str, desk: httpx.Client, token: str, slug: str, posts: int
) -> dict[str, Any]:
    rng = random.Random(SEED + 2)
    insults = sorted(lexicon.word_lists("hold")["insult"])
    api = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"})
    writer = httpx.Client(base_url=base, timeout=30)
    post_ms: list[float] = []
    appear_ms: list[float] = []
    polls: list[int] = []
    try:
        for n in range(-3, posts):  # three warm-up posts first (the model loads on the first)
            body = f"{thread_read.make_sentence(rng)} {held_sentence(rng, insults)} (post {n})"
            payload = {"body": body, "name": f"Writer {n}", "email": f"writer{n}@example.org"}
            started = time.perf_counter()
            response = writer.post(f"/api/v1/articles/{slug}/comments", json=payload)
            posted = time.perf_counter()
            if response.status_code != 202:
                raise SystemExit(f"post {n} was not held: {response.status_code} {response.text}")
            marker = f'id="item-{response.json()["id"]}"'
            tries = 0
            while True:
                tries += 1
                if marker in desk.get("/admin").text:
                    break
                if time.perf_counter() - started > 10:
                    raise SystemExit(f"comment {response.json()['id']} not in Held after 10 s")
            seen = time.perf_counter()
            if n >= 0:
                post_ms.append((posted - started) * 1000)
                appear_ms.append((seen - started) * 1000)
                polls.append(tries)
            done = api.post(f"/api/v1/admin/comments/{response.json()['id']}/reject", json={})
            if done.status_code != 200:
                raise SystemExit(f"reject: {done.status_code} {done.text[:300]}")
    finally:
        api.close()
        writer.close()
    return {
        "post": summary(post_ms),
        "post_to_held": summary(appear_ms),
        "gets_needed_max": max(polls),
        "gets_needed_mean": round(statistics.mean(polls), 2),
    }


def bench_queue(base: str, desk: httpx.Client, token: str, rounds: int) -> dict[str, Any]:
    api = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"})
    try:
        counts = api.get("/api/v1/admin/counts").json()["counts"]
        page, page_bytes = timed_gets(desk, "/admin", rounds)
        listing, list_bytes = timed_gets(api, "/api/v1/admin/queues/held", rounds)
        first = api.get("/api/v1/admin/queues/held").json()
        deep_cursor = first["next_cursor"]
        for _ in range(80):  # about page 80 of 200: a moderator far down the queue
            deep_cursor = api.get(
                "/api/v1/admin/queues/held", params={"cursor": deep_cursor}
            ).json()["next_cursor"]
        deep, _ = timed_gets(desk, f"/admin?cursor={deep_cursor}", rounds)
        counted, _ = timed_gets(api, "/api/v1/admin/counts", rounds)
    finally:
        api.close()
    items = len(first["items"])
    marks = sum(len(item["marked"]) for item in first["items"])
    return {
        "held": counts["held"],
        "items_per_page": items,
        "marked_spans_on_page": marks,
        "page_html": {**summary(page), "bytes": page_bytes},
        "page_html_deep": summary(deep),
        "api_list": {**summary(listing), "bytes": list_bytes},
        "api_counts": summary(counted),
    }


def bench_export(url: str, workdir: Path) -> dict[str, Any]:
    out = workdir / "audit.csv"
    started = time.perf_counter()
    export = ["audit", "export", "--format", "csv", "-o", str(out), "--database-url", url]
    result = subprocess.run(
        [*thread_read.rejoinder_command(), *export],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=workdir,
    )
    took = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"audit export failed:\n{result.stdout}\n{result.stderr}")
    with out.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1  # the header
    return {
        "seconds": round(took, 2),
        "rows": rows,
        "bytes": out.stat().st_size,
        "rows_per_s": round(rows / took),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        help="use this EMPTY database instead of a fresh SQLite file, e.g. postgresql+psycopg://...",
    )
    parser.add_argument("--redis-url", help="hand REJOINDER_REDIS_URL to the server (PostgreSQL)")
    parser.add_argument("--posts", type=int, default=50, help="held posts timed in (a)")
    parser.add_argument("--held", type=int, default=10_000, help="held comments for (b)")
    parser.add_argument("--rounds", type=int, default=30, help="timed GETs per page in (b)")
    parser.add_argument("--audit", type=int, default=100_000, help="audit entries for (c)")
    args = parser.parse_args()
    if args.held < 4100:
        parser.error("--held must be at least 4,100 (the deep page is about page 80)")
    workdir = Path(tempfile.mkdtemp(prefix="rejoinder-bench-desk-"))
    url = args.database_url or f"sqlite:///{workdir / 'desk.db'}"
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    redis_url = args.redis_url or os.environ.get("REJOINDER_REDIS_URL")
    started = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    print(f"load average (1, 5, 15 min) at the start: {load_before} on {os.cpu_count()} CPUs")
    os.environ["REJOINDER_MODERATION"] = "true"  # and the model, as by default
    server = None
    try:
        article_ids, slug, token = prepare(url)
        port = thread_read.free_port()
        base = f"http://127.0.0.1:{port}"
        server = thread_read.start_server(url, port, workdir, redis_url)
        workers = thread_read.count_workers(server.pid)
        print(f"server: rejoinder serve on 127.0.0.1:{port}, {workers} workers, {backend}")
        desk = log_in(base)

        post = bench_post_to_held(base, desk, token, slug, args.posts)
        print(f"(a) post -> Held, {args.posts} held posts, each then rejected:")
        print(
            f"    POST {post['post']['p50_ms']} ms p50, {post['post']['p95_ms']} ms p95; "
            f"until the Held page lists it {post['post_to_held']['p50_ms']} ms p50, "
            f"{post['post_to_held']['p95_ms']} ms p95 "
            f"(GETs needed: at most {post['gets_needed_max']})"
        )

        seeded = seed_held(url, article_ids, args.held)
        analyze(url)
        print(f"(b) seeded {args.held:,} held comments in {seeded:.1f} s")
        queue = bench_queue(base, desk, token, args.rounds)
        print(
            f"    Held count {queue['held']:,}; {queue['items_per_page']} items a page, "
            f"{queue['marked_spans_on_page']} marked spans on the first"
        )
        for name, label in ROWS:
            row = queue[name]
            print(
                f"    {label:<17} p50 {row['p50_ms']:>7.2f} ms  p95 {row['p95_ms']:>7.2f} ms  "
                f"max {row['max_ms']:>7.2f} ms  ({row['n']} GETs)"
            )
        desk.close()

        audited = seed_audit(url, args.audit)
        analyze(url)
        print(f"(c) added {args.audit:,} audit entries in {audited:.1f} s")
        export = bench_export(url, workdir)
        print(
            f"    rejoinder audit export --format csv: {export['rows']:,} rows, "
            f"{export['bytes'] / 1e6:.1f} MB in {export['seconds']} s "
            f"({export['rows_per_s']:,} rows/s)"
        )
        thread_read.stop_server(server)
        server = None
    finally:
        if server is not None:
            thread_read.stop_server(server)
    load_after = [round(x, 2) for x in os.getloadavg()]
    took = time.perf_counter() - started
    print(f"load average at the end: {load_after}; bench took {took:.0f} s")
    shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "post_to_held": post,
        "queue": queue,
        "audit_export": export,
        "backend": backend,
        "workers": workers,
        "cpus": os.cpu_count(),
        "load_start": load_before,
        "load_end": load_after,
        "seconds": round(took),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
