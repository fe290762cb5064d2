"""`/metrics` from a real `rejoinder serve --workers 2`: read with prometheus-client's own
parser, the request counts add up exactly to what this test sent, whichever worker answered
each request and whichever answers the scrape."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest

from tests import comment_payload
from tests.conftest import Databases, Server
from tests.prometheus import label_values, samples, total, value
from tests.sse import PATIENCE, open_stream

REQUESTS = "rejoinder_http_requests_total"


@pytest.fixture(scope="module")
def two_workers(databases: Databases) -> Iterator[Server]:
    running = Server(databases.new(), workers=2).start(timeout=60)
    try:
        yield running
    finally:
        running.stop()


def _get(url: str) -> int:
    # A connection per request: the kernel hands each to either worker.
    return httpx.get(url, timeout=20).status_code


def _scrape(server: Server) -> str:
    response = httpx.get(server.url + "/metrics", timeout=20)
    assert response.status_code == 200, response.text
    return response.text


def test_request_counts_add_up_across_two_workers(two_workers: Server) -> None:
    server = two_workers
    slug = str(server.publish(title=f"Metrics {uuid.uuid4().hex[:8]}")["slug"])
    sent = {
        (f"/articles/{slug}", "/articles/{slug}", "2xx"): 23,
        (f"/api/v1/articles/{slug}/comments", "/api/v1/articles/{slug}/comments", "2xx"): 17,
        (f"/articles/missing-{uuid.uuid4().hex[:8]}", "/articles/{slug}", "4xx"): 5,
    }
    unknown = 9  # paths no route knows, each different
    urls = [server.url + path for (path, _, _), n in sent.items() for _ in range(n)]
    urls += [f"{server.url}/nowhere-{uuid.uuid4().hex}" for _ in range(unknown)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(_get, urls))
    assert statuses.count(200) == 23 + 17 and statuses.count(404) == 5 + unknown

    # Every scrape, whichever worker answers it, sums both workers' files the same way.
    for _ in range(4):
        found = samples(_scrape(server))
        assert value(found, REQUESTS, route="/articles/{slug}", method="GET", status="2xx") == 23
        assert value(found, REQUESTS, route="/articles/{slug}", method="GET", status="4xx") == 5
        comments = "/api/v1/articles/{slug}/comments"
        assert value(found, REQUESTS, route=comments, method="GET", status="2xx") == 17
        assert value(found, REQUESTS, route="other", method="GET", status="4xx") == unknown
        assert total(found, REQUESTS, route="/articles/{slug}") == 23 + 5
        seconds = "rejoinder_http_request_seconds_count"
        assert value(found, seconds, route="/articles/{slug}", method="GET") == 23 + 5
        routes = label_values(found, REQUESTS, "route")
        assert "/healthz" in routes
        assert not any(slug in route or "nowhere-" in route for route in routes), routes


def test_a_posted_comment_shows_in_the_verdict_counter(two_workers: Server) -> None:
    server = two_workers
    slug = str(server.publish(title=f"Verdicts {uuid.uuid4().hex[:8]}")["slug"])
    before = value(samples(_scrape(server)), "rejoinder_comments_total", verdict="published")
    for _ in range(3):
        posted = httpx.post(
            f"{server.url}/api/v1/articles/{slug}/comments", json=comment_payload(), timeout=20
        )
        assert posted.status_code == 201, posted.text
    found = samples(_scrape(server))
    assert value(found, "rejoinder_comments_total", verdict="published") == before + 3


def _streams_open(server: Server) -> float:
    return value(samples(_scrape(server)), "rejoinder_live_streams")


def test_open_live_streams_are_summed_over_the_workers_and_leave_when_closed(
    two_workers: Server,
) -> None:
    server = two_workers
    slug = str(server.publish(title=f"Streams {uuid.uuid4().hex[:8]}")["slug"])
    assert _streams_open(server) == 0
    with ExitStack() as streams:
        for _ in range(3):
            stream = streams.enter_context(open_stream(server, f"/api/v1/articles/{slug}/events"))
            stream.next("ready")
        assert _streams_open(server) == 3
    # The server learns of each disconnect on its own time: wait for it, boundedly.
    deadline = time.monotonic() + PATIENCE
    while _streams_open(server) != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _streams_open(server) == 0


def test_a_single_worker_server_counts_in_its_own_process(server: Server) -> None:
    """`serve --workers 1` runs the app in serve's own process, with the same folder."""
    slug = str(server.publish(title=f"One worker {uuid.uuid4().hex[:8]}")["slug"])
    labels = {"route": "/articles/{slug}", "method": "GET", "status": "2xx"}
    before = value(samples(_scrape(server)), REQUESTS, **labels)
    for _ in range(7):
        assert _get(f"{server.url}/articles/{slug}") == 200
    assert value(samples(_scrape(server)), REQUESTS, **labels) == before + 7
