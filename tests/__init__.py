"""What the tests that talk HTTP share: constants, request bodies, and readers of the answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import lxml.html
from starlette.routing import BaseRoute

ADMIN_HEADERS = {"Authorization": "Bearer test-admin-token"}
ERROR_KEYS = {"error", "field", "message"}
# Moderation on with the rule phases only: verdicts that do not hang on the model's scores.
MODERATION_ON = {"REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "false"}
PASSWORD = "correct horse battery staple"  # every desk account's in the tests
# A policy that lets one address post as fast as a test does (the other rules still apply).
RELAXED: dict[str, Any] = {
    "min_form_seconds": 0,
    "flood_seconds": 0,
    "per_minute": None,
    "per_hour": None,
    "top_level_per_thread": None,
}
# A sentence the shipped refuse list turns away (incitement), and one the hold list holds.
REFUSED_TEXT = "Honestly, the whole council should be exterminated. Then we would get a bridge."
HELD_TEXT = "Israhell will never admit that the bridge was its idea."
LOGOUT_CSRF = '//form[@action="/admin/logout"]//input[@name="csrf"]/@value'


def comment_payload(**fields: Any) -> dict[str, Any]:
    """A valid comment body for the API; `fields` override or add."""
    payload: dict[str, Any] = {
        "body": f"A comment {uuid.uuid4().hex[:6]}.",
        "name": "Ada Reader",
        "email": "ada@example.org",
    }
    payload.update(fields)
    return payload


def post(client: httpx.Client, slug: str, **fields: Any) -> dict[str, Any]:
    """Post a comment through the API with `client` (which keeps the ownership cookie)."""
    response = client.post(f"/api/v1/articles/{slug}/comments", json=comment_payload(**fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


def thread(client: httpx.Client, slug: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/articles/{slug}/comments", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def walk(comments: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every comment of an API tree, parents before their replies."""
    for comment in comments:
        yield comment
        yield from walk(comment["replies"])


def article_count(client: httpx.Client, slug: str) -> int:
    response = client.get(f"/api/v1/articles/{slug}")
    assert response.status_code == 200, response.text
    return int(response.json()["comment_count"])


def parse_html(text: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(text)


def words(element: lxml.html.HtmlElement) -> str:
    """An element's text with whitespace collapsed, as a reader sees it."""
    return " ".join(element.text_content().split())


def comment_li(page: lxml.html.HtmlElement, comment_id: int) -> lxml.html.HtmlElement:
    found = page.xpath(f'//li[@id="comment-{comment_id}"]')
    assert len(found) == 1, f"comment {comment_id} appears {len(found)} times"
    element: lxml.html.HtmlElement = found[0]
    return element


def has_class(name: str) -> str:
    """An XPath predicate for an element with the CSS class `name`."""
    return f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'


def login_csrf(http: httpx.Client) -> str:
    """The CSRF token of the desk's login form, as `http` is given it."""
    form = http.get("/admin/login")
    assert form.status_code == 200, form.text
    [token] = parse_html(form.text).xpath(
        '//form[@action="/admin/login"]//input[@name="csrf"]/@value'
    )
    return str(token)


def log_in(http: httpx.Client, name: str, password: str = PASSWORD, next: str = "/admin") -> None:
    """Log `http` in to the desk as `name` through the login form."""
    response = http.post(
        "/admin/login",
        data={"name": name, "password": password, "csrf": login_csrf(http), "next": next},
    )
    assert response.status_code == 303, response.text


def desk_csrf(http: httpx.Client, page: str = "/admin/audit") -> str:
    """A logged-in session's CSRF token, from the logout form of a desk `page`."""
    response = http.get(page)
    assert response.status_code == 200, response.text
    [token] = parse_html(response.text).xpath(LOGOUT_CSRF)
    return str(token)


def app_routes(db_url: str) -> list[BaseRoute]:
    """Every route of the app as a server builds it, those made on first use included."""
    from rejoinder.runtime import open_runtime
    from rejoinder.settings import load_settings
    from rejoinder.web.app import create_app

    runtime = open_runtime(load_settings(database_url=db_url, moderation=False))
    try:
        app = create_app(runtime=runtime)
        for routes in app.state.deferred_routes:
            routes.load_now()
        return list(app.routes)
    finally:
        runtime.close()
