"""Bench telling people through the outbox: the posting rate with reply notifications and
two webhooks on, against both off, in one run; the time from a comment's publication to its
webhook's arrival; and the mail the notifications become.

One `rejoinder serve` (default workers) on a fresh SQLite file, moderation off (the cheapest
post, so the outbox's share of the work is the largest it can be), mail set up (an SMTP sink
on 127.0.0.1 in this process: aiosmtpd, real SMTP), posted to by wrk over 8 connections with
a new reply each request. Before the server starts, two pools of `--parents` published
comments are posted through the usecase (each by a writer of their own, every address
confirmed beforehand in the store): in one pool each writer asked for reply notifications,
in the other none did.

1. **off**: each post replies to a comment of the pool that asked for nothing, the webhooks
   paused; posting for `--duration` seconds after a second of warm-up that is not counted.
2. **on**: each post replies to a comment of the pool that asked for notifications (so each
   published reply is a notice to a confirmed address), and two endpoints (on two receivers
   on 127.0.0.1, in this process: minimal asyncio servers answering 204 at once) subscribed
   to `comment.published` are active; posting as long, with the same connections and warm-up.
   Every webhook of the phase (and, with `--digest-minutes 0`, every mail) is awaited before
   the next phase. The server reads a site's endpoints, and a parent's wishes, in each post,
   so nothing restarts between phases.

   The pairing: both modes post the same request to the same server (mail set up in both) in
   the same thread shape (replies one level deep, to pools of one size, so each parent has
   as many replies in both); only what the feature costs when it is used differs: a
   notice written and two deliveries queued per post, and their delivery.
3. The two alternate `--rounds` times (off, on, off, on, ...), so that the machine's other
   work falls on both alike; each mode's rate is the mean of its phases.
4. Each webhook must arrive exactly once per receiver. The time from publication to arrival
   is the receiver's clock at arrival less the comment's `created_at` (one machine, one
   clock): under load (the "on" phases, with the backlog the sender works through) and idle
   (`--idle` replies posted one at a time, as the "on" ones, each awaited at both
   receivers).
5. The server's CPU per post in each mode, over every process of the server, and the
   workers' part of it alone (the outbox's sender process aside).
6. The mail: the digest interval is the setting's default (15 minutes) unless
   `--digest-minutes` says otherwise, since that is what a site runs and what decides the
   posting path's cost: with it, a reply adds a notice to its reader's group, and the mail
   goes out once per reader and discussion when the group is due. So the posting figures
   carry the notices; the mail comes after the phases: every notice is checked to be there
   (one per reply), the groups are made due (their `due_at` moved to now, as if the interval
   had passed), and the server's sender process makes them mail at its next look for due
   notices and delivers them to the sink; each must arrive once, one per group. Its time
   and the sender's CPU per mail are reported. With `--digest-minutes 0` each reply's mail
   is made in its notice's transaction and sent during the phase (the most a reply can
   cost): then each reply's mail is awaited with its webhooks, and counted in the phase.

Goal: the "on" rate at least 90% of the "off" rate. The last line is one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent))
import thread_read

from rejoinder.core import webhooks as rules
from rejoinder.core.models import ArticleDraft, CommentInput, Limits
from rejoinder.core.text import render_article
from rejoinder.events import Events
from rejoinder.store import articles as article_store
from rejoinder.store import notify as notify_store
from rejoinder.store import sites as site_store
from rejoinder.store import verification as verification_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade
from rejoinder.store.schema import notices
from rejoinder.usecases import discussion, webhooks
from rejoinder.usecases.mail import Mail

GOALS = {"on_rate_share_of_off_at_least": 0.90}
SLUG = "outbox-bench"

LUA = textwrap.dedent("""
    local counter = 0
    local next_id = 0
    local run = 0
    local first = 0
    local parents = 1
    init = function(args)
      run = tonumber(args[1]) or 0
      first = tonumber(args[2]) or 0
      parents = tonumber(args[3]) or 1
    end
    setup = function(thread)
      next_id = next_id + 1
      thread:set("thread_id", next_id)
    end
    request = function()
      counter = counter + 1
      local n = run * 1000000000 + (thread_id or 0) * 10000000 + counter
      local body = string.format(
        '{"body": "Reply %d: the bus lane pilot deserves a fair test.", '
        .. '"name": "Reader %d", "email": "reader%d@example.org", "parent_id": %d}',
        n, n, n, first + (thread_id * 7 + counter) % parents)
      return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
    end
""")


class _Answer(asyncio.Protocol):
    """One connection to a receiver: each POST answered 204 at once (keep-alive), its arrival
    time and body kept; the body is parsed only when the figures are made."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            mark = head.find(b"\r\ncontent-length:")
            length = int(head[mark + 17 :].split(b"\r\n", 1)[0]) if mark >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            self.receiver.bodies.append((time.time(), body))


class Receiver:
    """A webhook receiver on 127.0.0.1, as cheap as a receiver can be (the bench's receivers
    share the machine with the server they measure): an asyncio server in a thread of its
    own that answers 204 and keeps (arrival time, body) of each POST."""

    def __init__(self) -> None:
        self.bodies: list[tuple[float, bytes]] = []  # appended in the receiver's thread
        self.loop = asyncio.new_event_loop()
        server = self.loop.run_until_complete(
            self.loop.create_server(lambda: _Answer(self), "127.0.0.1", 0, backlog=128)
        )
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hooks"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        return len(self.bodies)

    @property
    def arrivals(self) -> list[tuple[float, int, str, str]]:
        """(arrival time, comment id, created_at, delivery id) of each POST, in order."""
        found = []
        for at, body in list(self.bodies):
            document = json.loads(body)
            comment = document["data"]["comment"]
            found.append((at, int(comment["id"]), str(comment["created_at"]), document["id"]))
        return found

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


SMTP_FROM = "Rejoinder Bench <comments@bench.example>"


class MailSink:
    """An SMTP server on 127.0.0.1 (aiosmtpd in a thread of its own), as cheap as it can be:
    it accepts every mail and keeps its arrival time and bytes, parsed only for the figures."""

    def __init__(self) -> None:
        self.mails: list[tuple[float, bytes]] = []  # appended in the sink's thread
        self.port = thread_read.free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mails.append((time.time(), bytes(envelope.original_content or b"")))
        return "250 OK"

    @property
    def env(self) -> dict[str, str]:
        """The settings that point the server at this sink."""
        return {
            "REJOINDER_SMTP_HOST": "127.0.0.1",
            "REJOINDER_SMTP_PORT": str(self.port),
            "REJOINDER_SMTP_SECURITY": "none",
            "REJOINDER_SMTP_FROM": SMTP_FROM,
        }

    def count(self) -> int:
        return len(self.mails)

    def message_ids(self) -> list[str]:
        parser = BytesParser(policy=policy.default)
        return [
            str(parser.parsebytes(raw, headersonly=True)["Message-ID"]) for _, raw in self.mails
        ]

    def close(self) -> None:
        self.controller.stop()


def prepare(url: str) -> None:
    db = Database(url, pool_size=1)
    upgrade(db)
    now = datetime.now(UTC)
    with db.write() as conn:
        site = site_store.ensure_default_site(conn, "Bench", now)
        draft = ArticleDraft(
            slug=SLUG,
            title="Outbox bench",
            dek="",
            author="",
            body_markdown="An article to comment on.",
            published_at=now,
        )
        article_store.add_article(conn, site.id, draft, render_article(draft.body_markdown), now)
    db.dispose()


def add_parents(url: str, count: int, asked: bool) -> tuple[int, int]:
    """`count` published comments to reply to, each by a writer of their own whose address is
    confirmed (marked so in the store), who asked for reply notifications or not; posted
    through the usecase as the API posts them. (first id, count): their ids follow on."""
    db = Database(url, pool_size=1)
    mail = Mail(domain=SMTP_FROM.rpartition("@")[2].rstrip(">"))
    prefix = "asked" if asked else "plain"
    now = datetime.now(UTC)
    with db.write() as conn:
        for n in range(count):
            verification_store.mark_verified(conn, f"{prefix}{n}@example.org", now)
    made = [
        discussion.post_comment(
            db,
            Events(),
            site_id=1,
            slug=SLUG,
            raw=CommentInput(
                body=f"Parent {prefix} {n}: what the council decided about the bus lanes.",
                name=f"Writer {prefix} {n}",
                email=f"{prefix}{n}@example.org",
                notify_replies=asked,
            ),
            limits=Limits(),
            now=datetime.now(UTC),
            mail=mail,
        ).comment.id
        for n in range(count)
    ]
    db.dispose()
    assert made == list(range(made[0], made[0] + count)), "the parents' ids do not follow on"
    return made[0], count


def add_hooks(url: str, receivers: list[Receiver]) -> list[int]:
    db = Database(url, pool_size=1)
    with db.read() as conn:
        site = site_store.list_sites(conn)[0]
    made = [
        webhooks.add_endpoint(
            db,
            site_id=site.id,
            url=receiver.url,
            events=[rules.PUBLISHED],
            notify=None,
            allow_private=True,
            actor=webhooks.Actor("bench", "bench"),
            now=datetime.now(UTC),
        ).endpoint.id
        for receiver in receivers
    ]
    db.dispose()
    return made


def switch_hooks(url: str, hooks: list[int], active: bool) -> None:
    """Resume or pause the endpoints: paused, a post queues no delivery for them."""
    db = Database(url, pool_size=1)
    for webhook_id in hooks:
        webhooks.change_endpoint(
            db,
            site_id=1,
            webhook_id=webhook_id,
            actor=webhooks.Actor("bench", "bench"),
            now=datetime.now(UTC),
            allow_private=True,
            active=active,
        )
    db.dispose()


def post_rate(
    wrk: str, workdir: Path, target: str, duration: int, run: int, parents: tuple[int, int]
) -> dict[str, Any]:
    """Post replies to the pool `parents` (first id, count) for `duration` seconds after a
    second's warm-up."""
    script = workdir / "post.lua"
    script.write_text(LUA)
    base = [wrk, "-t2", "-c8", "--timeout", "10s", "-s", str(script)]
    pool = [str(parents[0]), str(parents[1])]
    subprocess.run(
        [*base, "-d1s", target, "--", str(run * 2), *pool],
        capture_output=True,
        timeout=60,
        check=True,
    )
    result = subprocess.run(
        [*base, f"-d{duration}s", "--latency", target, "--", str(run * 2 + 1), *pool],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    figures = thread_read.parse_wrk(result.stdout)
    if figures["non_2xx"] or figures["socket_errors"]:
        raise RuntimeError(f"posting failed:\n{result.stdout}")
    return figures


def published_ids(url: str) -> int:
    db = Database(url, pool_size=1)
    try:
        with db.read() as conn:
            article = article_store.get_article(conn, 1, SLUG)
            assert article is not None
            return article.comment_count
    finally:
        db.dispose()


def wait_for(receivers: list[Receiver] | list[MailSink], count: int, patience: float) -> float:
    """Wait until each receiver (or the mail sink) has `count` arrivals; the seconds it took."""
    started = time.monotonic()
    while any(r.count() < count for r in receivers):
        if time.monotonic() - started > patience:
            got = [r.count() for r in receivers]
            raise RuntimeError(f"{got} arrived of {count} in {patience} s")
        time.sleep(0.05)
    return time.monotonic() - started


def pending_groups(url: str) -> tuple[int, int]:
    """(notices, groups they make) waiting for their digest."""
    db = Database(url, pool_size=1)
    try:
        with db.read() as conn:
            found = notify_store.pending_notices(conn)
    finally:
        db.dispose()
    return len(found), len({(n.site_id, n.topic, n.recipient) for n in found})


def make_due(url: str) -> None:
    """Every notice's group due now, as if its digest interval had passed."""
    db = Database(url, pool_size=1)
    try:
        with db.write() as conn:
            conn.execute(update(notices).values(due_at=datetime.now(UTC)))
    finally:
        db.dispose()


def latencies_ms(receivers: list[Receiver], after: int = 0) -> list[float]:
    found = []
    for receiver in receivers:
        for at, _, created, _ in receiver.arrivals[after:]:
            made = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
            found.append((at - made) * 1000)
    return sorted(found)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "n": 0}
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p99_ms": round(p99, 1),
        "n": len(values),
    }


SENDER_MODULE = b"rejoinder.web.sender"


def group_cpu_seconds(leader: int) -> tuple[float, float]:
    """CPU seconds (user and system) used so far by the server's processes: every process in
    its process group (it starts a session of its own), workers and the outbox's sender
    process included; and the sender process's share of them."""
    tick = os.sysconf("SC_CLK_TCK")
    total = sender = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == leader:  # pgrp
            used = int(fields[11]) + int(fields[12])  # utime, stime
            total += used
            if SENDER_MODULE in command:
                sender += used
    return total / tick, sender / tick


def settled(leader: int, patience: float = 60) -> None:
    """Wait until the server's sender process has started and is idle (its start, a fresh
    interpreter's imports, is CPU no phase should be charged with)."""
    deadline = time.monotonic() + patience
    last = group_cpu_seconds(leader)[1]
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = group_cpu_seconds(leader)[1]
        if last and now - last < 0.02:
            return
        last = now
    raise RuntimeError(f"the sender process was not idle within {patience} s")


def mean_of(phases: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": round(statistics.mean(p["rps"] for p in phases), 1),
        "p50_ms": round(statistics.median(p["p50_ms"] for p in phases), 2),
        "p99_ms": round(max(p["p99_ms"] for p in phases), 2),
        "requests": sum(p["requests"] for p in phases),
        "phases_rps": [p["rps"] for p in phases],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of posting per phase")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of off and on phases")
    parser.add_argument("--idle", type=int, default=100, help="replies posted one at a time")
    parser.add_argument(
        "--parents", type=int, default=200, help="comments replied to in each mode's pool"
    )
    parser.add_argument(
        "--digest-minutes",
        type=int,
        default=None,
        help="REJOINDER_NOTIFY_DIGEST_MINUTES (unset: the setting's default, 15)",
    )
    args = parser.parse_args()
    wrk = thread_read.ensure_wrk()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    at_once = args.digest_minutes == 0  # each reply's mail made and sent in its phase
    receivers = [Receiver(), Receiver()]
    sink = MailSink()
    offs: list[dict[str, Any]] = []
    ons: list[dict[str, Any]] = []
    # (server CPU seconds, posts published, the sender process's CPU seconds) per mode, over
    # each phase and its drain.
    spent = {"off": [0.0, 0, 0.0], "on": [0.0, 0, 0.0]}
    drains: list[float] = []
    mail: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="rejoinder-outbox-bench-") as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'bench.db'}"
        prepare(url)
        asked = add_parents(url, args.parents, asked=True)
        plain = add_parents(url, args.parents, asked=False)
        hooks = add_hooks(url, receivers)
        switch_hooks(url, hooks, active=False)
        port = thread_read.free_port()
        os.environ["REJOINDER_MODERATION"] = "false"
        os.environ["REJOINDER_WEBHOOKS_ALLOW_PRIVATE"] = "true"
        os.environ.update(sink.env)
        if args.digest_minutes is not None:
            os.environ["REJOINDER_NOTIFY_DIGEST_MINUTES"] = str(args.digest_minutes)
        server = thread_read.start_server(url, port, workdir, None)
        try:
            settled(server.pid)
            base = f"http://127.0.0.1:{port}"
            target = f"{base}/api/v1/articles/{SLUG}/comments"
            expected = 0  # deliveries each receiver should have by now
            replies = 0  # replies to the pool that asked to be told
            for round_ in range(args.rounds):
                cpu, before = group_cpu_seconds(server.pid), published_ids(url)
                offs.append(post_rate(wrk, workdir, target, args.duration, 2 * round_, plain))
                time.sleep(1)  # posts still answering when wrk stopped: none gets a webhook
                cpu_after = group_cpu_seconds(server.pid)
                spent["off"][0] += cpu_after[0] - cpu[0]
                spent["off"][2] += cpu_after[1] - cpu[1]
                spent["off"][1] += published_ids(url) - before
                switch_hooks(url, hooks, active=True)
                cpu, before = group_cpu_seconds(server.pid), published_ids(url)
                ons.append(post_rate(wrk, workdir, target, args.duration, 2 * round_ + 1, asked))
                on_posts = published_ids(url) - before
                waited = wait_for(receivers, expected + on_posts, 120 + on_posts / 20)
                if at_once:
                    waited += wait_for([sink], replies + on_posts, 120 + on_posts / 20)
                drains.append(waited)
                time.sleep(1)  # posts that ended late, still with webhooks
                expected += published_ids(url) - before
                replies += published_ids(url) - before
                wait_for(receivers, expected, patience=60)
                if at_once:
                    wait_for([sink], replies, patience=60)
                cpu_after = group_cpu_seconds(server.pid)
                spent["on"][0] += cpu_after[0] - cpu[0]
                spent["on"][2] += cpu_after[1] - cpu[1]
                spent["on"][1] += published_ids(url) - before
                switch_hooks(url, hooks, active=False)
            under_load = latencies_ms(receivers)
            switch_hooks(url, hooks, active=True)
            idle_from = expected
            with httpx.Client(timeout=30) as http:
                for n in range(args.idle):
                    body = {
                        "body": f"Idle {n}.",
                        "name": "Idle",
                        "email": f"idle{n}@example.org",
                        "parent_id": asked[0] + n % asked[1],
                    }
                    answer = http.post(target, json=body)
                    answer.raise_for_status()
                    wait_for(receivers, idle_from + n + 1, patience=30)
            idle = latencies_ms(receivers, idle_from)
            replies += args.idle
            published = idle_from + args.idle
            if at_once:
                wait_for([sink], replies, patience=60)
                mail = {"digest_minutes": 0, "replies": replies, "mails_expected": replies}
            else:
                waiting, groups = pending_groups(url)
                mail = {
                    "digest_minutes": 15 if args.digest_minutes is None else args.digest_minutes,
                    "replies": replies,
                    "notices_waiting": waiting,
                    "mails_expected": groups,
                    "mails_before_due": sink.count(),
                }
                cpu = group_cpu_seconds(server.pid)
                make_due(url)
                # The sender looks for due notices every 15 s: up to that, then the sending.
                took = wait_for([sink], groups, patience=120 + groups / 10)
                cpu_after = group_cpu_seconds(server.pid)
                mail["made_and_sent_within_s"] = round(took, 2)
                mail["sender_cpu_ms_per_mail"] = round(
                    1000 * (cpu_after[1] - cpu[1]) / max(1, groups), 2
                )
                mail["server_cpu_ms_per_mail"] = round(
                    1000 * (cpu_after[0] - cpu[0]) / max(1, groups), 2
                )
            time.sleep(1.5)  # a sender's next round, should it wrongly send one again
            deliveries = [[a[3] for a in r.arrivals] for r in receivers]
            mail_ids = sink.message_ids()
        finally:
            thread_read.stop_server(server)
            for receiver in receivers:
                receiver.close()
            sink.close()
    each_once = all(len(ids) == len(set(ids)) == published for ids in deliveries)
    if not each_once:
        got = [(len(ids), len(set(ids))) for ids in deliveries]
        print(f"NOT each once: {published} published; (deliveries, distinct) per receiver: {got}")
    mail["mails_received"] = len(mail_ids)
    mail["each_mail_once"] = len(mail_ids) == len(set(mail_ids)) == mail["mails_expected"]
    notices_ok = at_once or mail["notices_waiting"] == replies
    if not mail["each_mail_once"] or not notices_ok:
        print(f"mail NOT as expected: {mail}")
    off, on = mean_of(offs), mean_of(ons)
    share = on["rps"] / off["rps"] if off["rps"] else 0.0
    # The server's CPU per post, which other work on the machine moves far less than a rate:
    # off / on is the rate share a server with a core to itself would see.
    cpu_ms = {mode: 1000 * cpu / max(1, int(posts)) for mode, (cpu, posts, _) in spent.items()}
    cpu_share = cpu_ms["off"] / cpu_ms["on"] if cpu_ms["on"] else 0.0
    # The workers' part alone: what the posts' own processes pay, the sender process aside.
    workers_ms = {
        mode: 1000 * (cpu - sender) / max(1, int(posts))
        for mode, (cpu, posts, sender) in spent.items()
    }
    report: dict[str, Any] = {
        "posting_off": off,
        "posting_on": on,
        "on_share_of_off": round(share, 3),
        "server_cpu_ms_per_post": {mode: round(value, 3) for mode, value in cpu_ms.items()},
        "cpu_share_off_over_on": round(cpu_share, 3),
        "workers_cpu_ms_per_post": {mode: round(value, 3) for mode, value in workers_ms.items()},
        "deliveries_per_receiver": published,
        "each_delivered_once": each_once,
        "mail": mail,
        "drain_after_load_s": round(max(drains), 2),
        "publish_to_receipt_under_load": percentiles(under_load),
        "publish_to_receipt_idle": percentiles(idle),
        "load_average_at_start": round(load[0], 2),
        "goals": {"on_rate_share_of_off_at_least_0.90": share >= 0.90},
    }
    print(
        f"posting, nothing asked, no webhooks:    {off['rps']:8.1f} posts/s, p50 {off['p50_ms']} ms"
    )
    print(f"posting, notifications, two webhooks: {on['rps']:8.1f} posts/s, p50 {on['p50_ms']} ms")
    print(f"phases (posts/s): off {off['phases_rps']}, on {on['phases_rps']}")
    print(
        f"server CPU per post: {cpu_ms['off']:.2f} ms off, {cpu_ms['on']:.2f} ms on "
        f"(off/on {cpu_share:.1%}); the workers' part: {workers_ms['off']:.2f} ms off, "
        f"{workers_ms['on']:.2f} ms on"
    )
    verdict = "met" if share >= GOALS["on_rate_share_of_off_at_least"] else "NOT met"
    print(f"on: {share:.1%} of the rate off (goal at least 90%: {verdict})")
    print(f"deliveries per receiver: {published}, each once: {each_once}")
    print(
        f"mail (digest {mail['digest_minutes']} min): {replies} replies notified, "
        f"{mail['mails_received']} mails received of {mail['mails_expected']}, "
        f"each once: {mail['each_mail_once']}"
    )
    if "sender_cpu_ms_per_mail" in mail:
        print(
            f"  made due after the phases: sent within {mail['made_and_sent_within_s']} s, "
            f"the sender's CPU {mail['sender_cpu_ms_per_mail']} ms per mail"
        )
    print(f"the outbox drained at most {max(drains):.2f} s after a phase ended")
    for name, values in (("under load", under_load), ("idle", idle)):
        p = percentiles(values)
        print(f"publish to receipt, {name}: p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms")
    print(json.dumps(report))
    return 0 if each_once and mail["each_mail_once"] and notices_ok else 1


if __name__ == "__main__":
    sys.exit(main())
