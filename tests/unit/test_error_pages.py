"""An unexpected error answers in the kind of the page asked for: JSON under /api/, a page
elsewhere, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx

from rejoinder.settings import Settings
from rejoinder.web.app import create_app


def test_an_unexpected_error_is_a_page_on_pages_and_json_on_the_api(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'boom.db'}"))

    def boom() -> None:
        raise RuntimeError("secret detail that must not leak")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)

    async def ask() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/boom"), await client.get("/api/v1/boom")

    page, api = anyio.run(ask)
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in page.text
    assert api.status_code == 500
    assert api.json() == {
        "error": "internal",
        "field": None,
        "message": "Something went wrong on our side; nothing was saved.",
    }
    for response in (page, api):
        assert "secret detail" not in response.text and "Traceback" not in response.text
