"""Live updates between real processes: a post on one server reaches a stream on another."""

from __future__ import annotations

import signal
import uuid

import pytest

from tests import comment_payload
from tests.conftest import REDIS_URL, Server
from tests.sse import open_stream


def _post(server: Server, slug: str, body: str) -> int:
    response = server.post(
        f"/api/v1/articles/{slug}/comments",
        json=comment_payload(body=body, email=f"hidden-{uuid.uuid4().hex[:6]}@example.org"),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_stream_from_a_real_server_is_not_buffered_and_carries_the_post(db_url: str) -> None:
    server = Server(db_url).start()
    try:
        slug = str(server.publish()["slug"])
        with open_stream(server, f"/api/v1/articles/{slug}/events") as stream:
            assert stream.status == 200
            assert stream.headers["x-accel-buffering"] == "no"
            assert stream.headers["cache-control"] == "no-cache"
            stream.next("ready")  # sent at once, not held in a buffer
            posted = _post(server, slug, "From the same server.")
            got = stream.until(lambda e: e.event == "comment" and e.json()["id"] == posted)
            assert "From the same server." in got[-1].json()["html"]
            assert b"example.org" not in stream.parser.raw
    finally:
        server.stop()


@pytest.mark.skipif(
    not REDIS_URL, reason="fan-out between processes goes through Redis (the PostgreSQL run)"
)
def test_a_post_on_one_server_reaches_a_stream_on_another_and_replays_there(db_url: str) -> None:
    first, second = Server(db_url), Server(db_url)
    first.start()
    try:
        second.start()
        slug = str(first.publish()["slug"])
        with open_stream(second, f"/api/v1/articles/{slug}/events") as stream:
            last = stream.next("ready").id
            posted = _post(first, slug, "Posted on the first server.")
            got = stream.until(lambda e: e.event == "comment" and e.json()["id"] == posted)
            assert "Posted on the first server." in got[-1].json()["html"]
            count = stream.next("count")
            assert count.json()["count"] == 1
        assert last is not None
        # The ids are the same on every server: the first replays what the second sent.
        with open_stream(first, f"/api/v1/articles/{slug}/events", {"Last-Event-ID": last}) as s:
            got = s.until(lambda e: e.event == "ready")
            assert [e.event for e in got] == ["comment", "count", "ready"]
            assert got[1].id == count.id
    finally:
        second.stop()
        first.stop()


def test_a_stop_ends_open_streams_rather_than_waiting_for_them(db_url: str) -> None:
    server = Server(db_url).start()
    try:
        slug = str(server.publish()["slug"])
        with open_stream(server, f"/api/v1/articles/{slug}/events") as stream:
            stream.next("ready")
            server.stop()  # SIGTERM, and SIGKILL only if it has not ended 10 s later
            assert server.process is not None
            # It ended by itself (uvicorn ends by the signal it caught), not by SIGKILL.
            assert server.process.returncode in (0, -signal.SIGTERM)
    finally:
        server.stop()
