"""Bench imports: `rejoinder import` of a large export, per format.

Writes one file per format with the same comments (default 200,000: 2,000 threads of 100,
each thread's comments threaded several levels deep, 30% of them replies, most to recent
comments, so branches reach depth 5 and more), then, for each format, migrates a fresh
SQLite database and runs `rejoinder import FORMAT FILE` into it in a child process of its
own, timed from the command's start to its end (the migration is not counted). Prints, per
format: the file's size, wall time, comments per second, the CPU time the command took
(user and system: on a shared machine wall time follows the other work, CPU time much
less) and the child's peak RSS (VmHWM, see `_peak_rss_kb`); the last line is one JSON
object with every figure, and the load average at the start and the end.

    .venv/bin/python bench/imports.py                         # disqus only, 200,000
    .venv/bin/python bench/imports.py --formats all --comments 50000

Disqus's file is written as Disqus writes it: every <thread> first, then the <post>s; here
each thread's posts follow one another (the reader's best case for memory: a thread is
stored once its last post is read).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

FORMATS = ("disqus", "wordpress", "json", "remark42", "commento", "isso")
WORDS = [
    "the",
    "council",
    "budget",
    "vote",
    "housing",
    "rent",
    "school",
    "road",
    "plan",
    "people",
    "town",
    "river",
    "bridge",
    "market",
    "change",
    "years",
    "policy",
    "think",
    "agree",
    "wrong",
    "point",
    "fair",
    "cost",
    "tax",
    "water",
    "park",
    "local",
    "record",
]
START = datetime(2015, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    parent: int | None
    name: str
    email: str
    created: datetime
    text: str
    depth: int


def threads(total: int, per_thread: int, seed: int = 7) -> Iterator[tuple[int, list[Post]]]:
    """(thread number, its posts in date order), the same for every format."""
    rng = random.Random(seed)
    next_id = 1
    for number in range(1, total // per_thread + 1):
        posts: list[Post] = []
        moment = START + timedelta(days=number)
        for _ in range(per_thread):
            moment += timedelta(seconds=rng.randint(30, 3600))
            parent = None
            if posts and rng.random() < 0.3:
                parent = rng.choice(posts[-8:])
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 60)))
            who = rng.randint(1, 400)
            posts.append(
                Post(
                    next_id,
                    parent.id if parent else None,
                    f"Reader {who}",
                    f"reader{who}@example.com",
                    moment,
                    words.capitalize() + ".",
                    parent.depth + 1 if parent else 0,
                )
            )
            next_id += 1
        yield number, posts


def _url(number: int) -> str:
    return f"https://example.com/{number}/"


def write_disqus(path: Path, total: int, per_thread: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com"')
        out.write(' xmlns:dsq="http://disqus.com/disqus-internals">\n')
        for number in range(1, total // per_thread + 1):
            out.write(
                f'<thread dsq:id="t{number}"><id>page-{number}</id><link>{_url(number)}</link>'
                f"<title>Story {number}</title></thread>\n"
            )
        for number, posts in threads(total, per_thread):
            for p in posts:
                parent = f'<parent dsq:id="{p.parent}"/>' if p.parent else ""
                out.write(
                    f'<post dsq:id="{p.id}"><message><![CDATA[<p>{p.text}</p>]]></message>'
                    f"<createdAt>{p.created:%Y-%m-%dT%H:%M:%SZ}</createdAt>"
                    "<isDeleted>false</isDeleted><isSpam>false</isSpam>"
                    f"<author><email>{p.email}</email><name>{p.name}</name>"
                    "<isAnonymous>false</isAnonymous></author>"
                    f'<thread dsq:id="t{number}"/>{parent}</post>\n'
                )
        out.write("</disqus>\n")


def write_wordpress(path: Path, total: int, per_thread: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"')
        out.write(' xmlns:wp="http://wordpress.org/export/1.2/"><channel>\n')
        for number, posts in threads(total, per_thread):
            out.write(f"<item><title>Story {number}</title><link>{_url(number)}</link>\n")
            for p in posts:
                date = f"{p.created:%Y-%m-%d %H:%M:%S}"
                out.write(
                    f"<wp:comment><wp:comment_id>{p.id}</wp:comment_id>"
                    f"<wp:comment_author>{escape(p.name)}</wp:comment_author>"
                    f"<wp:comment_author_email>{p.email}</wp:comment_author_email>"
                    f"<wp:comment_date_gmt>{date}</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[{p.text}]]></wp:comment_content>"
                    "<wp:comment_approved>1</wp:comment_approved>"
                    f"<wp:comment_parent>{p.parent or 0}</wp:comment_parent></wp:comment>\n"
                )
            out.write("</item>\n")
        out.write("</channel></rss>\n")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def write_json(path: Path, total: int, per_thread: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('{"format": "rejoinder-import", "version": 1}\n')
        for number, posts in threads(total, per_thread):
            comments = [
                {
                    "id": p.id,
                    "parent": p.parent,
                    "author": {"name": p.name, "email": p.email},
                    "created_at": _iso(p.created),
                    "body": p.text,
                }
                for p in posts
            ]
            line = {"thread": {"page_id": f"page-{number}", "url": _url(number)}}
            out.write(json.dumps({**line, "comments": comments}) + "\n")


def write_remark42(path: Path, total: int, per_thread: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"version": 1, "users": [], "posts": []}) + "\n")
        for number, posts in threads(total, per_thread):
            for p in posts:
                comment = {
                    "id": str(p.id),
                    "pid": str(p.parent or ""),
                    "text": f"<p>{p.text}</p>",
                    "user": {"name": p.name, "id": f"email_{p.email}", "admin": False},
                    "locator": {"site": "bench", "url": _url(number)},
                    "score": 0,
                    "time": _iso(p.created),
                    "title": f"Story {number}",
                }
                out.write(json.dumps(comment) + "\n")


def write_commento(path: Path, total: int, per_thread: int) -> None:
    comments: list[dict[str, Any]] = []
    commenters: dict[str, dict[str, Any]] = {}
    for number, posts in threads(total, per_thread):
        for p in posts:
            hex_id = p.email.split("@")[0]
            commenters[hex_id] = {"commenterHex": hex_id, "name": p.name, "email": p.email}
            comments.append(
                {
                    "commentHex": f"c{p.id}",
                    "domain": "example.com",
                    "url": f"/{number}/",
                    "commenterHex": hex_id,
                    "markdown": p.text,
                    "parentHex": f"c{p.parent}" if p.parent else "root",
                    "state": "approved",
                    "creationDate": _iso(p.created),
                }
            )
    document = {"version": 1, "comments": comments, "commenters": list(commenters.values())}
    with gzip.open(path, "wt", encoding="utf-8") as out:
        json.dump(document, out)


def write_isso(path: Path, total: int, per_thread: int) -> None:
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR);"
        "CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY,"
        " parent INTEGER, created FLOAT NOT NULL, modified FLOAT, mode INTEGER,"
        " remote_addr VARCHAR, text VARCHAR NOT NULL, author VARCHAR, email VARCHAR,"
        " website VARCHAR, likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0,"
        " voters BLOB NOT NULL, notification INTEGER DEFAULT 0);"
    )
    for number, posts in threads(total, per_thread):
        db.execute("INSERT INTO threads VALUES (?, ?, ?)", (number, _url(number), "Story"))
        db.executemany(
            "INSERT INTO comments (tid, id, parent, created, mode, text, author, email,"
            " voters) VALUES (?, ?, ?, ?, 1, ?, ?, ?, x'00')",
            [
                (number, p.id, p.parent, p.created.timestamp(), p.text, p.name, p.email)
                for p in posts
            ],
        )
    db.commit()
    db.close()


WRITERS = {
    "disqus": (write_disqus, "disqus.xml"),
    "wordpress": (write_wordpress, "wordpress.xml"),
    "json": (write_json, "comments.jsonl"),
    "remark42": (write_remark42, "remark42.gz"),
    "commento": (write_commento, "commento.json.gz"),
    "isso": (write_isso, "isso.db"),
}


def _peak_rss_kb() -> int | None:
    """This process's own peak RSS (Linux's VmHWM). Not ru_maxrss: Linux carries that over
    an exec from the process that forked, so a child would report the bench's own peak
    (which holds Commento's whole document while it writes it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def child(fmt: str, file: str, database_url: str) -> None:
    """In its own process: migrate, then run the real command in process and report."""
    from typer.testing import CliRunner

    from rejoinder.cli import app
    from rejoinder.runtime import migrate
    from rejoinder.settings import load_settings

    migrate(load_settings(database_url=database_url))
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    result = CliRunner().invoke(
        app, ["import", fmt, file, "--database-url", database_url], catch_exceptions=False
    )
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = _peak_rss_kb() or usage.ru_maxrss
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    print(
        json.dumps(
            {
                "code": result.exit_code,
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
                "peak_rss_kb": peak_kb,
                "summary": summary,
                "errors": result.stderr[-2000:] if result.exit_code else "",
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--per-thread", type=int, default=100)
    parser.add_argument("--formats", default="disqus", help="comma separated, or 'all'")
    parser.add_argument(
        "--child", nargs=3, metavar=("FORMAT", "FILE", "URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    chosen = FORMATS if args.formats == "all" else tuple(args.formats.split(","))
    unknown = [f for f in chosen if f not in WRITERS]
    if unknown:
        parser.error(f"unknown format(s): {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    started_load = os.getloadavg()[0]
    print(f"load average at start: {started_load:.2f} on {os.cpu_count()} cores")
    figures: dict[str, Any] = {"comments": args.comments, "per_thread": args.per_thread}
    with tempfile.TemporaryDirectory(prefix="rj-bench-imports-") as folder:
        for fmt in chosen:
            write, name = WRITERS[fmt]
            file = Path(folder) / name
            made = time.perf_counter()
            write(file, args.comments, args.per_thread)
            written = time.perf_counter() - made
            url = f"sqlite:///{Path(folder) / (fmt + '-rejoinder.db')}"
            ran = subprocess.run(
                [sys.executable, __file__, "--child", fmt, str(file), url],
                capture_output=True,
                text=True,
                check=False,
            )
            if ran.returncode != 0 or not ran.stdout.strip():
                sys.exit(f"{fmt}: the child failed:\n{ran.stdout}\n{ran.stderr}")
            report = json.loads(ran.stdout.strip().splitlines()[-1])
            if report["code"] != 0:
                sys.exit(f"{fmt}: the import failed: {report['summary']}\n{report['errors']}")
            row = {
                "file_mb": round(file.stat().st_size / 2**20, 1),
                "seconds": round(report["seconds"], 1),
                "comments_per_s": round(args.comments / report["seconds"]),
                "cpu_s": round(report["cpu_seconds"], 1),
                "comments_per_cpu_s": round(args.comments / report["cpu_seconds"]),
                "peak_rss_mb": round(report["peak_rss_kb"] / 1024, 1),
                "summary": report["summary"],
                "file_written_s": round(written, 1),
            }
            figures[fmt] = row
            print(
                f"{fmt:10} {row['file_mb']:7.1f} MB  {row['seconds']:7.1f} s"
                f"  {row['comments_per_s']:6d} comments/s  CPU {row['cpu_s']:6.1f} s"
                f" ({row['comments_per_cpu_s']:6d} per CPU s)"
                f"  peak RSS {row['peak_rss_mb']:6.1f} MB"
                f"  ({row['summary']})",
                flush=True,
            )
            file.unlink()
    figures["load_average"] = [started_load, os.getloadavg()[0]]
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
