"""Featured comments are in the API; a pinned top-level comment comes first in its thread, on
the page and in the API, pinned and unpinned from the desk and the admin API, audited."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rejoinder.store.database import Database
from rejoinder.store.schema import audit_log
from tests import desk_csrf, parse_html, post, thread, walk
from tests.conftest import App, Databases, add_staff, add_token


@dataclass
class Desk:
    app: App
    db: Database
    token: str

    def act(self, comment_id: int, action: str, **body: Any) -> httpx.Response:
        return self.app.post(
            f"/api/v1/admin/comments/{comment_id}/{action}",
            headers={"Authorization": f"Bearer {self.token}"},
            json=body or None,
        )

    def audit(self, comment_id: int) -> list[tuple[str, str | None, str | None]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(audit_log.c.action, audit_log.c.before, audit_log.c.after)
                .where(audit_log.c.comment_id == comment_id)
                .order_by(audit_log.c.id)
            )
            return [(row.action, row.before, row.after) for row in rows]


@pytest.fixture(scope="module")
def desk(databases: Databases) -> Iterator[Desk]:
    db_url = databases.new()
    app = App(db_url).start()
    db = Database(db_url, pool_size=1)
    try:
        add_staff(db_url, "pia")
        yield Desk(app, db, add_token(db_url, "pia"))
    finally:
        db.dispose()
        app.stop()


def _thread_of(desk: Desk, count: int) -> tuple[str, list[int]]:
    slug = str(desk.app.publish(title=f"Pins {uuid.uuid4().hex[:8]}")["slug"])
    with desk.app.client() as http:
        ids = [int(post(http, slug, body=f"Comment number {n}.")["id"]) for n in range(count)]
    return slug, ids


def _page_order(app: App, slug: str) -> list[int]:
    page = parse_html(app.get(f"/articles/{slug}").text)
    found = page.xpath('//ol[@class="comment-list"]/li/@id')
    return [int(str(i).removeprefix("comment-")) for i in found]


def test_featured_comments_say_so_in_the_api(desk: Desk) -> None:
    slug, (first, second) = _thread_of(desk, 2)
    assert desk.act(second, "feature").status_code == 200
    with desk.app.client() as http:
        comments = {c["id"]: c for c in walk(thread(http, slug)["comments"])}
    assert comments[second]["featured"] is True
    assert comments[first]["featured"] is False


def test_a_pinned_comment_comes_first_on_the_page_and_in_the_api(desk: Desk) -> None:
    slug, ids = _thread_of(desk, 4)
    pinned = ids[2]
    done = desk.act(pinned, "pin", note="the best answer")
    assert done.status_code == 200, done.text
    assert done.json()["action"] == "pin"
    with desk.app.client() as http:
        oldest = thread(http, slug)["comments"]
        newest = thread(http, slug, sort="newest")["comments"]
    assert [c["id"] for c in oldest] == [pinned, ids[0], ids[1], ids[3]]
    assert [c["id"] for c in newest] == [pinned, ids[3], ids[1], ids[0]]
    assert [c["pinned"] for c in oldest] == [True, False, False, False]
    assert _page_order(desk.app, slug) == [pinned, ids[0], ids[1], ids[3]]
    page = parse_html(desk.app.get(f"/articles/{slug}").text)
    [badge] = page.xpath(f'//li[@id="comment-{pinned}"]//strong[@class="pinned"]')
    assert badge.text_content() == "Pinned"
    assert desk.act(pinned, "pin").status_code == 409  # already pinned
    assert desk.act(pinned, "unpin").status_code == 200
    assert _page_order(desk.app, slug) == ids
    assert desk.audit(pinned)[-2:] == [("pin", "false", "true"), ("unpin", "true", "false")]


def test_a_pinned_comment_is_on_the_first_page_only(desk: Desk) -> None:
    slug, ids = _thread_of(desk, 3)
    assert desk.act(ids[2], "pin").status_code == 200
    with desk.app.client() as http:
        first = thread(http, slug)
        assert [c["id"] for c in first["comments"]] == [ids[2], ids[0], ids[1]]
        later = thread(http, slug, cursor=1)  # the page after top-level comment No. 1
    assert [c["id"] for c in later["comments"]] == [ids[1]]  # No. 3 was on the first page


def test_only_a_published_top_level_comment_can_be_pinned(desk: Desk) -> None:
    slug, [parent] = _thread_of(desk, 1)
    with desk.app.client() as http:
        reply = post(http, slug, body="A reply.", parent_id=parent)
    refused = desk.act(int(reply["id"]), "pin")
    assert refused.status_code == 409
    assert "only a top-level one can be pinned" in refused.json()["message"]
    assert desk.act(10**6, "pin").status_code == 404


def test_the_desk_pins_with_its_csrf_token(desk: Desk) -> None:
    slug, ids = _thread_of(desk, 2)
    http = desk.app.log_in("pia")
    try:
        page = parse_html(http.get("/admin/published").text)
        buttons = page.xpath(f'//li[@id="item-{ids[1]}"]//button/@formaction')
        assert f"/admin/comments/{ids[1]}/pin" in buttons
        forged = http.post(f"/admin/comments/{ids[1]}/pin", data={"csrf": "forged"})
        assert forged.status_code == 403
        assert _page_order(desk.app, slug) == ids
        csrf = desk_csrf(http, "/admin/published")
        done = http.post(f"/admin/comments/{ids[1]}/pin", data={"csrf": csrf})
        assert done.status_code == 303
        assert _page_order(desk.app, slug) == [ids[1], ids[0]]
        page = parse_html(http.get("/admin/published").text)
        buttons = page.xpath(f'//li[@id="item-{ids[1]}"]//button/@formaction')
        assert f"/admin/comments/{ids[1]}/unpin" in buttons
    finally:
        http.close()
    assert desk.audit(ids[1])[-1] == ("pin", "false", "true")
