"""Bench moderation: the model on one core (load, p50/p99, batch) and posting over HTTP.

Posting is measured against the same kind of server, started as a user would (`rejoinder
serve`, default workers) on a fresh SQLite file, with wrk posting over 8 connections:

* moderation off, and the full pipeline, with one civil comment numbered anew each time (a
  Lua script numbers them): the cascade sends this one to the encoder, so it is the
  expensive path, every comment through every phase and the encoder;
* the full pipeline on the demo's comments in turn (each made unique by a number), which
  the cascade sends to the encoder about as often as real civil news comments (the share
  is printed): the path most comments take; and that again with a worker per core.

Each request comes from a different writer, so the duplicate phase has nothing to refuse.
The site's flood and rate limits are switched off in its policy for this bench, since eight
clients on 127.0.0.1 are one address: the rate phase still runs its reads, it just never
says no. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import thread_read

from rejoinder.core.models import ArticleDraft
from rejoinder.core.text import render_article
from rejoinder.store import articles as article_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade

GOALS = {
    "model_p50_ms_at_most": 10.0,
    "model_p99_ms_at_most": 30.0,
    "model_batch_per_s_at_least": 500.0,
    "posting_full_pipeline_per_s_at_least": 172.0,  # Isso's posting rate here, no moderation
}
LIMIT_NAMES = (
    "flood_seconds per_minute per_hour top_level_per_thread surge_per_minute duplicate_site_limit"
)
OPEN_LIMITS = dict.fromkeys(LIMIT_NAMES.split(), None)

LUA = textwrap.dedent("""
    -- thread_id is a global that setup() gives each wrk thread, so no two threads repeat.
    -- and init() gets a run number from the command line, so no two runs repeat either.
    local counter = 0
    local next_id = 0
    local run = 0
    init = function(args)
      run = tonumber(args[1]) or 0
    end
    setup = function(thread)
      next_id = next_id + 1
      thread:set("thread_id", next_id)
    end
    request = function()
      counter = counter + 1
      local n = run * 1000000000 + (thread_id or 0) * 10000000 + counter
      local body = string.format(
        '{"body": "Comment %d on the council vote: the bus lane pilot deserves a fair test, '
        .. 'and the figures in the report should be published before anyone decides.", '
        .. '"name": "Reader %d", "email": "reader%d@example.org"}', n, n, n)
      return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
    end
""")

LUA_TEXTS = textwrap.dedent("""
    -- the same numbering as above; the bodies come from a table the bench writes in
    local counter = 0
    local next_id = 0
    local run = 0
    init = function(args)
      run = tonumber(args[1]) or 0
    end
    setup = function(thread)
      next_id = next_id + 1
      thread:set("thread_id", next_id)
    end
    request = function()
      counter = counter + 1
      local n = run * 1000000000 + (thread_id or 0) * 10000000 + counter
      local body = string.format('{"body": %s (%d)", "name": "Reader %d", '
        .. '"email": "reader%d@example.org"}', texts[counter % #texts + 1], n, n, n)
      return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
    end
""")


def lua_texts(texts: list[str]) -> str:
    """A Lua table of the texts as JSON strings without their closing quote (the script
    adds a number and closes it), in long brackets so that nothing needs escaping."""
    items = ",\n".join(f"[==[{json.dumps(t)[:-1]}]==]" for t in texts)
    return f"texts = {{\n{items}\n}}\n" + LUA_TEXTS


MODEL_PROBE = textwrap.dedent("""
    import json, os, statistics, sys, time
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    texts = json.loads(sys.stdin.read())
    preset = os.environ.get("BENCH_PRESET") or None
    t0 = time.perf_counter()
    from rejoinder.classifier.model import Classifier
    clf = Classifier.load()
    load_s = time.perf_counter() - t0
    for text in texts[:20]:
        clf.score(text, preset=preset)  # warm up
    times = []
    for text in texts:
        t = time.perf_counter()
        clf.score(text, preset=preset)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    t = time.perf_counter()
    for start in range(0, len(texts), 64):
        clf.score_batch(texts[start:start + 64], preset=preset)
    batch_s = time.perf_counter() - t
    print(json.dumps({
        "load_s": round(load_s, 3),
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
        "batch_per_s": round(len(texts) / batch_s, 1),
        "comments": len(texts),
    }))
""")


def sample_texts(count: int) -> list[str]:
    """Real comments to score, abusive and civil: the project's labelled examples and the
    demo's discussions, repeated in turn up to `count` (a filler of civil words would let the
    cascade skip the encoder far more often than real comments do)."""
    root = Path(__file__).resolve().parents[1]
    texts = [
        json.loads(line)["text"]
        for line in (root / "data" / "labelled" / "own.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    for thread in sorted((root / "src" / "rejoinder" / "demo" / "discussions").glob("*.json")):
        texts += [item["body"] for item in json.loads(thread.read_text(encoding="utf-8"))]
    return [texts[i % len(texts)] for i in range(count)]


def demo_texts() -> list[str]:
    root = Path(__file__).resolve().parents[1] / "src" / "rejoinder" / "demo" / "discussions"
    return [
        item["body"]
        for thread in sorted(root.glob("*.json"))
        for item in json.loads(thread.read_text(encoding="utf-8"))
        if item["body"].strip()
    ]


def encoder_share(texts: list[str], preset: str | None = None) -> float:
    """Of these texts, the share the cascade sends to the encoder."""
    from rejoinder.classifier.model import Classifier

    classifier = Classifier.load()
    for text in texts:
        classifier.score(text, preset=preset)
    return round(classifier.encoder_calls / max(len(texts), 1), 3)


def bench_model(count: int, preset: str | None = None) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", MODEL_PROBE],
        input=json.dumps(sample_texts(count)),
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1", "BENCH_PRESET": preset or ""},
    )
    if result.returncode != 0:
        raise RuntimeError(f"the model probe failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def prepare(url: str, preset: str | None = None) -> str:
    """A fresh database with one open article and a policy without rate limits (and with
    the model `preset`, if given)."""
    db = Database(url)
    upgrade(db)
    now = datetime.now(UTC)
    with db.write() as conn:
        site = site_store.ensure_default_site(conn, "Bench", now)
        settings = site_store.get_site_settings(conn, site.id)
        settings["policy"] = {**settings.get("policy", {}), **OPEN_LIMITS}
        if preset:
            settings["policy"]["model_preset"] = preset
        site_store.update_site_settings(conn, site.id, settings)
        draft = ArticleDraft(
            slug="posting-bench",
            title="Posting bench",
            dek="",
            author="",
            body_markdown="An article to comment on.",
            published_at=now,
        )
        article_store.add_article(conn, site.id, draft, render_article(draft.body_markdown), now)
    db.dispose()
    return "posting-bench"


def start(url: str, port: int, workdir: Path, moderation: bool, workers: int | None) -> Any:
    os.environ["REJOINDER_MODERATION"] = "true" if moderation else "false"
    if workers:
        os.environ["REJOINDER_WORKERS"] = str(workers)
    try:
        return thread_read.start_server(url, port, workdir, None)
    finally:
        del os.environ["REJOINDER_MODERATION"]
        os.environ.pop("REJOINDER_WORKERS", None)


def bench_posting(
    wrk: str,
    workdir: Path,
    name: str,
    lua: str,
    duration: int,
    *,
    moderation: bool = True,
    workers: int | None = None,
    preset: str | None = None,
) -> dict[str, Any]:
    url = f"sqlite:///{workdir / (name + '.db')}"
    slug = prepare(url, preset)
    port = thread_read.free_port()
    server = start(url, port, workdir, moderation, workers)
    try:
        target = f"http://127.0.0.1:{port}/api/v1/articles/{slug}/comments"
        if moderation:  # the model loads in the background at start: wait until it judges
            check = f"http://127.0.0.1:{port}/api/v1/moderation/check"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                scores = httpx.post(check, json={"text": "Warm up."}, timeout=30).json()
                if scores.get("scores"):
                    break
                time.sleep(0.2)
        script = workdir / f"{name}.lua"
        script.write_text(lua)
        base = [wrk, "-t2", "-c8", "--timeout", "10s", "-s", str(script)]
        subprocess.run(
            [*base, "-d1s", target, "--", "1"], capture_output=True, timeout=60, check=True
        )
        result = subprocess.run(
            [*base, f"-d{duration}s", "--latency", target, "--", "2"],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        )
        figures = thread_read.parse_wrk(result.stdout)
        counts = httpx.get(f"http://127.0.0.1:{port}/api/v1/counts", params={"slug": slug}).json()
        figures["published_total"] = counts["counts"].get(slug, 0)
        figures["workers"] = workers or "default"
        return figures
    finally:
        thread_read.stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--comments", type=int, default=1000, help="comments the model scores")
    parser.add_argument("--preset", help="the model preset (default: the shipped default)")
    args = parser.parse_args()
    wrk = thread_read.ensure_wrk()
    model = bench_model(args.comments, args.preset)
    print(
        f"model: load {model['load_s']} s; one core: p50 {model['p50_ms']} ms, "
        f"p99 {model['p99_ms']} ms; batch {model['batch_per_s']} comments/s"
    )
    texts = demo_texts()
    share = encoder_share(texts, args.preset)
    cores = os.cpu_count() or 1
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rejoinder-bench-") as tmp:
        work = Path(tmp)
        plan: list[tuple[str, str, dict[str, Any]]] = [
            ("moderation_off", LUA, {"moderation": False}),
            ("full_pipeline_encoder_every_time", LUA, {}),
            ("full_pipeline_demo_comments", lua_texts(texts), {}),
        ]
        if cores > 1:  # the same two again with a worker per core (default: one on 2 cores)
            per_core: dict[str, Any] = {"workers": cores}
            plan += [
                ("full_pipeline_encoder_every_time_worker_per_core", LUA, per_core),
                ("full_pipeline_demo_comments_worker_per_core", lua_texts(texts), per_core),
            ]
        for name, lua, options in plan:
            runs[name] = figures = bench_posting(
                wrk, work, name, lua, args.duration, preset=args.preset, **options
            )
            print(
                f"posting, {name.replace('_', ' ')} ({figures['workers']} workers): "
                f"{figures['rps']} comments/s, p50 {figures['p50_ms']} ms, "
                f"p99 {figures['p99_ms']} ms, non-2xx {figures['non_2xx']}"
            )
    print(f"the demo's {len(texts)} comments: the cascade sends {share:.0%} to the encoder")
    # The goal is read on the comments most posts are like, with the server's default workers
    # and, where there is more than one core, with a worker per core (both are printed).
    on = max(
        (v for k, v in runs.items() if k.startswith("full_pipeline_demo_comments")),
        key=lambda figures: figures["rps"],
    )
    met = {
        "model_p50_ms_at_most": model["p50_ms"] <= GOALS["model_p50_ms_at_most"],
        "model_p99_ms_at_most": model["p99_ms"] <= GOALS["model_p99_ms_at_most"],
        "model_batch_per_s_at_least": model["batch_per_s"] >= GOALS["model_batch_per_s_at_least"],
        "posting_full_pipeline_per_s_at_least": on["rps"]
        >= GOALS["posting_full_pipeline_per_s_at_least"],
    }
    for goal, ok in met.items():
        print(f"goal {goal:<40} {GOALS[goal]:>8}  {'met' if ok else 'NOT met'}")
    report = {
        "preset": args.preset,
        "model": model,
        "posting": runs,
        "demo_encoder_share": share,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "goals": GOALS,
        "met": met,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
