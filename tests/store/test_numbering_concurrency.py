"""Comment numbers stay unique and gap-free when many writers post to one article at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Databases, Server

from . import comment_count, comment_payload, walk, whole_thread

WRITERS = 8
POSTS_EACH = 15
REPLY_WRITERS = 2
REPLIES_EACH = 6


@pytest.fixture(scope="module")
def busy_server(databases: Databases) -> Iterator[Server]:
    running = Server(databases.new(), workers=4).start()
    try:
        yield running
    finally:
        running.stop()


def test_concurrent_posts_get_unique_gap_free_numbers(busy_server: Server) -> None:
    slug = str(busy_server.publish()["slug"])
    url = f"/api/v1/articles/{slug}/comments"
    start = threading.Barrier(WRITERS + REPLY_WRITERS)
    first_known = threading.Event()
    first: dict[str, int] = {}
    statuses: list[tuple[str, int, str, float]] = []
    lock = threading.Lock()

    def record(kind: str, response: httpx.Response) -> dict[str, Any]:
        with lock:
            statuses.append((kind, response.status_code, response.text[:200], time.monotonic()))
        return dict(response.json()) if response.status_code == 201 else {}

    def write_top_level(writer: int) -> None:
        with httpx.Client(base_url=busy_server.url, timeout=30) as http:
            start.wait(timeout=30)
            for n in range(POSTS_EACH):
                body = comment_payload(body=f"Writer {writer}, post {n}.")
                made = record("top", http.post(url, json=body))
                if made.get("number") == 1:
                    first["id"] = int(made["id"])
                    first_known.set()

    def write_replies(writer: int) -> None:
        with httpx.Client(base_url=busy_server.url, timeout=30) as http:
            start.wait(timeout=30)
            if not first_known.wait(timeout=30):
                return
            for n in range(REPLIES_EACH):
                body = comment_payload(body=f"Reply {writer}.{n}", parent_id=first["id"])
                record("reply", http.post(url, json=body))

    threads = [threading.Thread(target=write_top_level, args=(w,)) for w in range(WRITERS)]
    threads += [threading.Thread(target=write_replies, args=(w,)) for w in range(REPLY_WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"

    server_errors = [s for s in statuses if s[1] >= 500]
    assert server_errors == []
    assert [s for s in statuses if s[1] != 201] == []
    posted_top = sum(1 for s in statuses if s[0] == "top")
    posted_replies = sum(1 for s in statuses if s[0] == "reply")
    # The replies really raced the top-level posts: one landed before the last top-level one.
    assert min(s[3] for s in statuses if s[0] == "reply") < max(
        s[3] for s in statuses if s[0] == "top"
    )
    assert posted_top == WRITERS * POSTS_EACH
    assert posted_replies == REPLY_WRITERS * REPLIES_EACH

    roots = whole_thread(busy_server.url, slug)
    assert sorted(root["number"] for root in roots) == list(range(1, WRITERS * POSTS_EACH + 1))
    comment_one = next(root for root in roots if root["number"] == 1)
    assert comment_one["id"] == first["id"]
    reply_numbers = sorted(reply["number"] for reply in comment_one["replies"])
    assert reply_numbers == list(range(1, posted_replies + 1))
    everything = list(walk(roots))
    assert len({c["id"] for c in everything}) == len(everything)
    assert comment_count(busy_server.url, slug) == posted_top + posted_replies == len(everything)
