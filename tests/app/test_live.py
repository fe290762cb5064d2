"""Live updates in this process: what a discussion's stream and the desk's stream carry."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from rejoinder.core.models import ArticleDraft
from rejoinder.store import articles as article_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from tests import HELD_TEXT, MODERATION_ON, RELAXED, comment_payload, desk_csrf, parse_html
from tests.conftest import App, Databases, add_staff
from tests.sse import Sse, open_stream

SECRET_EMAIL = "never-shown-{}@example.org"


@dataclass
class Live:
    app: App
    mod: httpx.Client

    def article(self) -> dict[str, object]:
        return self.app.publish()

    def events_path(self, slug: str) -> str:
        return f"/api/v1/articles/{slug}/events"


@pytest.fixture(scope="module")
def live(databases: Databases) -> Iterator[Live]:
    db_url = databases.new()
    app = App(db_url, env={**MODERATION_ON, "REJOINDER_MAX_STREAMS": "5"}).start()
    db = Database(db_url, pool_size=1)
    try:
        with db.write() as conn:
            # One report hides a comment until a moderator looks at it.
            rules = {"policy": RELAXED, "reports_to_queue": 1, "hide_reported": True}
            site_store.update_site_settings(conn, 1, rules)
    finally:
        db.dispose()
    add_staff(db_url, "mod")
    mod = app.log_in("mod")
    try:
        yield Live(app, mod)
    finally:
        mod.close()
        app.stop()


def _post(client: httpx.Client, slug: str, body: str, email: str, expect: int = 201) -> int:
    payload = comment_payload(body=body, email=email)
    response = client.post(f"/api/v1/articles/{slug}/comments", json=payload)
    assert response.status_code == expect, response.text
    return int(response.json()["id"])


def _is(kind: str, comment_id: int) -> Callable[[Sse], bool]:
    return lambda e: e.event == kind and e.json().get("id") == comment_id


def test_a_post_reaches_an_open_stream_as_the_page_shows_it_without_the_email(
    live: Live,
) -> None:
    article = live.article()
    email = SECRET_EMAIL.format(uuid.uuid4().hex[:6])
    with open_stream(live.app, live.events_path(str(article["slug"]))) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        ready = stream.next("ready")
        assert ready.json()["count"] == 0 and ready.id is not None
        with live.app.client() as reader:
            first = _post(reader, str(article["slug"]), "First, *with* words.", email)
            reply = reader.post(
                f"/api/v1/articles/{article['slug']}/comments",
                json=comment_payload(body="A reply.", email=email, parent_id=first),
            )
        got = stream.until(lambda e: e.event == "count" and e.json()["count"] == 2)
        comment = next(e for e in got if e.event == "comment" and e.json()["id"] == first)
        data = comment.json()
        assert data["number"] == 1 and data["parent_id"] is None and data["level"] == 0
        assert f'id="comment-{first}"' in data["html"]
        assert "<em>with</em>" in data["html"]
        reply_event = next(e for e in got if e.event == "comment" and e.json()["id"] != first)
        assert reply_event.json()["id"] == reply.json()["id"]
        assert reply_event.json()["parent_id"] == first
        assert reply_event.json()["level"] == 1
        assert got[-1].json()["heading"].startswith("2 Comments on")
        # Every language's markup rides along; a German page takes the German one.
        assert data["html_lang"]["en"] == data["html"]
        assert 'class="says">schreibt</span>' in data["html_lang"]["de"]
        assert got[-1].json()["heading_lang"]["de"].startswith("2 Kommentare zu „")
        ids = [int(e.id) for e in got if e.id is not None]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert email.encode() not in stream.parser.raw
        assert b"example.org" not in stream.parser.raw


def test_the_article_page_names_its_stream_by_the_discussion_id(live: Live) -> None:
    article = live.article()
    page = parse_html(live.app.get(f"/articles/{article['slug']}").text)
    [path] = page.xpath('//section[@id="comments"]/@data-live')
    assert str(path).startswith("/api/v1/discussions/")
    with open_stream(live.app, str(path)) as stream:
        stream.next("ready")
        with live.app.client() as reader:
            posted = _post(reader, str(article["slug"]), "By id.", "a@example.org")
        stream.until(_is("comment", posted))


def test_a_held_comment_reaches_the_desk_stream_only_until_it_is_approved(live: Live) -> None:
    article = live.article()
    slug = str(article["slug"])
    cookie = {"cookie": "; ".join(f"{k}={v}" for k, v in live.mod.cookies.items())}
    with (
        open_stream(live.app, live.events_path(slug)) as public,
        open_stream(live.app, "/admin/events", headers=cookie) as desk,
    ):
        public.next("ready")
        held_before = desk.next("ready").json()["counts"]["held"]
        with live.app.client() as reader:
            held = _post(reader, slug, HELD_TEXT, "held@example.org", expect=202)
            queued = desk.until(lambda e: e.event == "queue" and e.json()["id"] == held)[-1]
            assert queued.json()["reason"] == "held"
            assert queued.json()["counts"]["held"] == held_before + 1
            later = _post(reader, slug, "A plain comment.", "plain@example.org")
        before_later = public.until(_is("comment", later))
        assert all(e.json().get("id") != held for e in before_later)
        assert b"Israhell" not in public.parser.raw
        assert b"held@example.org" not in desk.parser.raw  # the desk's stream carries counts
        response = live.mod.post(
            f"/admin/comments/{held}/approve", data={"csrf": desk_csrf(live.mod), "back": "/admin"}
        )
        assert response.status_code == 303, response.text
        approved = public.until(_is("approved", held))[-1]
        assert f'id="comment-{held}"' in approved.json()["html"]
        assert public.next("count").json()["count"] == 2
        handled = desk.until(lambda e: e.event == "queue" and e.json()["id"] == held)[-1]
        assert handled.json()["counts"]["held"] == held_before


def test_edits_and_deletions_by_the_writer_are_sent(live: Live) -> None:
    article = live.article()
    slug = str(article["slug"])
    with live.app.client() as writer, open_stream(live.app, live.events_path(slug)) as stream:
        stream.next("ready")
        posted = _post(writer, slug, "Before the edit.", "w@example.org")
        stream.until(_is("comment", posted))
        response = writer.patch(f"/api/v1/comments/{posted}", json={"body": "After the edit."})
        assert response.status_code == 200, response.text
        edited = stream.until(_is("edited", posted))[-1]
        assert "After the edit." in edited.json()["html"]
        assert 'class="edited"' in edited.json()["html"]
        assert writer.delete(f"/api/v1/comments/{posted}").status_code == 204
        deleted = stream.until(_is("deleted", posted))[-1]
        assert deleted.json()["html"] is None  # withdrawn: no reply holds its place
        assert stream.next("count").json()["count"] == 0


def test_a_reconnect_replays_what_it_missed_or_resets_when_it_cannot(live: Live) -> None:
    article = live.article()
    slug = str(article["slug"])
    with open_stream(live.app, live.events_path(slug)) as stream:
        last = stream.next("ready").id
    assert last is not None
    with live.app.client() as reader:
        missed = [_post(reader, slug, f"Missed {n}.", "m@example.org") for n in range(2)]
    with open_stream(live.app, live.events_path(slug), {"Last-Event-ID": last}) as again:
        got = again.until(lambda e: e.event == "ready")
        replayed = [e.json()["id"] for e in got if e.event == "comment"]
        assert replayed == missed
        assert [e.event for e in got].count("count") == 2
        newest = got[-1].id
    assert newest is not None and int(newest) > int(last)
    with open_stream(live.app, live.events_path(slug), {"Last-Event-ID": newest}) as current:
        assert [e.event for e in current.until(lambda e: e.event == "ready")] == ["ready"]
    # An id from another epoch (a restart, a flushed Redis), or no id at all: reload. (A gap
    # older than the ring is tested on the hub itself, in tests/unit/test_live.py.)
    for stale in ("not-an-id", str(int(newest) + 10)):
        with open_stream(live.app, live.events_path(slug), {"Last-Event-ID": stale}) as old:
            got = old.until(lambda e: e.event in ("ready", "reset"))
            assert [e.event for e in got] == ["reset"], stale


def test_a_stream_of_nothing_is_an_error_in_the_one_shape(live: Live) -> None:
    with open_stream(live.app, "/api/v1/articles/no-such-article/events") as stream:
        assert stream.status == 404
    with open_stream(live.app, "/admin/events") as stream:
        assert stream.status == 303  # the desk's stream wants a session


def test_a_discussion_streams_only_on_its_own_sites_addresses(live: Live) -> None:
    """The page's stream is on the site of the Host; the widget's names its site, and answers
    a page of that site's origins with CORS."""
    here = live.article()
    now = datetime.now(UTC)
    db = Database(live.app.db_url, pool_size=1)
    try:
        with db.write() as conn:
            site = site_store.add_site(
                conn,
                f"elsewhere-{uuid.uuid4().hex[:6]}",
                "Elsewhere",
                now,
                origins=("https://news.example",),
            )
            draft = ArticleDraft(
                slug=f"away-{uuid.uuid4().hex[:6]}",
                title="Away",
                dek="",
                author="",
                body_markdown="",
                published_at=now,
                page_id="away",
                page_url="https://news.example/a",
            )
            away = article_store.add_article(conn, site.id, draft, "", now)
    finally:
        db.dispose()
    with open_stream(live.app, f"/api/v1/discussions/{away.id}/events") as stream:
        assert stream.status == 404  # the default site's address has no such discussion
    with open_stream(live.app, f"/embed/default/discussions/{away.id}/events") as stream:
        assert stream.status == 404
    with open_stream(live.app, f"/embed/no-such-site/discussions/{away.id}/events") as stream:
        assert stream.status == 404
    # The widget's fragment names its stream (on the server it came from) and its version.
    fragment = live.app.get(f"/embed/{site.name}/thread", params={"page_id": "away"})
    assert fragment.status_code == 200, fragment.text
    [section] = parse_html(fragment.text).xpath('//section[@id="comments"]')
    widget = f"/embed/{site.name}/discussions/{away.id}/events"
    assert section.get("data-live") == widget
    assert section.get("data-version") == str(away.version)
    with open_stream(live.app, widget, {"Origin": "https://news.example"}) as stream:
        assert stream.status == 200
        assert stream.headers["access-control-allow-origin"] == "https://news.example"
        assert stream.next("ready").json()["count"] == 0
    with open_stream(live.app, widget, {"Origin": "https://other.example"}) as stream:
        assert "access-control-allow-origin" not in stream.headers  # the browser keeps it out
    page = parse_html(live.app.get(f"/articles/{here['slug']}").text)
    [page_stream] = page.xpath('//section[@id="comments"]/@data-live')
    here_id = str(page_stream).split("/")[-2]
    with open_stream(live.app, f"/embed/default/discussions/{here_id}/events") as stream:
        assert stream.status == 200
        stream.next("ready")


def test_past_the_stream_limit_a_stream_is_refused_with_a_retry(live: Live) -> None:
    article = live.article()
    path = live.events_path(str(article["slug"]))
    streams = [open_stream(live.app, path) for _ in range(5)]
    try:
        for stream in streams:
            stream.next("ready")
        with open_stream(live.app, path) as refused:
            assert refused.status == 503
            assert refused.headers["retry-after"] == "10"
    finally:
        for stream in streams:
            stream.close()
    with open_stream(live.app, path) as accepted:  # closed streams make room again
        accepted.next("ready")


def test_a_comment_hidden_by_a_report_leaves_the_page_and_reaches_the_desk(live: Live) -> None:
    article = live.article()
    slug = str(article["slug"])
    cookie = {"cookie": "; ".join(f"{k}={v}" for k, v in live.mod.cookies.items())}
    with (
        live.app.client() as reader,
        open_stream(live.app, "/admin/events", cookie) as desk,
        open_stream(live.app, live.events_path(slug)) as public,
    ):
        desk.next("ready")
        public.next("ready")
        posted = _post(reader, slug, "Something to report.", "r@example.org")
        public.until(_is("comment", posted))
        reader.get(f"/comments/{posted}/report")
        response = reader.post(f"/comments/{posted}/report", data={"reason": "abuse"})
        assert response.status_code == 303, response.text
        event = desk.until(lambda e: e.event == "queue" and e.json()["id"] == posted)[-1]
        assert event.json()["reason"] == "reported"
        assert event.json()["counts"]["reported"] >= 1
        hidden = public.until(_is("edited", posted))[-1]
        assert hidden.json()["html"] is None
        assert public.next("count").json()["count"] == 0


def test_an_edit_that_is_held_takes_the_comment_off_open_pages(live: Live) -> None:
    article = live.article()
    slug = str(article["slug"])
    cookie = {"cookie": "; ".join(f"{k}={v}" for k, v in live.mod.cookies.items())}
    with (
        live.app.client() as writer,
        open_stream(live.app, "/admin/events", cookie) as desk,
        open_stream(live.app, live.events_path(slug)) as public,
    ):
        desk.next("ready")
        public.next("ready")
        posted = _post(writer, slug, "A harmless first version.", "e@example.org")
        public.until(_is("comment", posted))
        response = writer.patch(f"/api/v1/comments/{posted}", json={"body": HELD_TEXT})
        assert response.status_code == 202, response.text
        gone = public.until(_is("edited", posted))[-1]
        assert gone.json()["html"] is None
        assert public.next("count").json()["count"] == 0
        assert b"Israhell" not in public.parser.raw
        queued = desk.until(lambda e: e.event == "queue" and e.json()["id"] == posted)[-1]
        assert queued.json()["reason"] == "held"
