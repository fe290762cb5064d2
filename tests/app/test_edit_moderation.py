"""A writer's edit is judged like a post: a comment cannot be posted clean and then edited
into abuse. Refused: the old text stays and the writer is told why. Held: the comment leaves
the page, keeps its number, and comes back at it when a moderator approves."""

from __future__ import annotations

from typing import Any

import httpx

from rejoinder.store import sites as site_store
from tests import HELD_TEXT, REFUSED_TEXT, RELAXED, parse_html, words
from tests.app import test_desk
from tests.app.test_desk import Desk, _tag
from tests.conftest import Service

desk = test_desk.desk  # the same app fixture: moderation on, a moderator with a token
CLEAN = "The bus lane pilot deserves a fair test before anyone votes on it."


def _post(reader: httpx.Client, slug: str, body: str = CLEAN, **fields: Any) -> dict[str, Any]:
    payload = {"body": body, "name": "Edna Writer", "email": f"edna-{_tag()}@example.org"}
    response = reader.post(f"/api/v1/articles/{slug}/comments", json={**payload, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _count(reader: httpx.Client, slug: str) -> int:
    return int(reader.get("/api/v1/counts", params={"slug": slug}).json()["counts"][slug])


def _public_bodies(site: Service, slug: str) -> str:
    """The article page as a stranger (no cookies) sees it."""
    return words(parse_html(site.get(f"/articles/{slug}").text))


def test_an_edit_into_refused_words_keeps_the_old_text_and_says_why(desk: Desk) -> None:
    slug = desk.article()
    with desk.app.client() as reader:
        posted = _post(reader, slug)
        response = reader.patch(f"/api/v1/comments/{posted['id']}", json={"body": REFUSED_TEXT})
        assert response.status_code == 422, response.text
        error = response.json()
        assert error["error"] == "refused" and error["field"] == "body"
        assert error["message"].startswith("Your edit was not saved because")
        assert "exterminated" in error["message"]
        row = desk.row(int(posted["id"]))
        assert row["body_markdown"] == CLEAN and row["status"] == "published"
        assert row["edited_at"] is None
        assert _count(reader, slug) == 1
    [verdict] = [e for e in desk.audit(int(posted["id"])) if '"edit": true' in e["data"]]
    assert verdict["action"] == "verdict" and verdict["after"] == "refuse"


def test_an_edit_that_is_held_leaves_the_page_and_approval_restores_its_number(
    desk: Desk,
) -> None:
    slug = desk.article()
    with desk.app.client() as reader:
        first = _post(reader, slug, "First comment, to take number one.")
        second = _post(reader, slug)
        third = _post(reader, slug, "A third comment, posted after the one edited.")
        assert [first["number"], second["number"], third["number"]] == [1, 2, 3]
        assert _count(reader, slug) == 3
        edited = reader.patch(f"/api/v1/comments/{second['id']}", json={"body": HELD_TEXT})
        assert edited.status_code == 202, edited.text
        assert edited.json()["status"] == "held"
        assert _count(reader, slug) == 2
        # Its writer still sees it, waiting; a stranger does not.
        assert "Israhell" in words(parse_html(reader.get(f"/articles/{slug}").text))
    assert "Israhell" not in _public_bodies(desk.app, slug)
    row = desk.row(int(second["id"]))
    assert (row["status"], row["number"]) == ("held", 2)
    assert "Israhell" in row["moderation"]
    approved = desk.api("POST", f"/api/v1/admin/comments/{second['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    row = desk.row(int(second["id"]))
    assert (row["status"], row["number"]) == ("published", 2)
    with desk.app.client() as stranger:
        assert _count(stranger, slug) == 3
    assert "Israhell" in _public_bodies(desk.app, slug)


def test_an_answered_comment_cannot_be_edited_into_a_hold(desk: Desk) -> None:
    slug = desk.article()
    with (
        desk.app.client() as writer,
        desk.app.client() as other,
    ):
        own = _post(writer, slug, "A comment about the bridge budget.")
        _post(other, slug, "A reply that agrees with the point above.", parent_id=own["id"])
        response = writer.patch(f"/api/v1/comments/{own['id']}", json={"body": HELD_TEXT})
        assert response.status_code == 422, response.text
        message = response.json()["message"]
        assert message.startswith("Your edit was not saved because")
        assert "replied to" in message and "Israhell" in message
    row = desk.row(int(own["id"]))
    assert row["status"] == "published"
    assert row["body_markdown"] == "A comment about the bridge budget."


def test_an_edit_right_after_posting_is_not_taken_for_flooding_or_a_duplicate(desk: Desk) -> None:
    """Under the default limits (15 s flood, the same text twice refused), an edit made at once,
    even one that changes nothing, is judged for what it says only."""
    with desk.db.write() as conn:
        site_store.update_site_settings(conn, 1, {"policy": {**RELAXED, "flood_seconds": 15}})
    try:
        slug = desk.article()
        # An address of its own: the other tests' posts from this machine must not count
        # against this one's first post.
        with desk.app.client(address="203.0.113.77") as reader:
            posted = _post(reader, slug)
            same = reader.patch(f"/api/v1/comments/{posted['id']}", json={"body": CLEAN})
            assert same.status_code == 200, same.text
            better = CLEAN + " Edited: the figures are in the annex."
            changed = reader.patch(f"/api/v1/comments/{posted['id']}", json={"body": better})
            assert changed.status_code == 200, changed.text
            assert desk.row(int(posted["id"]))["body_markdown"] == better
    finally:
        with desk.db.write() as conn:
            site_store.update_site_settings(conn, 1, {"policy": RELAXED})


def test_the_edit_form_comes_back_with_the_reason_beside_the_text(desk: Desk) -> None:
    slug = desk.article()
    text = "The form route: a comment on the library's opening hours."
    with desk.app.client() as reader:
        posted = _post(reader, slug, text)
        response = reader.post(f"/comments/{posted['id']}/edit", data={"body": REFUSED_TEXT})
        assert response.status_code == 422, response.text
        page = parse_html(response.text)
        [textarea] = page.xpath('//textarea[@name="body"]')
        assert (textarea.text or "").strip() == REFUSED_TEXT
        [beside] = page.xpath('//p[@id="body-error"]')
        assert textarea.get("aria-describedby") == "body-error"
        assert words(beside).startswith("Error: Your edit was not saved because")
        assert desk.row(int(posted["id"]))["body_markdown"] == text
