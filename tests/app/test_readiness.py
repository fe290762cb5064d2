"""`/readyz`: the database and, when configured, Redis, each named in the answer; a failing
check is a 503 that names it and says nothing of the backend's address or password.
`/healthz` stays a liveness check that answers whatever the backends do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import REDIS_URL, App, Databases

# Nothing listens on port 1; the password must never be shown back.
DEAD_REDIS = "redis://:hunter2-readyz@127.0.0.1:1/0"


@pytest.fixture(scope="module")
def healthy(databases: Databases) -> Iterator[App]:
    app = App(databases.new()).start()
    try:
        yield app
    finally:
        app.stop()


def test_a_healthy_app_is_ready_and_names_each_check(healthy: App) -> None:
    response = healthy.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    expected = {"database", "outbox", "redis"} if REDIS_URL else {"database", "outbox"}
    assert set(body["checks"]) == expected
    for name, outcome in body["checks"].items():
        assert outcome["ok"] is True, name
        assert "problem" not in outcome
    assert "failed" not in body
    assert response.headers["cache-control"] == "no-store"


def test_a_dead_redis_makes_the_app_unready_naming_redis_only(databases: Databases) -> None:
    # The app starts with Redis away (its live feed and change feed keep retrying).
    app = App(databases.new(), env={"REJOINDER_REDIS_URL": DEAD_REDIS}).start()
    try:
        response = app.get("/readyz")
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["status"] == "unready"
        assert body["failed"] == ["redis"]
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["redis"]["ok"] is False
        assert body["checks"]["redis"]["problem"]
        for private in ("hunter2", "127.0.0.1:1", "redis://"):
            assert private not in response.text
        # Liveness is another question: the process answers.
        assert app.get("/healthz").status_code == 200
    finally:
        app.stop()
