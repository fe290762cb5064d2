"""Who may frame what: the desk and the API never; a public page only the site itself and the
origins its site allows to embed it (`Site.origins`, for the site the Host names)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from rejoinder.store.database import Database
from rejoinder.store.schema import sites
from tests.conftest import App, Databases

EMBEDDERS = ["https://news.example", "http://localhost:8080"]
# What an origin must never smuggle into the policy: another directive.
HOSTILE = "https://evil.example; script-src *"


def directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: value for name, value in parts}


@pytest.fixture(scope="module")
def embedded(databases: Databases) -> Iterator[App]:
    """An app whose default site allows two origins (and has one that is not an origin)."""
    db_url = databases.new()
    App(db_url).start().stop()  # makes the schema and the default site
    db = Database(db_url, pool_size=1)
    try:
        with db.write() as conn:
            conn.execute(update(sites).values(origins=json.dumps([*EMBEDDERS, HOSTILE])))
    finally:
        db.dispose()
    running = App(db_url).start()
    try:
        yield running
    finally:
        running.stop()


def _frame_ancestors(app: App, path: str) -> str:
    response = app.get(path)
    assert "content-security-policy" in response.headers, path
    return directives(response.headers["content-security-policy"])["frame-ancestors"]


def test_public_pages_may_be_framed_by_the_site_and_its_embedding_origins(embedded: App) -> None:
    slug = embedded.publish()["slug"]
    for path in ("/", f"/articles/{slug}", "/feed.atom"):
        assert _frame_ancestors(embedded, path).split() == ["'self'", *EMBEDDERS], path
    policy = embedded.get(f"/articles/{slug}").headers["content-security-policy"]
    assert "evil.example" not in policy and "script-src *" not in policy


def test_the_desk_and_the_api_are_never_framed(embedded: App) -> None:
    slug = embedded.publish()["slug"]
    for path in (
        "/admin/login",
        "/admin",
        f"/api/v1/articles/{slug}",
        f"/api/v1/articles/{slug}/comments",
        "/api/v1/docs",
        "/api/v1/openapi.json",
    ):
        assert _frame_ancestors(embedded, path) == "'none'", path
    assert embedded.get("/admin/login").headers["x-frame-options"] == "DENY"


def test_a_site_without_embedding_origins_is_framed_by_itself_only(app: App) -> None:
    slug = app.publish()["slug"]
    assert _frame_ancestors(app, f"/articles/{slug}") == "'self'"
    assert _frame_ancestors(app, "/api/v1/articles") == "'none'"
