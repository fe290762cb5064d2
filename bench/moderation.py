"""Bench moderation: the model on one core (load, p50/p99, batch) and posting over HTTP, beside
Isso, the peer that judges nothing.

Posting is measured against the same kind of server, started as a user would (`rejoinder
serve`, default workers) on a fresh SQLite file, with wrk posting over 8 connections:

* Isso 0.14 under gunicorn with 2 workers (installed by this bench into its own virtualenv
  under `bench/.cache`), its moderation off and its guard on with limits no bench reaches,
  posted the demo's comments in turn (each made unique by a number);
* Rejoinder with moderation off, and with the full pipeline, on the same comments: the
  cascade sends them to the encoder about as often as real civil news comments (the share
  is printed), the path most comments take;
* the full pipeline on one civil comment numbered anew each time: the cascade sends this one
  to the encoder, so it is the expensive path, every comment through every phase and the
  encoder;
* where the default worker count is not one per core, the full pipeline again with a worker
  per core.

Each request comes from a different writer, so the duplicate phase has nothing to refuse.
The site's flood and rate limits are switched off in its policy for this bench, since eight
clients on 127.0.0.1 are one address: the rate phase still runs its reads, it just never
says no. Beside each rate: the server's CPU time per post and the peak of its processes'
memory (the sum of Pss, which counts a page shared by forked workers once). The last line is
one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from rejoinder.settings import load_settings
from rejoinder.store import articles as article_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade

GOALS = {
    "model_p50_ms_at_most": 10.0,
    "model_p99_ms_at_most": 30.0,
    "model_batch_per_s_at_least": 500.0,
    # the full pipeline at the default settings against Isso, measured in the same run
    "posting_full_pipeline_times_isso_at_least": 1.5,
}
LIMIT_NAMES = (
    "flood_seconds per_minute per_hour top_level_per_thread surge_per_minute duplicate_site_limit"
)
OPEN_LIMITS = dict.fromkeys(LIMIT_NAMES.split(), None)

LUA = textwrap.dedent("""
    -- thread_id is a global that setup() gives each wrk thread, so no two threads repeat.
    -- and init() gets a run number from the command line, so no two runs repeat either,
    -- and the form token of the article's page, which every post carries as a page would.
    local counter = 0
    local next_id = 0
    local run = 0
    local extra = ""
    init = function(args)
      run = tonumber(args[1]) or 0
      if args[2] then extra = ', "form_token": "' .. args[2] .. '"' end
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
        .. '"name": "Reader %d", "email": "reader%d@example.org"%s}', n, n, n, extra)
      return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
    end
""")

LUA_TEXTS = textwrap.dedent("""
    -- the same numbering and token as above; the bodies come from a table the bench writes in, and
    -- the field names (Rejoinder's or Isso's) from the bench too
    local counter = 0
    local next_id = 0
    local run = 0
    local extra = ""
    init = function(args)
      run = tonumber(args[1]) or 0
      if args[2] then extra = ', "form_token": "' .. args[2] .. '"' end
    end
    setup = function(thread)
      next_id = next_id + 1
      thread:set("thread_id", next_id)
    end
    request = function()
      counter = counter + 1
      local n = run * 1000000000 + (thread_id or 0) * 10000000 + counter
      local body = string.format('{"' .. text_field .. '": %s (%d)", "' .. name_field
        .. '": "Reader %d", "email": "reader%d@example.org"%s}', texts[counter % #texts + 1],
        n, n, n, extra)
      return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
    end
""")


def lua_texts(texts: list[str], text_field: str = "body", name_field: str = "name") -> str:
    """A Lua table of the texts as JSON strings without their closing quote (the script
    adds a number and closes it), in long brackets so that nothing needs escaping; posted
    as `text_field` with the writer's name as `name_field` (Isso calls them text, author)."""
    items = ",\n".join(f"[==[{json.dumps(t)[:-1]}]==]" for t in texts)
    fields = f'text_field = "{text_field}"\nname_field = "{name_field}"\n'
    return f"texts = {{\n{items}\n}}\n{fields}" + LUA_TEXTS


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
    for thread in sorted((root / "src/rejoinder/usecases/demo/discussions").glob("*.json")):
        texts += [item["body"] for item in json.loads(thread.read_text(encoding="utf-8"))]
    return [texts[i % len(texts)] for i in range(count)]


def demo_texts() -> list[str]:
    root = Path(__file__).resolve().parents[1] / "src" / "rejoinder" / "usecases" / "demo"
    root = root / "discussions"
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


ISSO_VERSION = "0.14.0"
ISSO_CONFIG = textwrap.dedent("""
    [general]
    dbpath = {db}
    host = {url}
    [moderation]
    enabled = false
    [guard]
    enabled = true
    ratelimit = 1000000
    direct-reply = 1000000
    reply-to-self = true
    require-author = false
    require-email = false
    [server]
    listen = {url}
""")


def ensure_isso(cache: Path) -> Path:
    """Isso and gunicorn in a virtualenv of their own under `cache` (made with pip from PyPI
    the first time, then reused); the path of its gunicorn."""
    venv = cache / "isso-venv"
    gunicorn = venv / "bin" / "gunicorn"
    marker = venv / f".isso-{ISSO_VERSION}"
    if not marker.exists():
        print(f"installing Isso {ISSO_VERSION} and gunicorn into {venv} (once)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = str(venv / "bin" / "pip")
        subprocess.run(
            [
                pip,
                "install",
                "-q",
                "--disable-pip-version-check",
                f"isso=={ISSO_VERSION}",
                "gunicorn",
            ],
            check=True,
            timeout=600,
        )
        marker.touch()
    return gunicorn


def bench_isso(gunicorn: Path, wrk: str, workdir: Path, lua: str, duration: int) -> dict[str, Any]:
    """Isso under gunicorn with 2 workers on a fresh SQLite file, its moderation off and its
    guard on with limits no bench reaches; the same wrk run as Rejoinder's."""
    port = thread_read.free_port()
    url = f"http://127.0.0.1:{port}/"
    config = workdir / "isso.cfg"
    config.write_text(ISSO_CONFIG.format(db=workdir / "isso.db", url=url))
    log = open(workdir / "isso.log", "ab")  # noqa: SIM115 - the child keeps its own handle
    try:
        server = subprocess.Popen(
            [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "isso.run"],
            env={**os.environ, "ISSO_SETTINGS": str(config)},
            cwd=workdir,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    finally:
        log.close()
    try:
        # The first comment names the thread's title: without one, Isso fetches the page.
        target = f"{url}new?uri=/posting-bench"
        first = {"text": "The first comment.", "author": "A", "title": "Posting bench"}
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.post(target, json=first, timeout=30).status_code == 201:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log_text = (workdir / "isso.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"Isso did not take a first comment:\n{log_text}")
            time.sleep(0.2)
        figures = run_wrk(wrk, workdir, "isso", lua, duration, target, server.pid)
        figures["workers"] = 2
        return figures
    finally:
        thread_read.stop_server(server)


def run_wrk(
    wrk: str,
    workdir: Path,
    name: str,
    lua: str,
    duration: int,
    target: str,
    pid: int,
    token: str = "",
) -> dict[str, Any]:
    """A 1-second warm-up, then the timed run (posting `token` as the form's, if given);
    wrk's figures, the server's CPU time per post and the peak memory of the server's
    processes during the run (sum of Pss)."""
    script = workdir / f"{name}.lua"
    script.write_text(lua)
    base = [wrk, "-t2", "-c8", "--timeout", "10s", "-s", str(script)]
    extra = [token] if token else []
    subprocess.run(
        [*base, "-d1s", target, "--", "1", *extra], capture_output=True, timeout=60, check=True
    )
    memory = thread_read.MemorySampler(pid)
    memory.start()
    cpu_before = thread_read.cpu_seconds(pid)
    try:
        result = subprocess.run(
            [*base, f"-d{duration}s", "--latency", target, "--", "2", *extra],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        )
    finally:
        memory.stop()
    figures = thread_read.parse_wrk(result.stdout)
    used = thread_read.cpu_seconds(pid) - cpu_before
    figures["server_cpu_ms_per_post"] = round(1000 * used / max(1, figures["requests"]), 3)
    figures["peak_pss_mb"] = round(memory.peak_pss_kb / 1024, 1)
    figures["processes"] = memory.processes
    return figures


FORM_SECONDS = 3.5  # older than the bots phase's default minimum (3 s), as a person's form is


def form_token(page: str) -> str:
    """The signed form token of an article page (its form's `issued` field), which the
    widget posts as `form_token`."""
    found = re.search(r'name="issued" value="([^"]+)"', httpx.get(page, timeout=30).text)
    if not found:
        raise RuntimeError(f"no form token on {page}")
    return found[1]


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
        base = f"http://127.0.0.1:{port}"
        target = f"{base}/api/v1/articles/{slug}/comments"
        token, issued = form_token(f"{base}/articles/{slug}"), time.monotonic()
        if moderation:  # the model loads in the background at start: wait until it judges
            check = f"http://127.0.0.1:{port}/api/v1/moderation/check"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                scores = httpx.post(check, json={"text": "Warm up."}, timeout=30).json()
                if scores.get("scores"):
                    break
                time.sleep(0.2)
        # A person takes longer than the bots phase's 3 s to write; so must the bench.
        time.sleep(max(0.0, issued + FORM_SECONDS - time.monotonic()))
        figures = run_wrk(wrk, workdir, name, lua, duration, target, server.pid, token)
        counts = httpx.get(f"http://127.0.0.1:{port}/api/v1/counts", params={"slug": slug}).json()
        figures["published_total"] = counts["counts"].get(slug, 0)
        figures["workers"] = thread_read.count_workers(server.pid)
        return figures
    finally:
        thread_read.stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--comments", type=int, default=1000, help="comments the model scores")
    parser.add_argument("--preset", help="the model preset (default: the shipped default)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(__file__).resolve().parent / ".cache",
        help="where Isso's virtualenv is kept between runs (default: bench/.cache)",
    )
    args = parser.parse_args()
    wrk = thread_read.ensure_wrk()
    gunicorn = ensure_isso(args.cache)
    load_before = os.getloadavg()[0]
    model = bench_model(args.comments, args.preset)
    print(
        f"model: load {model['load_s']} s; one core: p50 {model['p50_ms']} ms, "
        f"p99 {model['p99_ms']} ms; batch {model['batch_per_s']} comments/s"
    )
    texts = demo_texts()
    share = encoder_share(texts, args.preset)
    cores = os.cpu_count() or 1
    default_workers = load_settings().workers
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rejoinder-bench-") as tmp:
        work = Path(tmp)
        demo = lua_texts(texts)
        isso = bench_isso(gunicorn, wrk, work, lua_texts(texts, "text", "author"), args.duration)
        print(
            f"posting, Isso {ISSO_VERSION}, demo comments (gunicorn, 2 workers): "
            f"{isso['rps']} comments/s, p50 {isso['p50_ms']} ms, p99 {isso['p99_ms']} ms, "
            f"non-2xx {isso['non_2xx']}, {isso['server_cpu_ms_per_post']} ms CPU a post, "
            f"peak {isso['peak_pss_mb']} MB (Pss)"
        )
        plan: list[tuple[str, str, dict[str, Any]]] = [
            ("moderation_off", demo, {"moderation": False}),
            ("full_pipeline_demo_comments", demo, {}),
            ("full_pipeline_encoder_every_time", LUA, {}),
        ]
        if cores > 1 and default_workers != cores:  # the same two with a worker per core
            per_core: dict[str, Any] = {"workers": cores}
            plan += [
                ("full_pipeline_demo_comments_worker_per_core", demo, per_core),
                ("full_pipeline_encoder_every_time_worker_per_core", LUA, per_core),
            ]
        for name, lua, options in plan:
            runs[name] = figures = bench_posting(
                wrk, work, name, lua, args.duration, preset=args.preset, **options
            )
            print(
                f"posting, {name.replace('_', ' ')} ({figures['workers']} workers): "
                f"{figures['rps']} comments/s, p50 {figures['p50_ms']} ms, "
                f"p99 {figures['p99_ms']} ms, non-2xx {figures['non_2xx']}, "
                f"{figures['server_cpu_ms_per_post']} ms CPU a post, "
                f"peak {figures['peak_pss_mb']} MB (Pss)"
            )
    print(f"the demo's {len(texts)} comments: the cascade sends {share:.0%} to the encoder")
    # The posting goal is read on the comments most posts are like, at the default settings,
    # against Isso's rate in this same run.
    ratio = runs["full_pipeline_demo_comments"]["rps"] / max(isso["rps"], 0.1)
    print(f"full pipeline at the default settings / Isso: {ratio:.2f}")
    met = {
        "model_p50_ms_at_most": model["p50_ms"] <= GOALS["model_p50_ms_at_most"],
        "model_p99_ms_at_most": model["p99_ms"] <= GOALS["model_p99_ms_at_most"],
        "model_batch_per_s_at_least": model["batch_per_s"] >= GOALS["model_batch_per_s_at_least"],
        "posting_full_pipeline_times_isso_at_least": ratio
        >= GOALS["posting_full_pipeline_times_isso_at_least"],
    }
    for goal, ok in met.items():
        print(f"goal {goal:<42} {GOALS[goal]:>6}  {'met' if ok else 'NOT met'}")
    report = {
        "preset": args.preset,
        "model": model,
        "isso": isso,
        "posting": runs,
        "full_pipeline_times_isso": round(ratio, 3),
        "demo_encoder_share": share,
        "cpus": cores,
        "default_workers": default_workers,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "goals": GOALS,
        "met": met,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
