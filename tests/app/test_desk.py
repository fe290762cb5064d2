"""The moderators' desk over HTTP: queues with marked words, actions, counts, races, the API."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import lxml.html
import pytest
from sqlalchemy import func, select

from rejoinder.core.models import Status
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import sites as site_store
from rejoinder.store.articles import get_article
from rejoinder.store.database import Database
from rejoinder.store.schema import audit_log, comments, refused, reports
from tests import (
    ERROR_KEYS,
    MODERATION_ON,
    RELAXED,
    comment_li,
    desk_csrf,
    has_class,
    parse_html,
    words,
)
from tests.conftest import SEED, App, Databases, Service, add_staff, add_token, cli

INSULT = "brain dead halfwits"
HELD_BODY = f"You {INSULT} on the council never read the plan."
TABS = {
    "/admin": "held",
    "/admin/reported": "reported",
    "/admin/published": "published",
    "/admin/refused": "refused",
    "/admin/all": "all",
}
XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    '\'><iframe srcdoc="<script>alert(1)</script>">',
    '<a href="javascript:alert(1)">x</a>',
    "</textarea><script>alert(2)</script>",
    "{{ 7*7 }} <style>body{display:none}</style>",
]


@dataclass
class Desk:
    """The app with moderation on (model off), a handle on its database, two moderators
    logged in (each their own cookie jar) and an API token."""

    app: App
    db: Database
    mod: httpx.Client
    mod2: httpx.Client
    token: str

    @property
    def url(self) -> str:
        return self.app.url

    def article(self, **fields: Any) -> str:
        return str(self.app.publish(**fields)["slug"])

    def post(self, slug: str, body: str, *, expect: int = 202, **fields: Any) -> int:
        """A reader posts through the API; 202 is held, 201 published."""
        payload = {"body": body, "name": "Pat Reader", "email": f"pat-{_tag()}@example.org"}
        payload.update(fields)
        with self.app.client() as reader:
            response = reader.post(f"/api/v1/articles/{slug}/comments", json=payload)
        assert response.status_code == expect, response.text
        return int(response.json()["id"])

    def row(self, comment_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            found = conn.execute(select(comments).where(comments.c.id == comment_id)).one()
        return dict(found._mapping)

    def audit(self, comment_id: int) -> list[dict[str, Any]]:
        """The comment's entries, oldest first, as the desk reads them (with their personal
        parts, which the log keeps in a table of their own)."""
        with self.db.read() as conn:
            entries = audit_store.list_entries(conn, comment_id=comment_id, limit=1000)
        return [{**e.to_dict(), "data": json.dumps(e.data)} for e in reversed(entries)]

    def act(
        self, client: httpx.Client, comment_id: int, action: str, **fields: str
    ) -> httpx.Response:
        data = {"csrf": _csrf(client), "back": "/admin", **fields}
        return client.post(f"/admin/comments/{comment_id}/{action}", data=data)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.app.request(method, path, headers=headers, **kwargs)


_CSRF: dict[int, str] = {}


def _csrf(client: httpx.Client) -> str:
    """The session's CSRF token, from the logout form of a desk page (cached per client)."""
    if id(client) not in _CSRF:
        _CSRF[id(client)] = desk_csrf(client, "/admin/published")
    return _CSRF[id(client)]


def _tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def desk(databases: Databases) -> Iterator[Desk]:
    db_url = databases.new()
    app = App(db_url, env=MODERATION_ON).start()
    db = Database(db_url, pool_size=2)
    with db.write() as conn:
        site_store.update_site_settings(conn, 1, {"policy": RELAXED})
    add_staff(db_url, "mod")
    add_staff(db_url, "mod2")
    token = add_token(db_url, "mod", "tests")
    mod, mod2 = app.log_in("mod"), app.log_in("mod2")
    try:
        yield Desk(app, db, mod, mod2, token)
    finally:
        mod.close()
        mod2.close()
        db.dispose()
        app.stop()


def tab_counts(client: httpx.Client, path: str = "/admin") -> dict[str, int]:
    """The counts the tabs show, by tab."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    found = {}
    for link in parse_html(response.text).xpath('//nav[@aria-label="Desk"]/a'):
        tab = TABS.get(link.get("href"))
        if tab:
            [count] = link.xpath('.//span[@class="count"]')
            found[tab] = int(words(count))
    assert set(found) == set(TABS.values()), found
    return found


def truth(desk: Desk) -> dict[str, int]:
    """The counts as the database has them, worked out here independently of the desk."""
    with desk.db.read() as conn:
        rows = conn.execute(select(comments.c.status, func.count()).group_by(comments.c.status))
        by_status: dict[str, int] = {str(status): int(n) for status, n in rows}
        unresolved = select(reports.c.comment_id).where(reports.c.resolved.is_(False))
        reported = conn.execute(
            select(func.count()).where(
                comments.c.status == "published",
                comments.c.report_count >= 3,
                comments.c.id.in_(unresolved),
            )
        ).scalar_one()
        refusals = conn.execute(select(func.count()).select_from(refused)).scalar_one()
    return {
        "held": by_status.get("held", 0),
        "reported": int(reported),
        "published": by_status.get("published", 0),  # every comment here is recent
        "refused": int(refusals),
        "all": sum(n for s, n in by_status.items() if s != "withdrawn"),
    }


def check_counts(desk: Desk, before: dict[str, int], **delta: int) -> dict[str, int]:
    """Every tab's count moved by `delta` (the others not at all) and matches the database."""
    after = tab_counts(desk.mod)
    assert after == {tab: before[tab] + delta.get(tab, 0) for tab in before}, (before, after)
    assert after == truth(desk)
    api = desk.api("GET", "/api/v1/admin/counts").json()["counts"]
    assert api == after
    return after


def queue_item(html: str, comment_id: int) -> lxml.html.HtmlElement | None:
    found = parse_html(html).xpath(f'//ol[{has_class("queue")}]/li[@id="item-{comment_id}"]')
    return found[0] if found else None


def flash(client: httpx.Client, response: httpx.Response) -> str:
    """Follow a post/redirect/get and read the flash message the page shows."""
    assert response.status_code == 303, (response.status_code, response.text[:500])
    page = client.get(response.headers["location"])
    found = parse_html(page.text).xpath(f"//p[{has_class('flash')}]")
    assert found, "no flash message"
    return words(found[0])


def article_numbers(site: Service, slug: str) -> dict[int, str]:
    page = parse_html(site.get(f"/articles/{slug}").text)
    return {
        int(li.get("id").split("-")[1]): words(li.xpath(".//span[@class='num']")[0])
        for li in page.xpath('//li[starts-with(@id, "comment-")]')
    }


def article_count(site: Service, slug: str) -> int:
    return int(site.get(f"/api/v1/articles/{slug}").json()["comment_count"])


# --- access ---------------------------------------------------------------------------------


def test_without_a_session_pages_go_to_login_and_the_api_answers_401(desk: Desk) -> None:
    with desk.app.client() as stranger:
        for path in TABS:
            response = stranger.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/admin/login?next=" + path)
        response = stranger.post("/admin/comments/1/approve", data={"csrf": "x"})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")
        for method, path in (
            ("GET", "/api/v1/admin/counts"),
            ("GET", "/api/v1/admin/queues/held"),
            ("POST", "/api/v1/admin/comments/1/approve"),
            ("POST", "/api/v1/admin/comments/bulk"),
        ):
            response = stranger.request(method, path)
            assert response.status_code == 401, (method, path)
            assert set(response.json()) == ERROR_KEYS
        bad_token = stranger.get(
            "/api/v1/admin/counts", headers={"Authorization": "Bearer not-a-token"}
        )
        assert bad_token.status_code == 401


def test_a_missing_or_forged_csrf_token_is_refused_and_changes_nothing(desk: Desk) -> None:
    slug = desk.article()
    held = desk.post(slug, HELD_BODY)
    before = tab_counts(desk.mod)
    for data in ({}, {"csrf": "forged-" + _tag()}, {"csrf": _csrf(desk.mod2)}):
        response = desk.mod.post(f"/admin/comments/{held}/approve", data=data)
        assert response.status_code == 403, response.text[:300]
        response = desk.mod.post(
            "/admin/comments/bulk", data={**data, "action": "approve", "ids": str(held)}
        )
        assert response.status_code == 403
    # The session's cookie without the header (a cross-site script's request) is refused too.
    response = desk.mod.post(f"/api/v1/admin/comments/{held}/approve")
    assert response.status_code == 403 and set(response.json()) == ERROR_KEYS
    assert desk.row(held)["status"] == "held"
    assert [e["action"] for e in desk.audit(held)] == ["verdict"]
    check_counts(desk, before)


# --- the queue ------------------------------------------------------------------------------


def test_a_held_reply_shows_in_held_with_its_words_marked_context_and_history(desk: Desk) -> None:
    title = f"Bridge vote {_tag()}"
    slug = desk.article(title=title)
    email = f"bob-{_tag()}@example.org"
    parent = desk.post(slug, "The plan is fine, read page four.", expect=201, name="Ann Civil")
    held = desk.post(
        slug,
        HELD_BODY,
        name="Bob Blunt",
        email=email,
        website="https://example.org/bob",
        parent_id=parent,
    )
    desk.post(slug, "And a second thought, calmly.", expect=201, email=email, name="Bob Blunt")
    item = queue_item(desk.mod.get("/admin").text, held)
    assert item is not None
    assert [words(m) for m in item.xpath('.//div[@class="text"]/mark')] == [INSULT]
    assert words(item.xpath('.//div[@class="text"]')[0]) == HELD_BODY
    [link] = item.xpath(".//h2/a")
    assert words(link) == title and link.get("href") == f"/articles/{slug}"
    assert "The plan is fine, read page four." in words(item.xpath(".//blockquote")[0])
    assert "Ann Civil" in words(item.xpath(".//blockquote")[0])
    assert words(item.xpath('.//dd[@class="name"]')[0]) == "Bob Blunt"
    assert words(item.xpath('.//dd[@class="email"]')[0]) == email
    assert words(item.xpath('.//dd[@class="website"]')[0]) == "https://example.org/bob"
    assert re.fullmatch(r"[0-9a-f]{8}", words(item.xpath('.//dd[@class="group"]//code')[0]))
    history = item.xpath('.//dd[@class="history"]/a')
    assert [words(a) for a in history] == ["1 approved", "1 held", "0 refused", "0 rejected"]
    assert (
        history[0].get("href") == f"/admin/all?email={email.replace('@', '%40')}&status=published"
    )
    reasons = words(item.xpath('.//ul[@class="reasons"]')[0])
    assert INSULT in reasons
    # The email's link lists that commenter's comments in All.
    everything = desk.mod.get("/admin/all", params={"email": email}).text
    assert queue_item(everything, held) is not None
    assert len(parse_html(everything).xpath('//ol[@class="queue"]/li')) == 2
    # Published readers never see the email or the address group.
    assert email not in desk.app.get(f"{desk.url}/articles/{slug}", timeout=10).text


def test_a_threat_is_held_with_its_words_marked_and_the_reason_named(desk: Desk) -> None:
    slug = desk.article(title=f"Council budget {_tag()}")
    threat = "someone should sh00t the mayor"
    held = desk.post(slug, f"Cut the library again and {threat}, honestly.", name="Vic Vexed")
    assert desk.row(held)["status"] == Status.HELD.value
    item = queue_item(desk.mod.get("/admin").text, held)
    assert item is not None
    assert [words(m) for m in item.xpath('.//div[@class="text"]/mark')] == [threat]
    reasons = words(item.xpath('.//ul[@class="reasons"]')[0])
    assert f'it threatens violence: "{threat}"' in reasons


def test_scores_show_per_category_and_marks_come_from_the_raw_text(desk: Desk) -> None:
    """The stored HTML is never shown: marks are built from body_markdown, escaped."""
    slug = desk.article()
    body = "Plain <b>words</b> & a nasty bit here."
    decision = {
        "verdict": "hold",
        "reasons": [
            {
                "phase": "model",
                "code": "toxicity",
                "message": "the model scores it toxic",
                "action": "hold",
                "spans": [{"start": 22, "end": 31, "text": "nasty bit", "field": "text"}],
            }
        ],
        "scores": {"toxicity": 0.82, "insult": 0.41, "threat": 0.03},
    }
    with desk.db.write() as conn:
        article = get_article(conn, 1, slug)
        assert article is not None
        stored = comment_store.add_comment(
            conn,
            article_id=article.id,
            parent=None,
            number=0,
            name="Scored",
            email="",
            website=None,
            body_markdown=body,
            body_html="<p>STORED HTML <script>x()</script></p>",
            status=Status.HELD,
            created_at=datetime.now(UTC),
            moderation=json.dumps(decision),
        )
    item = queue_item(desk.mod.get("/admin").text, stored.id)
    assert item is not None
    text = item.xpath('.//div[@class="text"]')[0]
    assert words(text) == body and "STORED HTML" not in lxml.html.tostring(item, encoding="unicode")
    assert [words(m) for m in text.xpath("./mark")] == ["nasty bit"]
    assert not text.xpath(".//b")  # the raw <b> is text, not markup
    scores = [words(li) for li in item.xpath('.//ul[@class="scores"]/li')]
    assert scores == ["toxicity 0.82", "insult 0.41", "threat 0.03"]
    assert words(item.xpath('.//p[@class="scored-by"]')[0]) == "Scored by the shipped model"
    [bar] = item.xpath('.//ul[@class="scores"]/li[1]//span[contains(@class, "fill")]')
    assert bar.get("style") == "width: 82%"
    api = desk.api("GET", "/api/v1/admin/queues/held").json()
    [found] = [i for i in api["items"] if i["id"] == stored.id]
    assert found["marked"] == ["nasty bit"] and found["scores"]["toxicity"] == 0.82


# --- actions --------------------------------------------------------------------------------


def test_approve_numbers_it_among_its_siblings_and_every_count_follows(desk: Desk) -> None:
    slug = desk.article()
    first = desk.post(slug, "First, and civil.", expect=201)
    held = desk.post(slug, HELD_BODY)
    desk.post(slug, "Third, and civil.", expect=201)  # number 2: the held one waits unnumbered
    assert article_numbers(desk.app, slug) == {first: "1.", first + 2: "2."}
    assert article_count(desk.app, slug) == 2
    before = tab_counts(desk.mod)
    response = desk.act(desk.mod, held, "approve", note="Harsh, but about the plan.")
    assert "number 3" in flash(desk.mod, response)
    check_counts(desk, before, held=-1, published=+1)
    assert article_numbers(desk.app, slug)[held] == "3."
    assert article_count(desk.app, slug) == 3
    feed = desk.app.get(f"{desk.url}/articles/{slug}/comments.atom", timeout=10).text
    assert "never read the plan" in feed
    row = desk.row(held)
    assert (row["status"], row["number"], row["moderated_by"]) == ("published", 3, "mod")
    [entry] = [e for e in desk.audit(held) if e["action"] == "approve"]
    assert (entry["actor_kind"], entry["actor"], entry["before"], entry["after"]) == (
        "user",
        "mod",
        "held",
        "published",
    )
    assert entry["note"] == "Harsh, but about the plan."
    assert queue_item(desk.mod.get("/admin").text, held) is None
    assert queue_item(desk.mod.get("/admin/published").text, held) is not None


def test_a_note_with_control_characters_is_kept_without_them(desk: Desk) -> None:
    """A NUL in a note was a 500 on PostgreSQL (its text refuses NUL) when the audit entry
    was written; notes are cleaned like any other text."""
    held = desk.post(desk.article(), HELD_BODY)
    response = desk.act(desk.mod, held, "reject", note="In\x00sults\x07.")
    assert response.status_code < 500
    assert "Rejected" in flash(desk.mod, response)
    [entry] = [e for e in desk.audit(held) if e["action"] == "reject"]
    assert entry["note"] == "Insults."


def test_reject_hides_a_held_or_published_comment_and_keeps_it(desk: Desk) -> None:
    slug = desk.article()
    held = desk.post(slug, HELD_BODY)
    shown = desk.post(slug, "Published, then regretted.", expect=201)
    before = tab_counts(desk.mod)
    assert "Rejected" in flash(desk.mod, desk.act(desk.mod, held, "reject", note="Insults."))
    before = check_counts(desk, before, held=-1)
    assert article_count(desk.app, slug) == 1
    desk.act(desk.mod, shown, "reject")
    check_counts(desk, before, published=-1)
    assert article_count(desk.app, slug) == 0
    assert shown not in article_numbers(desk.app, slug)
    assert desk.row(held)["status"] == desk.row(shown)["status"] == "rejected"
    assert desk.row(held)["body_markdown"] == HELD_BODY  # kept for the audit
    [entry] = [e for e in desk.audit(held) if e["action"] == "reject"]
    assert (entry["before"], entry["after"], entry["note"]) == ("held", "rejected", "Insults.")
    rejected = desk.mod.get("/admin/all", params={"status": "rejected"}).text
    assert queue_item(rejected, held) is not None and queue_item(rejected, shown) is not None


def test_edit_renders_the_new_text_and_the_audit_keeps_the_original(desk: Desk) -> None:
    slug = desk.article()
    original = "Read the *plan*, [neighbours](https://spam.example)."
    comment_id = desk.post(slug, original, expect=201)
    before = tab_counts(desk.mod)
    edited = "Read the *plan*, please."
    assert "Edited" in flash(
        desk.mod, desk.act(desk.mod, comment_id, "edit", body=edited, note="Removed the link.")
    )
    check_counts(desk, before)
    row = desk.row(comment_id)
    assert row["body_markdown"] == edited and "<em>plan</em>" in row["body_html"]
    assert "spam.example" not in desk.app.get(f"{desk.url}/articles/{slug}", timeout=10).text
    [entry] = [e for e in desk.audit(comment_id) if e["action"] == "edit"]
    assert (entry["before"], entry["after"], entry["note"]) == (
        original,
        edited,
        "Removed the link.",
    )
    empty = desk.act(desk.mod, comment_id, "edit", body="   ")
    assert "write a comment" in flash(desk.mod, empty)
    assert desk.row(comment_id)["body_markdown"] == edited


def test_feature_puts_a_badge_on_the_public_comment_and_unfeature_takes_it_off(desk: Desk) -> None:
    slug = desk.article()
    comment_id = desk.post(slug, "A thoughtful comment.", expect=201)

    def badge() -> list[str]:
        page = parse_html(desk.app.get(f"{desk.url}/articles/{slug}", timeout=10).text)
        return [words(b) for b in comment_li(page, comment_id).xpath('.//*[@class="featured"]')]

    assert badge() == []
    assert "Featured" in flash(desk.mod, desk.act(desk.mod, comment_id, "feature"))
    assert badge() == ["Featured"] and desk.row(comment_id)["featured"]
    again = desk.act(desk.mod, comment_id, "feature")
    assert "already featured" in flash(desk.mod, again)
    desk.act(desk.mod, comment_id, "unfeature")
    assert badge() == []
    actions = [e["action"] for e in desk.audit(comment_id)]
    assert actions.count("feature") == 1 and actions.count("unfeature") == 1


def test_a_ban_by_email_refuses_that_email_next_post_with_a_clear_message(desk: Desk) -> None:
    slug = desk.article()
    email = f"troll-{_tag()}@example.org"
    held = desk.post(slug, HELD_BODY, email=email)
    banned = desk.act(desk.mod, held, "ban", kind="email", days="30", note="Repeated insults.")
    assert "Banned email" in flash(desk.mod, banned)
    before = tab_counts(desk.mod)
    with desk.app.client() as reader:
        response = reader.post(
            f"/api/v1/articles/{slug}/comments",
            json={
                "body": "A perfectly civil remark.",
                "name": "Someone",
                "email": email.upper(),
            },
        )
    assert response.status_code == 403, response.text
    assert response.json()["message"] == "Your comment could not be posted on this site."
    check_counts(desk, before, refused=+1)
    [entry] = [e for e in desk.audit(held) if e["action"] == "ban"]
    assert entry["note"] == "Repeated insults." and json.loads(entry["data"])["value"] == email
    bad = desk.act(desk.mod, held, "ban", kind="everything")
    assert "Ban by" in flash(desk.mod, bad)
    desk.post(slug, "Another civil remark.", expect=201)  # other emails still post


def test_a_second_approve_says_already_handled_and_changes_nothing(desk: Desk) -> None:
    slug = desk.article()
    held = desk.post(slug, HELD_BODY)
    before = tab_counts(desk.mod)
    desk.act(desk.mod, held, "approve")
    after = check_counts(desk, before, held=-1, published=+1)
    message = flash(desk.mod2, desk.act(desk.mod2, held, "approve"))
    assert "already handled by mod" in message, message
    check_counts(desk, after)
    # Rejecting from the Held queue what the other moderator just approved is refused too.
    rejected = flash(desk.mod2, desk.act(desk.mod2, held, "reject", seen="held"))
    assert "already handled by mod" in rejected and desk.row(held)["status"] == "published"
    response = desk.api("POST", f"/api/v1/admin/comments/{held}/approve")
    assert response.status_code == 409 and "already handled by mod" in response.json()["message"]
    assert [e["action"] for e in desk.audit(held)].count("approve") == 1
    assert desk.row(held)["number"] == 1 and article_count(desk.app, slug) == 1


def test_bulk_approve_of_three_numbers_each_once(desk: Desk) -> None:
    slug = desk.article()
    ids = [desk.post(slug, f"{HELD_BODY} ({n})") for n in range(3)]
    before = tab_counts(desk.mod)
    data: dict[str, Any] = {"csrf": _csrf(desk.mod), "action": "approve", "back": "/admin"}
    response = desk.mod.post("/admin/comments/bulk", data={**data, "ids": [str(i) for i in ids]})
    assert "Approved 3 comments" in flash(desk.mod, response)
    check_counts(desk, before, held=-3, published=+3)
    assert sorted(article_numbers(desk.app, slug).values()) == ["1.", "2.", "3."]
    assert article_count(desk.app, slug) == 3
    again = desk.mod.post("/admin/comments/bulk", data={**data, "ids": [str(ids[0])]})
    assert "already handled" in flash(desk.mod, again)


def test_the_api_with_a_bearer_token_does_the_same(desk: Desk) -> None:
    slug = desk.article()
    one, two, three = (desk.post(slug, f"{HELD_BODY} [{n}]") for n in range(3))
    before = tab_counts(desk.mod)
    queue = desk.api("GET", "/api/v1/admin/queues/held")
    assert queue.status_code == 200 and queue.json()["counts"] == before
    [item] = [i for i in queue.json()["items"] if i["id"] == one]
    assert item["marked"] == [INSULT] and item["author"]["email"].endswith("@example.org")
    response = desk.api("POST", f"/api/v1/admin/comments/{one}/approve", json={"note": "ok"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "published"
    before = check_counts(desk, before, held=-1, published=+1)
    [entry] = [e for e in desk.audit(one) if e["action"] == "approve"]
    assert (entry["actor_kind"], entry["actor"], entry["note"]) == ("token", "mod", "ok")
    response = desk.api(
        "POST", "/api/v1/admin/comments/bulk", json={"action": "reject", "ids": [two, three, one]}
    )
    body = response.json()
    assert response.status_code == 200
    assert [d["id"] for d in body["done"]] == [one, two, three]  # a published one is rejected too
    check_counts(desk, before, held=-2, published=-1)
    assert body["counts"] == truth(desk)
    edit = desk.api("POST", f"/api/v1/admin/comments/{two}/edit", json={"body": 5})
    assert edit.status_code == 422 and edit.json()["field"] == "body"
    for path, status in (
        (f"/api/v1/admin/comments/{2**31 + 5}/approve", 404),
        ("/api/v1/admin/comments/99999999/approve", 404),
        (f"/api/v1/admin/comments/{two}/explode", 404),
        ("/api/v1/admin/queues/nowhere", 404),
    ):
        response = desk.api("POST" if "comments" in path else "GET", path)
        assert response.status_code == status, (path, response.text)
        assert set(response.json()) == ERROR_KEYS
    not_json = desk.api(
        "POST",
        "/api/v1/admin/comments/bulk",
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and set(not_json.json()) == ERROR_KEYS


def test_unknown_ids_answer_404_and_bad_input_never_500(desk: Desk) -> None:
    csrf = _csrf(desk.mod)
    for path in (
        "/admin/comments/99999999/approve",
        f"/admin/comments/{2**40}/reject",
        "/admin/comments/0/feature",
    ):
        response = desk.mod.post(path, data={"csrf": csrf})
        assert response.status_code == 404, (path, response.status_code)
        assert "There is no such comment" in response.text
    assert desk.mod.post("/admin/comments/abc/approve", data={"csrf": csrf}).status_code == 422
    for params in (
        {"from": "yesterday"},
        {"cursor": "-1"},
        {"status": "<b>"},
        {"q": "%_\\'\""},
        {"q": "\x00"},
    ):
        response = desk.mod.get("/admin/all", params=params)
        assert response.status_code == 200, (params, response.status_code)
    bulk = desk.mod.post("/admin/comments/bulk", data={"csrf": csrf, "action": "explode"})
    assert bulk.status_code == 303


def test_all_searches_text_author_email_and_title_and_filters(desk: Desk) -> None:
    word = f"zebra{_tag()}"
    slug = desk.article(title=f"The {word} crossing")
    other = desk.article()
    a = desk.post(slug, "Nothing special here.", expect=201, name="Quinn")
    b = desk.post(other, f"I saw a {word.upper()} yesterday.", expect=201)
    c = desk.post(other, "Plain.", expect=201, name=f"Mr {word}")
    d = desk.post(other, "Plain again.", expect=201, email=f"{word}@example.org")

    def listed(**params: str) -> set[int]:
        page = parse_html(desk.mod.get("/admin/all", params=params).text)
        return {int(li.get("data-id")) for li in page.xpath('//ol[@class="queue"]/li')}

    assert listed(q=word) == {a, b, c, d}
    assert listed(q=word, article=other) == {b, c, d}
    assert listed(email=f"{word}@example.org") == {d}
    assert listed(q=word, status="held") == set()
    today = datetime.now(UTC).date().isoformat()
    assert listed(q=word, **{"from": today, "to": today}) == {a, b, c, d}
    assert listed(q=word, to="2001-01-01") == set()


def test_reported_lists_comments_past_the_threshold_until_kept(desk: Desk) -> None:
    slug = desk.article()
    comment_id = desk.post(slug, "Something readers dislike.", expect=201)
    now = datetime.now(UTC)
    with desk.db.write() as conn:
        for n in range(3):
            conn.execute(
                reports.insert().values(
                    comment_id=comment_id,
                    reason="abuse",
                    reporter=f"r{n}-{_tag()}",
                    created_at=now,
                )
            )
        conn.execute(comments.update().where(comments.c.id == comment_id).values(report_count=3))
    before = tab_counts(desk.mod)
    item = queue_item(desk.mod.get("/admin/reported").text, comment_id)
    assert item is not None and "3 reports" in words(item)
    assert "Kept" in flash(desk.mod, desk.act(desk.mod, comment_id, "approve"))
    check_counts(desk, before, reported=-1)
    assert queue_item(desk.mod.get("/admin/reported").text, comment_id) is None
    assert desk.row(comment_id)["status"] == "published"
    again = desk.act(desk.mod2, comment_id, "approve")
    assert "already handled by mod" in flash(desk.mod2, again)


def test_script_and_markup_in_names_bodies_websites_and_notes_render_inert(desk: Desk) -> None:
    slug = desk.article(title=XSS[0] + " title")
    ids = []
    with desk.db.write() as conn:
        article = get_article(conn, 1, slug)
        assert article is not None
        for n, payload in enumerate(XSS):
            decision = {
                "verdict": "hold",
                "reasons": [
                    {
                        "code": payload,
                        "message": payload,
                        "action": "hold",
                        "spans": [{"start": 0, "end": 5, "text": payload[:5], "field": "text"}],
                    }
                ],
                "scores": {payload: 0.5},
            }
            stored = comment_store.add_comment(
                conn,
                article_id=article.id,
                parent=None,
                number=0,
                name=payload,
                email=f"x{n}{payload}@example.org",
                website=payload,
                body_markdown=payload * 2,
                body_html=payload,
                status=Status.HELD,
                created_at=datetime.now(UTC),
                ip_group_hash=payload,
                moderation=json.dumps(decision),
            )
            ids.append(stored.id)
    for comment_id, payload in zip(ids, XSS, strict=True):
        desk.act(desk.mod, comment_id, "edit", body=payload + " edited", note=payload)
    for path in ("/admin", f"/admin/all?q={slug}", "/admin/all?" + "q=%3Cscript%3E"):
        html = desk.mod.get(path).text
        page = parse_html(html)
        for comment_id in ids:
            assert path != "/admin" or queue_item(html, comment_id) is not None
        scripts = page.xpath("//script")
        assert all(
            s.get("src", "").startswith("/static/desk.js") and not (s.text or "").strip()
            for s in scripts
        ), [lxml.html.tostring(s) for s in scripts]
        for element in page.iter():
            if not isinstance(element.tag, str):
                continue
            assert element.tag not in ("iframe", "img", "svg", "style"), element.tag
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (element.tag, name)
                assert not value.strip().lower().startswith("javascript:"), (element.tag, value)
        assert "<script>alert" not in html and "<img" not in html


# --- the seed -------------------------------------------------------------------------------


def test_the_seed_imported_with_moderation_holds_seamus_and_approving_numbers_him(
    databases: Databases, seed_text: str
) -> None:
    db_url = databases.new()
    output = cli("import-page", "--moderate", str(SEED), db_url=db_url, env=MODERATION_ON)
    slug = re.search(r"Imported /articles/(\S+)", output.stdout).group(1)  # type: ignore[union-attr]
    add_staff(db_url, "seedmod")
    app = App(db_url, env=MODERATION_ON).start()
    db = Database(db_url, pool_size=1)
    try:
        mod = app.log_in("seedmod")
        page = parse_html(mod.get("/admin").text)
        [item] = [
            li
            for li in page.xpath('//ol[@class="queue"]/li')
            if words(li.xpath('.//dd[@class="name"]')[0]) == "Séamus Ó Néill"
        ]
        marks = [words(m) for m in item.xpath('.//div[@class="text"]/mark')]
        assert INSULT in marks, marks
        comment_id = int(item.get("data-id"))
        with db.read() as conn:
            row = conn.execute(select(comments).where(comments.c.id == comment_id)).one()
            # The import audits each verdict as a post does: one entry per stored comment.
            verdicts = conn.execute(
                select(audit_log.c.comment_id, audit_log.c.after, audit_log.c.data).where(
                    audit_log.c.action == "verdict", audit_log.c.comment_id.is_not(None)
                )
            ).all()
            stored = conn.execute(select(comments.c.id, comments.c.status)).all()
            # Read as the desk reads it: the reasons (they quote the text) are the entry's
            # personal part, kept apart from the append-only log.
            [entry] = audit_store.list_entries(conn, comment_id=comment_id, action="verdict")
            siblings = conn.execute(
                select(func.coalesce(func.max(comments.c.number), 0)).where(
                    comments.c.article_id == row.article_id,
                    comments.c.parent_id.is_(None)
                    if row.parent_id is None
                    else comments.c.parent_id == row.parent_id,
                )
            ).scalar_one()
        outcome = {"held": "hold", "published": "publish"}
        assert sorted((c, a) for c, a, _ in verdicts) == sorted(
            (c, outcome[status]) for c, status in stored
        )
        assert entry.data["imported"] is True
        assert INSULT in json.dumps(entry.data["reasons"], ensure_ascii=False)
        before = article_count(app, slug)
        csrf = str(page.xpath('//form[@action="/admin/logout"]/input[@name="csrf"]/@value')[0])
        response = mod.post(f"/admin/comments/{comment_id}/approve", data={"csrf": csrf})
        assert response.status_code == 303
        numbers = article_numbers(app, slug)
        assert numbers[comment_id] == f"{siblings + 1}."
        assert article_count(app, slug) == before + 1
        mod.close()
    finally:
        db.dispose()
        app.stop()
