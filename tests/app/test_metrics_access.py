"""`/metrics` in the app itself: who may read it (a token, else this host only, as the
client is found behind trusted proxies), what it counts, and that it says nothing private."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import ADMIN_HEADERS, HELD_TEXT, MODERATION_ON, REFUSED_TEXT
from tests.conftest import ROOT, App, Databases
from tests.prometheus import samples, value

TOKEN = f"metrics-{uuid.uuid4().hex}"
ERROR_KEYS = {"error", "field", "message"}
REMOTE = "203.0.113.9"
WEIGHTS = ROOT / "src" / "rejoinder" / "classifier" / "weights" / "meta.json"


@pytest.fixture(scope="module")
def open_to_host(databases: Databases) -> Iterator[App]:
    """No token: this host only; a proxy on 127.0.0.1 is trusted for forwarded clients."""
    app = App(databases.new(), env={"REJOINDER_TRUSTED_PROXIES": "127.0.0.1"}).start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def with_token(databases: Databases) -> Iterator[App]:
    app = App(databases.new(), env={"REJOINDER_METRICS_TOKEN": TOKEN}).start()
    try:
        yield app
    finally:
        app.stop()


def _metrics(app: App, address: str | None = None, **options: object) -> str:
    with app.client(address=address) as http:
        response = http.get("/metrics", **options)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_without_a_token_this_host_reads_the_metrics_and_others_get_403(open_to_host: App) -> None:
    for local in ("127.0.0.1", "::1"):
        assert "rejoinder_http_requests_total" in _metrics(open_to_host, local)
    with open_to_host.client(address=REMOTE) as http:
        refused = http.get("/metrics")
    assert refused.status_code == 403
    assert set(refused.json()) == ERROR_KEYS and refused.json()["error"] == "forbidden"
    assert "rejoinder_" not in refused.text


def test_a_remote_client_behind_a_trusted_proxy_is_not_local(open_to_host: App) -> None:
    with open_to_host.client(address="127.0.0.1") as http:
        forwarded = http.get("/metrics", headers={"X-Forwarded-For": REMOTE})
    assert forwarded.status_code == 403, forwarded.text
    assert forwarded.json()["error"] == "forbidden"


def test_with_a_token_only_the_token_reads_the_metrics(with_token: App) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        with with_token.client(address="127.0.0.1") as http:
            refused = http.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert set(refused.json()) == ERROR_KEYS and refused.json()["error"] == "unauthorized"
        assert refused.headers["www-authenticate"] == "Bearer"
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for address in ("127.0.0.1", REMOTE):
        text = _metrics(with_token, address, headers=bearer)
        assert TOKEN not in text
        assert list(text_string_to_metric_families(text))


def test_requests_are_counted_by_route_template_and_unknown_paths_share_one_label(
    open_to_host: App,
) -> None:
    slug = open_to_host.publish()["slug"]
    before = samples(_metrics(open_to_host))
    for _ in range(3):
        assert open_to_host.get(f"/articles/{slug}").status_code == 200
    for n in range(2):
        assert open_to_host.get(f"/no-such-page-{uuid.uuid4().hex}-{n}").status_code == 404
    assert open_to_host.post(f"/articles/{slug}").status_code == 405
    assert open_to_host.get("/static/discussion.js").status_code == 200
    assert open_to_host.get(f"/static/missing-{uuid.uuid4().hex}.js").status_code == 404
    after = samples(_metrics(open_to_host))

    def moved(**labels: str) -> float:
        name = "rejoinder_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(route="/articles/{slug}", method="GET", status="2xx") == 3
    assert moved(route="/articles/{slug}", method="POST", status="4xx") == 1
    assert moved(route="other", method="GET", status="4xx") == 2
    assert moved(route="/static/{path}", method="GET", status="2xx") == 1
    assert moved(route="/static/{path}", method="GET", status="4xx") == 1
    # The latency histogram counts the same requests.
    seconds = "rejoinder_http_request_seconds_count"
    timed = value(after, seconds, route="/articles/{slug}", method="GET") - value(
        before, seconds, route="/articles/{slug}", method="GET"
    )
    assert timed == 3
    routes = {dict(labels).get("route") for (_, labels) in after}
    leaked = ("no-such-page", "missing-", "discussion.js")
    assert not any(slug in str(r) or any(x in str(r) for x in leaked) for r in routes)


@pytest.fixture(scope="module")
def moderated(databases: Databases) -> Iterator[App]:
    app = App(databases.new(), env=MODERATION_ON).start()
    try:
        yield app
    finally:
        app.stop()


def test_each_verdict_is_counted_and_nothing_private_is_shown(moderated: App) -> None:
    slug = moderated.publish()["slug"]
    before = samples(_metrics(moderated))
    mark = uuid.uuid4().hex[:8]
    mails = [f"private-{mark}-{n}@example.org" for n in range(3)]
    words = f"Quietly{uuid.uuid4().hex[:8]}"
    writer = f"Ann{uuid.uuid4().hex[:8]}"
    path = f"/api/v1/articles/{slug}/comments"
    # Each from its own address and email, so that no flood limit decides; a script's token, so that
    # the form's timing does not apply.
    posts = [
        ("198.51.100.1", f"{words} makes a fair point about the bridge.", 201),
        ("198.51.100.2", HELD_TEXT, 202),
        ("198.51.100.3", REFUSED_TEXT, 422),
    ]
    for (address, body, status), mail in zip(posts, mails, strict=True):
        with moderated.client(address=address, headers=ADMIN_HEADERS) as http:
            comment = {"body": body, "name": writer, "email": mail}
            response = http.post(path, json=comment)
            assert response.status_code == status, response.text
    text = _metrics(moderated)
    after = samples(text)
    for verdict in ("published", "held", "refused"):
        name = "rejoinder_comments_total"
        moved = value(after, name, verdict=verdict) - value(before, name, verdict=verdict)
        assert moved == 1, verdict
    for private in (f"private-{mark}", words, writer, "198.51.100", ADMIN_HEADERS["Authorization"]):
        assert private not in text


@pytest.mark.skipif(
    not WEIGHTS.is_file(), reason=f"the moderation model is not trained: no {WEIGHTS}"
)
def test_the_model_s_scoring_time_is_observed_once_per_scored_comment(
    databases: Databases,
) -> None:
    env = {**MODERATION_ON, "REJOINDER_MODERATION_MODEL": "true"}
    app = App(databases.new(), env=env).start()
    try:
        slug = app.publish()["slug"]
        before = samples(_metrics(app))
        with app.client(address="198.51.100.7", headers=ADMIN_HEADERS) as http:
            comment = {"body": "The bridge opened late.", "name": "Cy", "email": "cy@example.org"}
            response = http.post(f"/api/v1/articles/{slug}/comments", json=comment)
            assert response.status_code in (201, 202), response.text
        after = samples(_metrics(app))
    finally:
        app.stop()
    count, total_seconds = "rejoinder_model_seconds_count", "rejoinder_model_seconds_sum"
    assert value(after, count) - value(before, count) == 1
    assert value(after, total_seconds) > value(before, total_seconds)
