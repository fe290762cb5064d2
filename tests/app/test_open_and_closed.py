"""Open and closed, visibly: the site's close_after_days and an article's own flag close a
discussion whatever the moderation setting; the page shows "Comments are closed" instead of
the form, the API says comments_open: false, posting is refused with a clear message; the
desk, the admin API and the CLI close and reopen it, each audited."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.schema import audit_log
from tests import ADMIN_HEADERS, ERROR_KEYS, MODERATION_ON, comment_payload, desk_csrf, parse_html
from tests.conftest import App, Databases, add_staff, add_token, cli

CLOSE_AFTER = 7  # days, the site's rule in these tests


@dataclass
class Site:
    app: App
    db: Database
    token: str  # a moderator's API token

    def article(self, days_old: float = 0, **fields: Any) -> str:
        published = datetime.now(UTC) - timedelta(days=days_old)
        made = self.app.publish(
            title=f"Open or closed {uuid.uuid4().hex[:8]}",
            published_at=published.isoformat(),
            **fields,
        )
        return str(made["slug"])

    def api_open(self, slug: str) -> bool:
        states = self.states(slug)
        assert len(states) == 1, f"the API disagrees with itself about {slug}"
        return states.pop()

    def states(self, slug: str) -> set[bool]:
        """comments_open as the article, its thread and the list of articles say it."""
        article = self.app.get(f"/api/v1/articles/{slug}")
        thread = self.app.get(f"/api/v1/articles/{slug}/comments")
        assert article.status_code == thread.status_code == 200
        listed = self.app.get("/api/v1/articles", params={"limit": 100}).json()["articles"]
        [in_list] = [a for a in listed if a["slug"] == slug]
        return {
            bool(article.json()["comments_open"]),
            bool(thread.json()["article"]["comments_open"]),
            bool(in_list["comments_open"]),
        }

    def settles(self, slug: str, is_open: bool) -> bool:
        """Whether every answer comes to say `is_open` within a few seconds: a change made
        by another process (the CLI) reaches a server's caches through the change counter,
        which on the PostgreSQL run is Redis pub/sub."""
        deadline = time.monotonic() + 10
        while self.states(slug) != {is_open}:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def admin(self, path: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.app.post(f"/api/v1/admin{path}", headers=headers, **options)

    def audit(self, action: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
            )
            return [dict(row._mapping) for row in rows]


def _site(databases: Databases, env: dict[str, str] | None = None) -> Iterator[Site]:
    db_url = databases.new()
    app = App(db_url, env=env).start()
    db = Database(db_url, pool_size=1)
    try:
        with db.write() as conn:
            site_store.update_site_settings(conn, 1, {"policy": {"close_after_days": CLOSE_AFTER}})
        add_staff(db_url, "mo")
        yield Site(app, db, add_token(db_url, "mo"))
    finally:
        db.dispose()
        app.stop()


@pytest.fixture(scope="module")
def site(databases: Databases) -> Iterator[Site]:
    """Moderation off (the tests' default): the age rule must hold without it."""
    yield from _site(databases)


def _form_on_page(app: App, slug: str) -> tuple[bool, str]:
    """(whether the page has the comment form, the heading where the form would be)."""
    page = parse_html(app.get(f"/articles/{slug}").text)
    forms = page.xpath(f'//form[starts-with(@action, "/articles/{slug}/comments")]')
    [heading] = page.xpath('//section[@id="respond"]/h2')
    return bool(forms), heading.text_content().strip()


def test_an_article_past_close_after_days_is_closed_everywhere_with_moderation_off(
    site: Site,
) -> None:
    old = site.article(days_old=CLOSE_AFTER + 1)
    assert site.api_open(old) is False
    assert _form_on_page(site.app, old) == (False, "Comments are closed")
    posted = site.app.post(f"/api/v1/articles/{old}/comments", json=comment_payload())
    assert posted.status_code == 403, posted.text
    assert set(posted.json()) == ERROR_KEYS
    assert posted.json()["error"] == "closed"
    assert f"closes them {CLOSE_AFTER} days after publication" in posted.json()["message"]
    form = site.app.post(
        f"/articles/{old}/comments", data={"body": "Late.", "name": "Ann", "email": ""}
    )
    assert form.status_code == 403
    assert "closes them 7 days after publication" in form.text
    assert site.app.get(f"/api/v1/articles/{old}/comments").json()["comments"] == []


def test_a_young_article_is_open_and_takes_comments(site: Site) -> None:
    young = site.article(days_old=CLOSE_AFTER - 1)
    assert site.api_open(young) is True
    assert _form_on_page(site.app, young) == (True, "Leave a Reply")
    posted = site.app.post(f"/api/v1/articles/{young}/comments", json=comment_payload())
    assert posted.status_code == 201, posted.text


def test_an_article_published_closed_shows_no_form(site: Site) -> None:
    slug = site.article(comments_open=False)
    assert site.api_open(slug) is False
    assert _form_on_page(site.app, slug)[0] is False
    posted = site.app.post(f"/api/v1/articles/{slug}/comments", json=comment_payload())
    assert posted.status_code == 403
    assert posted.json()["message"] == "Comments are closed on this article."


def test_close_and_reopen_through_the_admin_api_audited(site: Site) -> None:
    slug = site.article()
    comment = site.app.post(f"/api/v1/articles/{slug}/comments", json=comment_payload()).json()
    closed = site.admin(f"/articles/{slug}/close", json={"note": "a flame war"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["comments_open"] is False
    assert closed.json()["closed_by"] == "closed"
    assert site.api_open(slug) is False
    assert site.admin(f"/articles/{slug}/close").status_code == 409  # already closed
    refused = site.app.post(
        f"/api/v1/articles/{slug}/comments", json=comment_payload(parent_id=comment["id"])
    )
    assert refused.status_code == 403  # replies too
    reopened = site.admin(f"/articles/{slug}/open")
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["comments_open"] is True
    assert reopened.json()["reopened_at"] is not None
    assert site.api_open(slug) is True
    [close] = [e for e in site.audit("close") if e["data"] and slug in str(e["data"])]
    assert (close["actor"], close["actor_kind"], close["note"]) == ("mo", "token", "a flame war")
    assert (close["before"], close["after"]) == ("open", "closed")
    assert any(slug in str(e["data"]) for e in site.audit("reopen"))


def test_the_admin_api_refuses_strangers_and_unknown_articles(site: Site) -> None:
    slug = site.article()
    stranger = site.app.post(f"/api/v1/admin/articles/{slug}/close")
    assert stranger.status_code == 401
    assert site.admin("/articles/no-such-article/close").status_code == 404
    assert site.admin(f"/articles/{slug}/shut").status_code == 404
    bad_note = site.admin(f"/articles/{slug}/close", json={"note": 5})
    assert bad_note.status_code == 422 and bad_note.json()["field"] == "note"
    assert site.api_open(slug) is True


def test_reopening_an_article_that_age_closed_restarts_its_count(site: Site) -> None:
    old = site.article(days_old=CLOSE_AFTER * 3)
    assert site.api_open(old) is False
    assert site.admin(f"/articles/{old}/open").json()["comments_open"] is True
    assert site.api_open(old) is True
    posted = site.app.post(f"/api/v1/articles/{old}/comments", json=comment_payload())
    assert posted.status_code == 201, posted.text


def test_the_desk_closes_and_reopens_with_its_csrf_token(site: Site) -> None:
    slug = site.article()
    http = site.app.log_in("mo")
    try:
        page = parse_html(http.get("/admin/articles").text)
        [row] = page.xpath(f'//tr[@data-slug="{slug}"]')
        assert row.get("data-open") == "true"
        [action] = row.xpath(".//form/@action")
        assert action == f"/admin/articles/{slug}/close?site=default"  # the site it shows
        forged = http.post(action, data={"csrf": "not the token"})
        assert forged.status_code == 403
        assert site.api_open(slug) is True
        done = http.post(action, data={"csrf": desk_csrf(http, "/admin/articles"), "note": ""})
        assert done.status_code == 303
        assert done.headers["location"] == "/admin/articles?site=default&done=close"
        assert site.api_open(slug) is False
        after = parse_html(http.get("/admin/articles?done=close").text)
        assert after.xpath('//p[@role="status"]')[0].text_content() == "Closed the discussion."
        [row] = after.xpath(f'//tr[@data-slug="{slug}"]')
        assert row.get("data-open") == "false"
        again = http.post(action, data={"csrf": desk_csrf(http, "/admin/articles")})
        assert again.status_code == 409
        assert "already closed" in again.text
        long_note = {"csrf": desk_csrf(http, "/admin/articles"), "note": "x" * 1001}
        too_long = http.post(f"/admin/articles/{slug}/open", data=long_note)
        assert too_long.status_code == 422
        assert "A note has at most 1000 characters." in too_long.text
        not_a_form = http.post(f"/admin/articles/{slug}/open", content=b"\xff\xfe")
        assert not_a_form.status_code == 403
        reopen = http.post(
            f"/admin/articles/{slug}/open", data={"csrf": desk_csrf(http, "/admin/articles")}
        )
        assert reopen.status_code == 303
    finally:
        http.close()
    assert site.api_open(slug) is True
    assert any(e["actor"] == "mo" and e["actor_kind"] == "user" for e in site.audit("close"))


def test_the_desk_page_needs_a_session(site: Site) -> None:
    assert site.app.get("/admin/articles").status_code == 303


def test_moderation_on_refuses_a_closed_discussion_the_same_way(databases: Databases) -> None:
    for moderated in _site(databases, MODERATION_ON):
        old = moderated.article(days_old=CLOSE_AFTER + 1)
        assert moderated.api_open(old) is False
        posted = moderated.app.post(f"/api/v1/articles/{old}/comments", json=comment_payload())
        assert posted.status_code == 403
        assert "closes them 7 days after publication" in posted.json()["message"]
        # Reopened, it takes comments again: the phase asks the same rule.
        assert moderated.admin(f"/articles/{old}/open").status_code == 200
        # (As an API client: a JSON post with neither the widget's token nor an API token is
        # judged as a form sent back at once, and held.)
        again = moderated.app.post(
            f"/api/v1/articles/{old}/comments", json=comment_payload(), headers=ADMIN_HEADERS
        )
        assert again.status_code == 201, again.text


def test_the_cli_closes_and_opens_an_article(site: Site) -> None:
    slug = site.article()
    closed = cli("article", "close", slug, "--note", "legal advice", db_url=site.app.db_url)
    assert closed.stdout.strip() == f"Comments on /articles/{slug} are closed"
    assert site.settles(slug, False)
    assert _form_on_page(site.app, slug)[0] is False
    opened = cli("article", "open", slug, db_url=site.app.db_url)
    assert opened.stdout.strip() == f"Comments on /articles/{slug} are open"
    assert site.settles(slug, True)
    [entry] = [e for e in site.audit("close") if e["note"] == "legal advice"]
    assert (entry["actor_kind"], entry["actor"]) == ("system", "cli")
    unknown = cli("article", "close", "no-such-article", db_url=site.app.db_url, check=False)
    assert unknown.returncode == 1
    assert "There is no such article." in unknown.stderr
    again = cli("article", "open", slug, db_url=site.app.db_url, check=False)
    assert again.returncode == 1
    assert "already open" in again.stderr


def test_admin_headers_are_not_what_closes_a_discussion(site: Site) -> None:
    # The settings' admin token publishes articles; closing is for desk accounts.
    slug = site.article()
    response = site.app.post(f"/api/v1/admin/articles/{slug}/close", headers=ADMIN_HEADERS)
    assert response.status_code == 401


def test_a_writer_cannot_edit_once_the_discussion_closed_but_may_still_delete(
    site: Site,
) -> None:
    slug = site.article()
    with site.app.client() as writer:
        mine = writer.post(f"/api/v1/articles/{slug}/comments", json=comment_payload()).json()
        other = writer.post(f"/api/v1/articles/{slug}/comments", json=comment_payload()).json()
        assert site.admin(f"/articles/{slug}/close").status_code == 200
        edited = writer.patch(f"/api/v1/comments/{mine['id']}", json={"body": "Second thoughts."})
        assert edited.status_code == 403, edited.text
        assert edited.json()["error"] == "closed"
        form = writer.post(f"/comments/{mine['id']}/edit", data={"body": "Second thoughts."})
        assert form.status_code == 422
        [message] = parse_html(form.text).xpath('//p[@id="body-error"]')
        assert "Comments are closed on this article." in message.text_content()
        assert writer.delete(f"/api/v1/comments/{other['id']}").status_code == 204
