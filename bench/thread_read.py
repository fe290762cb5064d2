"""Bench the read path of large threads: the first page of 1,000 and 10,000 comments, with wrk."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from rejoinder.core.models import ArticleDraft, Status
from rejoinder.core.text import render_article, render_comment
from rejoinder.store import articles as article_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade
from rejoinder.store.schema import comments

SIZES = (1_000, 10_000)
REPLY_SHARE = 0.3
SEED = 20240611  # fixed: every run seeds the same threads
CONNECTIONS = {"c1": (1, 1), "c8": (2, 8)}  # name: (wrk threads, connections)
GOALS: dict[str, float] = {
    "api_10000_c1_p50_ms_below": 10,
    "html_10000_c1_p50_ms_below": 20,
    "api_10000_c8_rps_at_least": 2_000,
    "html_10000_c8_rps_at_least": 1_500,
    # Pss, not VmRSS: forked workers share the pages their parent loaded (the model among
    # them), which a sum of VmRSS would count once per process.
    "peak_pss_mb_below": 150,
}


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words("""Amara Ana Andrei Anika Arjun Astrid Bea Bruno Camille Carlos Chen Chiara Dara Dev
Diego Elif Elena Emeka Erik Farah Fatima Felix Gabriel Grace Hana Hugo Ines Ivan Jamal Jana Jonas
Julia Kai Kemal Kofi Lars Laura Leila Luca Lucia Mads Maya Mei Miguel Mira Nadia Niamh Nikos Noor
Olga Omar Oskar Paul Priya Rafael Rosa Ruth Sami Sara Sean Sofia Tariq Tomas Una Vera Wei Yara
Yusuf Zoe""")
LAST = _words("""Abara Adeyemi Alvarez Andersen Bakker Banerjee Becker Brennan Castillo Chen
Costa Dahl Dubois Eriksen Fischer Fontaine Garcia Gomez Haddad Hansen Horvat Ivanova Jensen
Kaur Kim Kowalski
Larsen Lindqvist Lopez Marino Meyer Moreau Murphy Nakamura Nguyen Novak Okafor Oliveira Park Patel
Petrov Popescu Quinn Rahman Reyes Rossi Santos Schmidt Silva Sokolov Tanaka Torres Varga Wagner
Walsh Weber Yilmaz Zhang Ziegler""")
WORDS = _words("""the council budget vote city housing rent transit bus line school teachers parents
report data survey figures numbers year month week decade policy plan proposal mayor minister
government opposition party election campaign voters district neighbourhood street bridge park
river water energy price prices cost costs tax taxes income wages jobs workers union strike
company market growth inflation interest rates bank loan mortgage tenants landlords building
permit zoning density traffic cycling lane parking safety police court judge ruling appeal law
bill amendment committee hearing evidence study research scientists climate heat flood storm
drought harvest farmers food hospital nurses doctors waiting list clinic care elderly children
library museum festival history archive article reporter editor story headline source quote
interview correction context point argument question answer problem solution idea example detail
I you we they it this that these those agree disagree think believe doubt wonder suspect expect
remember forget notice read wrote said asked argued claimed showed missed ignored explained
actually really probably clearly simply rarely often never always still already perhaps maybe
quite rather very fairly honestly frankly again later earlier today yesterday tomorrow here there
good bad better worse fair unfair cheap expensive late early slow fast local national public
private small large new old long short simple complex serious obvious strange useful important
and but or because although while since unless so yet also even only just not no more less most
few many some every each other another same different own whole half third first last next
""")
CLOSERS = (".", ".", ".", ".", "?", "!")


@dataclass(frozen=True)
class Author:
    name: str
    email: str
    website: str | None


@dataclass
class Planned:
    """One comment of a planned thread, before it has a database id."""

    parent: int | None  # index in the plan
    depth: int
    number: int
    author: Author
    body: str
    created_at: datetime
    id: int = 0


def make_authors(rng: random.Random, count: int) -> list[Author]:
    """People who come back: a few hundred commenters, some with a website."""
    authors = []
    for _ in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first}.{last}".lower()
        website = (
            f"https://{last.lower()}{rng.randint(1, 99)}.example.org/"
            if rng.random() < 0.15
            else None
        )
        authors.append(Author(f"{first} {last}", f"{handle}@example.com", website))
    return authors


def make_sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.08:
        spot = rng.randrange(len(words))
        words[spot] = f"*{words[spot]}*"
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:] + rng.choice(CLOSERS)


def make_body(rng: random.Random) -> str:
    """Between 200 and 600 characters of varied words, sometimes in two paragraphs,
    sometimes with a quote or a link, as commenters write."""
    target = rng.randint(200, 600)
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) < target:
        sentences.append(make_sentence(rng))
    while len(sentences) > 1 and sum(len(s) + 1 for s in sentences) - 1 > 600:
        sentences.pop()  # what is left is still over 200: the last sentence crossed 600
    if len(sentences) > 3 and rng.random() < 0.35:
        cut = rng.randint(1, len(sentences) - 1)
        text = " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    else:
        text = " ".join(sentences)
    link = f" [Source](https://example.org/report/{rng.randint(1, 999)})."
    if rng.random() < 0.05 and len(text) + len(link) <= 600:
        text += link
    quote = "> " + make_sentence(rng) + "\n\n"
    if rng.random() < 0.05 and len(text) + len(quote) <= 600:
        text = quote + text
    return text


def plan_thread(
    rng: random.Random, size: int, authors: list[Author], start: datetime
) -> list[Planned]:
    """`size` comments, REPLY_SHARE of them replies to a comment of the recent conversation
    (often to another reply, so branches reach depth 3 and more), in time order."""
    replies = set(rng.sample(range(1, size), round(size * REPLY_SHARE)))
    step = timedelta(seconds=max(1, 3 * 86_400 // size))
    siblings: Counter[int | None] = Counter()
    plan: list[Planned] = []
    for index in range(size):
        parent: int | None = None
        if index in replies:
            window = range(max(0, index - 150), index)
            recent_replies = [i for i in window if plan[i].parent is not None]
            pool = recent_replies if recent_replies and rng.random() < 0.45 else window
            parent = rng.choice(pool)
        siblings[parent] += 1
        plan.append(
            Planned(
                parent=parent,
                depth=0 if parent is None else plan[parent].depth + 1,
                number=siblings[parent],
                author=rng.choice(authors),
                body=make_body(rng),
                created_at=start
                + step * index
                + timedelta(seconds=rng.randint(0, 59) % step.seconds),
            )
        )
    return plan


def root_of(plan: list[Planned], index: int) -> int | None:
    """The index of the top-level comment over `index` (None for a top-level comment)."""
    if plan[index].parent is None:
        return None
    while plan[index].parent is not None:
        index = plan[index].parent  # type: ignore[assignment]
    return index


def insert_plan(conn: Any, article_id: int, plan: list[Planned]) -> None:
    """Bulk insert, one executemany per depth: each level learns its parents' ids."""
    roots = [root_of(plan, i) for i in range(len(plan))]
    by_depth: dict[int, list[int]] = {}
    for index, item in enumerate(plan):
        by_depth.setdefault(item.depth, []).append(index)
    statement = insert(comments).returning(comments.c.id, sort_by_parameter_order=True)
    for depth in sorted(by_depth):
        indexes = by_depth[depth]
        rows = []
        for index in indexes:
            item = plan[index]
            root = roots[index]
            rows.append(
                {
                    "article_id": article_id,
                    "parent_id": None if item.parent is None else plan[item.parent].id,
                    "root_id": None if root is None else plan[root].id,
                    "depth": item.depth,
                    "number": item.number,
                    "author_name": item.author.name,
                    "author_email": item.author.email,
                    "author_website": item.author.website,
                    "body_markdown": item.body,
                    # Rendered as posting renders it, so the page is as heavy as a real one.
                    "body_html": render_comment(item.body),
                    "status": Status.PUBLISHED.value,
                    "created_at": item.created_at,
                    "edited_at": None,
                    "imported": False,
                    "notify_replies": False,
                }
            )
        ids = conn.execute(statement, rows).scalars().all()
        for index, comment_id in zip(indexes, ids, strict=True):
            plan[index].id = comment_id


def seed(url: str) -> dict[str, str]:
    """Migrate, then one article per size with its thread, one transaction each.
    Returns {size: slug}. An article already there with the right count is reused."""
    db = Database(url)
    try:
        upgrade(db)
        authors = make_authors(random.Random(SEED), 400)
        now = datetime.now(UTC).replace(microsecond=0)
        slugs: dict[str, str] = {}
        for size in SIZES:
            slug = f"bench-thread-{size}"
            rng = random.Random(f"{SEED}-{size}")  # each thread the same whatever else exists
            slugs[str(size)] = slug
            started = time.perf_counter()
            with db.write() as conn:
                site = site_store.ensure_default_site(conn, "Rejoinder", now)
                existing = article_store.get_article(conn, site.id, slug)
                if existing is not None:
                    if existing.comment_count != size:
                        raise SystemExit(
                            f"{slug} exists with {existing.comment_count} comments, not {size}: "
                            "give an empty database."
                        )
                    print(f"seed: {slug} already there with {size:,} comments; reused")
                    continue
                body = "\n\n".join(" ".join(make_sentence(rng) for _ in range(4)) for _ in range(6))
                draft = ArticleDraft(
                    slug=slug,
                    title=f"A discussion of {size:,} comments on the city's housing plan",
                    dek="How the council's new plan would change rents, zoning and transit.",
                    author="Bench Reporter",
                    body_markdown=body,
                    published_at=now - timedelta(days=4),
                )
                article = article_store.add_article(conn, site.id, draft, render_article(body), now)
                plan = plan_thread(rng, size, authors, now - timedelta(days=3))
                insert_plan(conn, article.id, plan)
                article_store.touch_article(conn, article.id, size, now)
            depths = Counter(min(item.depth, 4) for item in plan)
            shape = ", ".join(
                f"depth {'4+' if d == 4 else d}: {n:,}" for d, n in sorted(depths.items())
            )
            took = time.perf_counter() - started
            print(f"seed: {slug}: {size:,} comments ({shape}) in {took:.1f} s")
        return slugs
    finally:
        db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rejoinder_command() -> list[str]:
    """The installed `rejoinder` script beside this Python, as a user runs it."""
    script = Path(sys.executable).with_name("rejoinder")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rejoinder"]


def start_server(
    url: str, port: int, workdir: Path, redis_url: str | None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REJOINDER_DATABASE_URL": url}
    if redis_url:
        env["REJOINDER_REDIS_URL"] = redis_url
    log = open(workdir / "server.log", "ab")  # noqa: SIM115 - the child keeps its own handle
    try:
        process = subprocess.Popen(
            [*rejoinder_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    finally:
        log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with {process.returncode}:\n{server_log(workdir)}"
            )
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(f"the server did not answer /healthz in 60 s:\n{server_log(workdir)}")


def server_log(workdir: Path) -> str:
    path = workdir / "server.log"
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def stop_server(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM the server's process group, SIGKILL what is left after 10 s; the seconds taken."""
    started = time.monotonic()
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Workers or multiprocessing's resource tracker may outlive the supervisor briefly.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return time.monotonic() - started


def descendants(pid: int) -> list[int]:
    """`pid` and every process under it (uvicorn's workers and anything they start)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, Pss) of one process in kB; (0, 0) if it is gone."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class MemorySampler(threading.Thread):
    """Every 0.2 s, the sum of VmRSS (and of Pss, which counts shared pages once) over the
    server and its children; keeps the peaks."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid = pid
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = descendants(self.pid)
            sizes = [memory_kb(pid) for pid in pids]
            self.processes = max(self.processes, sum(1 for rss, _ in sizes if rss))
            self.peak_rss_kb = max(self.peak_rss_kb, sum(rss for rss, _ in sizes))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(pss for _, pss in sizes))
            self._stop_event.wait(0.2)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: installing Debian's package with `apt-get install -y wrk`")
    install = ["apt-get", "install", "-y", "wrk"]
    if subprocess.run(install, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update"], timeout=600, check=True)
        subprocess.run(install, timeout=600, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is still missing after apt-get install")
    return found


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
UNITS_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * UNITS_MS[match[2]]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, p50 and p99 in ms, requests, bytes read and errors from `wrk --latency`."""
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(
        r"^\s+(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read", output, re.MULTILINE
    )
    if not (rps and total and "50" in percentiles and "99" in percentiles):
        raise ValueError(f"cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    requests = int(total[1])
    read = float(total[3]) * UNITS_BYTES[total[4]]
    return {
        "rps": round(float(rps[1]), 1),
        "p50_ms": round(to_ms(percentiles["50"]), 3),
        "p99_ms": round(to_ms(percentiles["99"]), 3),
        "requests": requests,
        "bytes_read_per_response": round(read / requests) if requests else 0,
        "non_2xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by `pid` and the processes under it."""
    ticks = 0
    for each in descendants(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(
    wrk: str, url: str, threads: int, connections: int, duration: int, server_pid: int
) -> dict[str, Any]:
    base = [wrk, f"-t{threads}", f"-c{connections}", "--timeout", "5s"]
    # Warm up first: the worker's read cache, its connections and the CPU's caches.
    subprocess.run([*base, "-d1s", url], capture_output=True, timeout=60, check=True)
    cpu_before = cpu_seconds(server_pid)
    result = subprocess.run(
        [*base, f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    figures = parse_wrk(result.stdout)
    # The server's own CPU per request: steadier than requests/s when the machine is busy.
    used = cpu_seconds(server_pid) - cpu_before
    figures["server_cpu_ms_per_req"] = round(1000 * used / max(1, figures["requests"]), 3)
    return figures


def check_page(url: str) -> dict[str, Any]:
    """One plain GET: the status must be 200; the body's size and what the page holds."""
    response = httpx.get(url, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    facts: dict[str, Any] = {"bytes": len(response.content)}
    if "json" in response.headers.get("content-type", ""):
        data = response.json()
        stack = list(data["comments"])
        shown = 0
        while stack:
            node = stack.pop()
            shown += 1
            stack.extend(node["replies"])
        facts.update(top_level=len(data["comments"]), shown=shown, total=data["top_level_total"])
    else:
        facts["shown"] = response.text.count('<li id="comment-')
    return facts


def measure(
    wrk: str, base: str, slugs: dict[str, str], duration: int, server_pid: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for size, slug in slugs.items():
        results[size] = {}
        for endpoint, path in (
            ("api", f"/api/v1/articles/{slug}/comments"),
            ("html", f"/articles/{slug}"),
        ):
            url = base + path
            page = check_page(url)
            entry: dict[str, Any] = {"bytes": page["bytes"], "comments_shown": page["shown"]}
            for name, (threads, connections) in CONNECTIONS.items():
                figures = run_wrk(wrk, url, threads, connections, duration, server_pid)
                if figures["non_2xx"] or figures["socket_errors"]:
                    raise RuntimeError(f"wrk on {url} ({name}) saw errors: {figures}")
                entry[name] = {k: figures[k] for k in ("rps", "p50_ms", "p99_ms", "requests")}
                for extra in ("bytes_read_per_response", "server_cpu_ms_per_req"):
                    entry[name][extra] = figures[extra]
                print(
                    f"  {size:>6} {endpoint:<4} {name}: {figures['rps']:>8.1f} req/s "
                    f"p50 {figures['p50_ms']:.2f} ms p99 {figures['p99_ms']:.2f} ms "
                    f"server CPU {figures['server_cpu_ms_per_req']:.3f} ms/req",
                    flush=True,
                )
            results[size][endpoint] = entry
    return results


def verdicts(threads: dict[str, Any], peak_pss_mb: float) -> dict[str, bool]:
    big = threads["10000"]
    figures = {
        "api_10000_c1_p50_ms_below": big["api"]["c1"]["p50_ms"],
        "html_10000_c1_p50_ms_below": big["html"]["c1"]["p50_ms"],
        "api_10000_c8_rps_at_least": big["api"]["c8"]["rps"],
        "html_10000_c8_rps_at_least": big["html"]["c8"]["rps"],
        "peak_pss_mb_below": peak_pss_mb,
    }
    return {
        goal: figure < GOALS[goal] if goal.endswith("_below") else figure >= GOALS[goal]
        for goal, figure in figures.items()
    }


def print_table(threads: dict[str, Any], report: dict[str, Any]) -> None:
    header = (
        f"{'thread':>7}  {'endpoint':<8} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'bytes/resp':>10} {'srv CPU ms/req':>14}"
    )
    print()
    print(header)
    print("-" * len(header))
    for size, endpoints in threads.items():
        for endpoint, entry in endpoints.items():
            for name, (_, connections) in CONNECTIONS.items():
                row = entry[name]
                print(
                    f"{int(size):>7,}  {endpoint:<8} {connections:>5} {row['rps']:>9.1f} "
                    f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {entry['bytes']:>10,} "
                    f"{row['server_cpu_ms_per_req']:>14.3f}"
                )
    print()
    print(
        f"peak RSS (sum of VmRSS over {report['processes']} processes, "
        f"{report['workers']} workers): {report['peak_rss_mb']:.1f} MB "
        "(sum of Pss, shared pages counted once: "
        f"{report['peak_pss_mb']:.1f} MB)"
    )
    for goal, target in GOALS.items():
        print(f"goal {goal:<28} {target:>7,}  {'met' if report['met'][goal] else 'NOT met'}")


def count_workers(pid: int) -> int:
    """uvicorn's worker processes: the server's children other than multiprocessing's
    resource tracker (forked workers carry the server's command line, spawned ones
    multiprocessing's); one process serves by itself when there is a single worker."""
    workers = 0
    for child in descendants(pid)[1:]:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            parent = int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if parent == pid and b"resource_tracker" not in command:
            workers += 1
    return workers or 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument(
        "--database-url",
        help="use this (empty) database instead of a fresh SQLite file, e.g. postgresql+psycopg://...",
    )
    parser.add_argument("--redis-url", help="hand REJOINDER_REDIS_URL to the server (PostgreSQL)")
    args = parser.parse_args()
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be from 1 to 120 seconds")
    duration: int = args.duration

    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="rejoinder-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    redis_url = args.redis_url or os.environ.get("REJOINDER_REDIS_URL")
    if backend == "postgresql" and not redis_url:
        print("note: PostgreSQL without a Redis URL: every read revalidates its cache with a query")
    process: subprocess.Popen[bytes] | None = None
    sampler: MemorySampler | None = None
    started = time.perf_counter()
    try:
        slugs = seed(url)
        port = free_port()
        process = start_server(url, port, workdir, redis_url)
        workers = count_workers(process.pid)
        print(
            f"server: {' '.join(rejoinder_command())} serve on 127.0.0.1:{port}, {workers} workers"
        )
        load_before = round(os.getloadavg()[0], 2)
        print(f"load average before the load: {load_before} on {os.cpu_count()} CPUs")
        sampler = MemorySampler(process.pid)
        sampler.start()
        print(f"load: wrk {duration} s per run after 1 s of warm-up")
        threads = measure(wrk, f"http://127.0.0.1:{port}", slugs, duration, process.pid)
        sampler.stop()
        stopped_in = stop_server(process)
        process = None
        print(f"server stopped in {stopped_in:.1f} s")
        peak_rss_mb = round(sampler.peak_rss_kb / 1024, 1)
        report: dict[str, Any] = {
            "threads": threads,
            "peak_rss_mb": peak_rss_mb,
            "peak_pss_mb": round(sampler.peak_pss_kb / 1024, 1),
            "processes": sampler.processes,
            "workers": workers,
            "backend": backend,
            "duration_s": duration,
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "goals": GOALS,
            "met": verdicts(threads, round(sampler.peak_pss_kb / 1024, 1)),
        }
        print_table(threads, report)
        print(f"bench took {time.perf_counter() - started:.0f} s")
        print(json.dumps(report, separators=(",", ":")))
        return 0
    finally:
        if sampler is not None:
            sampler.stop()
        if process is not None:
            stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
