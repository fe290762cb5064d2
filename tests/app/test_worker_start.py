"""What a worker's start leaves for later. The JSON API's, the widget's and the desk's routes
are made on first use (web/deferred.py): each group's first request answers as it would with
every route made, and makes only what that request needs, with nothing else shadowed or lost
on the way. The garbage collector that `rejoinder serve` pauses for the start runs again once
the worker has warmed up."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

from tests.conftest import App, add_staff, add_token


@pytest.fixture
def fresh(db_url: str) -> Iterator[App]:
    """An app of its own, so that no other test has made its routes yet. The background
    warm-up starts a second after the lifespan: the test is done well before."""
    app = App(db_url).start()
    yield app
    app.stop()


def _loaded(app: App) -> dict[str, bool]:
    groups = app._app.state.deferred_routes
    return {repr(group): group.loaded for group in groups}


def test_nothing_is_made_before_it_is_asked_for(fresh: App) -> None:
    assert fresh.get("/healthz").status_code == 200
    assert fresh.get("/").status_code == 200
    assert not any(_loaded(fresh).values()), _loaded(fresh)


def test_the_api_answers_its_first_request_and_makes_only_itself(fresh: App) -> None:
    response = fresh.get("/api/v1/articles")
    assert response.status_code == 200, response.text
    loaded = _loaded(fresh)
    assert [name for name, made in loaded.items() if made] == ["DeferredRoutes(/api/v1)"]
    # A path under the prefix that no route has is still a plain JSON 404, not a loop.
    missing = fresh.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert fresh.get("/api/v1/articles").status_code == 200  # and again, from its own route


def test_the_widget_script_answers_first_time(fresh: App) -> None:
    script = fresh.get("/count.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")


def test_the_widgets_admin_api_answers_first_time(fresh: App) -> None:
    # Its routes sit under the desk's API prefix, behind the API's placeholder and before
    # the desk's: asked for before anything else made them, neither may swallow it.
    refused = fresh.post("/api/v1/admin/sites/default/discussions", json={})
    assert refused.status_code in (401, 403), refused.text
    add_staff(fresh.db_url, "editor", "admin")
    token = add_token(fresh.db_url, "editor")
    allowed = fresh.post(
        "/api/v1/admin/sites/default/discussions",
        json={"page_id": "deferred-1", "title": "A page", "url": "https://example.org/a"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["page_id"] == "deferred-1"


def test_the_openapi_document_lists_every_group(fresh: App) -> None:
    paths = fresh.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/articles" in paths
    assert "/embed/{site}/thread" in paths
    assert any(path.startswith("/api/v1/admin/") for path in paths)
    assert all(_loaded(fresh).values())


def test_a_paused_collector_runs_again_after_the_warm_up(db_url: str) -> None:
    gc.disable()  # as `rejoinder serve` does before its start
    app = App(db_url)
    try:
        app.start()
        assert not gc.isenabled()  # the start itself runs without it
        assert app.get("/healthz").status_code == 200
        deadline = time.monotonic() + 60
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gc.isenabled(), "the warm-up never resumed the collector"
        assert gc.get_freeze_count() > 0  # the start's objects were set aside
        assert all(group.loaded for group in app._app.state.deferred_routes)
    finally:
        app.stop()
        gc.unfreeze()
        gc.enable()
