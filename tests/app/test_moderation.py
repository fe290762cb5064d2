"""Moderation over HTTP: the seed as newly posted, held, refused, bots, limits, bans, privacy."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import lxml.html
import pytest
from sqlalchemy import String, Text, func, select

from rejoinder.core.moderation import Ban, BanKind
from rejoinder.core.pagedump import parse_page_dump
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.moderation import add_ban
from rejoinder.store.schema import comments, metadata, refused
from tests import (
    ADMIN_HEADERS,
    ERROR_KEYS,
    HELD_TEXT,
    MODERATION_ON,
    REFUSED_TEXT,
    RELAXED,
    comment_li,
    has_class,
    parse_html,
    walk,
    words,
)
from tests.conftest import ROOT, App, Databases

DEFAULT_SITE = 1
WEIGHTS = ROOT / "src" / "rejoinder" / "classifier" / "weights" / "meta.json"
CATEGORIES = {"toxicity", "insult", "threat", "identity_attack", "obscenity", "spam"}
HASH = re.compile(r"[0-9a-f]{32}")


@dataclass
class Moderated:
    """The app with moderation on (the model off) and a connection to its database."""

    app: App
    db: Database

    @property
    def url(self) -> str:
        return self.app.url

    def policy(self, **values: Any) -> None:
        """Replace the default site's moderation policy (read afresh on every post)."""
        with self.db.write() as conn:
            site_store.update_site_settings(conn, DEFAULT_SITE, {"policy": values})

    def article(self, **fields: Any) -> str:
        return str(self.app.publish(**fields)["slug"])

    def client(self) -> httpx.Client:
        """A reader's browser: its own cookie jar, redirects shown rather than followed."""
        return self.app.client()

    def refused_rows(self) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return [dict(row._mapping) for row in conn.execute(select(refused))]

    def comment_row(self, comment_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute(select(comments).where(comments.c.id == comment_id)).one()
        return dict(row._mapping)

    def count_comments(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(comments)).scalar_one())


def _moderated(databases: Databases, env: dict[str, str]) -> Iterator[Moderated]:
    db_url = databases.new()
    app = App(db_url, env=env).start()
    db = Database(db_url, pool_size=2)
    try:
        yield Moderated(app, db)
    finally:
        db.dispose()
        app.stop()


@pytest.fixture(scope="module")
def moderated(databases: Databases) -> Iterator[Moderated]:
    """One app with moderation on for the module; each test sets the policy it needs."""
    yield from _moderated(databases, MODERATION_ON)


@pytest.fixture
def relaxed(moderated: Moderated) -> Moderated:
    moderated.policy(**RELAXED)
    return moderated


def issued_token(html: str) -> str:
    [token] = parse_html(html).xpath('//form[@id="commentform"]//input[@name="issued"]/@value')
    assert token and "@@" not in token, token
    return str(token)


def form_post(
    http: httpx.Client, slug: str, *, issued: str | None = "page", wait: float = 0, **fields: str
) -> httpx.Response:
    """As a reader: open the article, fill in the form (the honeypot left empty), post it.

    `issued="page"` sends the signed timestamp of the form just opened; None leaves it out.
    """
    page = http.get(f"/articles/{slug}")
    assert page.status_code == 200, page.text
    data = {
        "body": "",
        "name": "Form Reader",
        "email": "form.reader@example.org",
        "website": "",
        "parent_id": "",
        "homepage": "",
    }
    if issued is not None:
        data["issued"] = issued_token(page.text) if issued == "page" else issued
    data.update(fields)
    if wait:
        time.sleep(wait)
    return http.post(f"/articles/{slug}/comments", data=data)


def landed_id(response: httpx.Response, slug: str) -> int:
    assert response.status_code == 303, (response.status_code, response.text[:2000])
    match = re.fullmatch(
        rf"/articles/{slug}(\?cursor=\d+)?#comment-(\d+)", response.headers["location"]
    )
    assert match, response.headers["location"]
    return int(match.group(2))


def held_section(html: str) -> lxml.html.HtmlElement | None:
    found = parse_html(html).xpath(f"//section[{has_class('held')}]")
    return found[0] if found else None


def body_error(html: str) -> str:
    """The error shown beside the Comment field (inside its field, before the textarea)."""
    page = parse_html(html)
    [error] = page.xpath(
        '//div[@class="field has-error"][.//textarea[@id="body"]]/p[@id="body-error"]'
    )
    [textarea] = page.xpath('//textarea[@id="body"]')
    assert "body-error" in textarea.get("aria-describedby", "")
    return words(error)


def textarea(html: str) -> str:
    [area] = parse_html(html).xpath('//textarea[@id="body"]')
    return str(area.text_content())


def counts(http: httpx.Client, slug: str) -> tuple[int, int]:
    """(the article's comment_count, /counts for it)."""
    article = http.get(f"/api/v1/articles/{slug}").json()
    listed = http.get("/api/v1/counts", params={"slug": slug}).json()
    return int(article["comment_count"]), int(listed["counts"][slug])


def tree_ids(http: httpx.Client, slug: str) -> set[int]:
    response = http.get(f"/api/v1/articles/{slug}/comments")
    assert response.status_code == 200, response.text
    return {c["id"] for c in walk(response.json()["comments"])}


def reasons_of(row: dict[str, Any]) -> str:
    """The reasons kept on a stored comment or refusal, as one string of their messages."""
    decision = json.loads(row["moderation"])
    return " ".join(reason["message"] for reason in decision["reasons"])


def email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:6]}@example.org"


# --- the seed ------------------------------------------------------------------------------


def test_seed_posted_through_the_form_publishes_the_civil_and_keeps_back_the_abuse(
    relaxed: Moderated, seed_text: str
) -> None:
    dump = parse_page_dump(seed_text)
    slug = relaxed.article(title=dump.title, body=dump.body_markdown)
    posted: dict[str, httpx.Response] = {}
    ids: dict[int, int] = {}  # index in the dump -> id of the published comment
    held: dict[str, int] = {}
    with ExitStack() as stack:
        readers = {c.author: stack.enter_context(relaxed.client()) for c in dump.comments}
        for index, comment in enumerate(dump.comments):
            parent = None
            if comment.parent_index is not None:
                # A reader can only reply to what they can see: to the comment replied to in
                # the dump if it was published, else to the latest published one before it.
                parent = ids.get(comment.parent_index) or ids[max(ids)]
            response = form_post(
                readers[comment.author],
                slug,
                body=comment.body,
                name=comment.author,
                email=email(f"seed{index}"),
                parent_id=str(parent or ""),
            )
            posted[comment.author] = response
            if response.status_code == 303:
                comment_id = landed_id(response, slug)
                row = relaxed.comment_row(comment_id)
                if row["status"] == "published":
                    ids[index] = comment_id
                else:
                    assert row["status"] == "held", row
                    held[comment.author] = comment_id

        stranger = stack.enter_context(relaxed.client())
        tree = stranger.get(f"/api/v1/articles/{slug}/comments").json()["comments"]
        shown = {c["author"]["name"]: c for c in walk(tree)}
        numbers = {name: c["number"] for name, c in shown.items()}
        assert numbers == {
            "Ron Wheeler": 1,
            "Linda Wren": 1,
            "Inferior": 2,
            "JustPassingThrough": 3,
            "jm74": 4,
        }
        [ron] = [c for c in tree if c["author"]["name"] == "Ron Wheeler"]
        assert [r["author"]["name"] for r in ron["replies"]] == ["Linda Wren"]
        page = parse_html(stranger.get(f"/articles/{slug}").text)
        for name, item in shown.items():
            number = words(comment_li(page, item["id"]).xpath(".//span[@class='num']")[0])
            assert number == f"{numbers[name]}.", name
        assert counts(stranger, slug) == (5, 5)

        for author, expected in (
            ("Séamus Ó Néill", ['"brain dead halfwits"', '"stupid imbeciles"', "leech"]),
            ("John C Carleton", ['"Israhell"', '"Rats"']),
        ):
            assert author not in shown
            response = posted[author]
            if author in held:  # held: shown to its writer alone, under "Awaiting moderation"
                why = reasons_of(relaxed.comment_row(held[author]))
                mine = held_section(readers[author].get(f"/articles/{slug}").text)
                assert mine is not None and mine.xpath(f'.//li[@id="comment-{held[author]}"]')
                assert "Your comment is awaiting moderation." in words(mine)
                for other in (stranger, readers["Ron Wheeler"]):
                    their_page = other.get(f"/articles/{slug}").text
                    assert f'id="comment-{held[author]}"' not in their_page
            else:  # refused: the form again, with the reason beside the text
                assert response.status_code == 422, response.text[:2000]
                why = body_error(response.text)
            for word in expected:
                assert word in why, (author, why)

        chuckman = posted["CHUCKMAN"]
        assert chuckman.status_code == 422
        assert re.search(r"empty|write a comment", body_error(chuckman.text), re.IGNORECASE)
        assert "CHUCKMAN" not in shown


# --- what the writer and everyone else see -------------------------------------------------


def test_held_comment_is_shown_to_its_writer_only_and_counted_nowhere(relaxed: Moderated) -> None:
    slug = relaxed.article(title="A bridge too far")
    with relaxed.client() as writer, relaxed.client() as stranger:
        civil = landed_id(
            form_post(writer, slug, body="The bridge is late again.", email=email("w")), slug
        )
        before = counts(stranger, slug)
        assert before == (1, 1)
        held = landed_id(form_post(writer, slug, body=HELD_TEXT, email=email("w")), slug)
        assert relaxed.comment_row(held)["status"] == "held"

        own_page = writer.get(f"/articles/{slug}")
        section = held_section(own_page.text)
        assert section is not None
        assert words(section.xpath(".//h3")[0]) == "Awaiting moderation"
        item = comment_li(section, held)
        assert "Your comment is awaiting moderation." in words(item)
        assert "Israhell will never admit" in words(item)
        outside = f'//li[@id="comment-{held}"][not(ancestor::section[{has_class("held")}])]'
        assert parse_html(own_page.text).xpath(outside) == []

        page = stranger.get(f"/articles/{slug}").text
        assert held_section(page) is None
        assert "Israhell" not in page and f"comment-{held}" not in page
        assert tree_ids(stranger, slug) == {civil}
        feed = stranger.get(f"/articles/{slug}/comments.atom")
        assert feed.status_code == 200 and "Israhell" not in feed.text
        assert "The bridge is late again." in feed.text
        assert "Israhell" not in stranger.get("/feed.atom").text
        assert tree_ids(writer, slug) == {civil}  # the API shows published comments only
        assert counts(writer, slug) == before
        heading = parse_html(own_page.text).xpath('//h2[@id="comments-title"]')[0]
        assert words(heading).startswith("1 ")


def test_refused_comment_keeps_the_text_names_the_words_and_is_kept_only_for_the_audit(
    relaxed: Moderated,
) -> None:
    slug = relaxed.article(title="The council's bridge")
    refusals = len(relaxed.refused_rows())
    with relaxed.client() as writer:
        who = email("angry")
        response = form_post(writer, slug, body=REFUSED_TEXT, name="Angry Reader", email=who)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        assert textarea(response.text) == REFUSED_TEXT
        reason = body_error(response.text)
        assert '"should be exterminated"' in reason
        assert "not posted" in reason
        form = parse_html(response.text).xpath('//form[@id="commentform"]')[0]
        assert form.xpath('.//input[@name="name"]/@value') == ["Angry Reader"]
        assert "rj_own" not in response.cookies
        assert counts(writer, slug) == (0, 0)
        assert tree_ids(writer, slug) == set()
        assert held_section(writer.get(f"/articles/{slug}").text) is None

    rows = relaxed.refused_rows()
    assert len(rows) == refusals + 1
    [row] = [r for r in rows if r["author_email"] == who]
    assert row["author_name"] == "Angry Reader" and row["body"] == REFUSED_TEXT
    assert row["article_id"] is not None
    decision = json.loads(row["moderation"])
    assert decision["verdict"] == "refuse"
    [incitement] = decision["reasons"]
    assert incitement["code"] == "incitement" and incitement["action"] == "refuse"
    [span] = incitement["spans"]
    assert REFUSED_TEXT[span["start"] : span["end"]] == span["text"] == "should be exterminated"
    assert HASH.fullmatch(row["ip_hash"]) and HASH.fullmatch(row["ip_group_hash"])
    assert row["ip_hash"] != row["ip_group_hash"]
    assert "127.0.0.1" not in json.dumps(row, default=str)


# --- bots ----------------------------------------------------------------------------------


def test_filled_honeypot_is_refused(relaxed: Moderated) -> None:
    slug = relaxed.article()
    with relaxed.client() as bot:
        text = "Great article, thanks for sharing this information with us."
        response = form_post(
            bot, slug, body=text, homepage="https://spam.example", email=email("b")
        )
        assert response.status_code == 422
        assert "must stay empty" in body_error(response.text)
        assert textarea(response.text) == text
        assert counts(bot, slug) == (0, 0)


@pytest.mark.parametrize(
    ("issued", "code"),
    [(None, "no_timestamp"), ("MTcwMDAwMDAwMA.forged.signature", "no_timestamp")],
    ids=["without-timestamp", "forged-timestamp"],
)
def test_form_without_a_genuine_timestamp_is_held(
    relaxed: Moderated, issued: str | None, code: str
) -> None:
    slug = relaxed.article()
    with relaxed.client() as bot:
        posted = form_post(
            bot, slug, issued=issued, body="A fair point about the budget.", email=email("t")
        )
        comment_id = landed_id(posted, slug)
        row = relaxed.comment_row(comment_id)
        assert row["status"] == "held"
        assert [r["code"] for r in json.loads(row["moderation"])["reasons"]] == [code]
        assert counts(bot, slug) == (0, 0)


def test_form_sent_back_faster_than_a_person_types_is_held(moderated: Moderated) -> None:
    moderated.policy(**{**RELAXED, "min_form_seconds": 3})
    slug = moderated.article()
    with moderated.client() as bot:
        comment_id = landed_id(
            form_post(bot, slug, body="Quick thoughts on the budget.", email=email("f")), slug
        )
        row = moderated.comment_row(comment_id)
        assert row["status"] == "held"
        [reason] = json.loads(row["moderation"])["reasons"]
        assert reason["code"] == "too_fast"
        assert "faster than a person types" in reason["message"]
        assert counts(bot, slug) == (0, 0)


# --- limits --------------------------------------------------------------------------------


def test_second_post_from_one_address_within_15_seconds_is_refused_with_retry_after(
    databases: Databases,
) -> None:
    for fresh in _moderated(databases, MODERATION_ON):
        slug = fresh.article()
        # A script's API token: the form's timing does not apply to it, the address's limits do.
        with fresh.app.client(headers=ADMIN_HEADERS) as http:
            path = f"/api/v1/articles/{slug}/comments"
            first = http.post(path, json={"body": "First!", "name": "Ann", "email": email("a")})
            assert first.status_code == 201, first.text
            second = http.post(path, json={"body": "Second.", "name": "Bea", "email": email("b")})
            assert second.status_code == 429, second.text
            assert set(second.json()) == ERROR_KEYS
            assert second.json()["error"] == "refused"
            assert "posting too quickly" in second.json()["message"]
            wait = int(second.headers["Retry-After"])
            assert 1 <= wait <= 15
            assert f"{wait} second" in second.json()["message"]
            assert counts(http, slug) == (1, 1)


def test_a_per_minute_limit_counts_the_writer_s_latest_comments_only(
    databases: Databases,
) -> None:
    """Only as many of a writer's latest times are read as the largest limit needs; with 3 a
    minute, a fourth comment from the same address is refused even under another email.
    (A fresh database: a new secret, so new address hashes, also in Redis.)"""
    for fresh in _moderated(databases, MODERATION_ON):
        fresh.policy(**{**RELAXED, "per_minute": 3})
        slug = fresh.article()
        with fresh.client() as http:
            path = f"/api/v1/articles/{slug}/comments"
            for n in range(3):
                body = {"body": f"Point {n} about the tram timetable.", "name": "Gus"}
                assert http.post(path, json={**body, "email": email("gus")}).status_code == 201
            other = {"body": "A view from the other side of the river.", "name": "Hal"}
            refused_by_address = http.post(path, json={**other, "email": email("hal")})
            assert refused_by_address.status_code == 429, refused_by_address.text
            assert "3 comments in less than a minute" in refused_by_address.json()["message"]
            assert counts(http, slug) == (3, 3)


def test_same_text_twice_from_one_commenter_is_refused_the_second_time(relaxed: Moderated) -> None:
    slug = relaxed.article()
    who = email("dup")
    text = "The bridge budget doubled in a year; someone should explain why."
    with relaxed.client() as http:
        path = f"/api/v1/articles/{slug}/comments"
        first = http.post(path, json={"body": text, "name": "Dee", "email": who})
        assert first.status_code == 201, first.text
        again = http.post(path, json={"body": text.upper(), "name": "Dee", "email": who})
        assert again.status_code == 422, again.text
        assert again.json() == {
            "error": "refused",
            "field": "body",
            "message": "Your comment was not posted because you have already posted this same"
            " comment.",
        }
        assert counts(http, slug) == (1, 1)


def test_comment_with_three_links_is_held_and_answered_202(relaxed: Moderated) -> None:
    slug = relaxed.article()
    text = (
        "Compare https://a.example/1 with https://b.example/2 and then https://c.example/3, "
        "the figures do not agree."
    )
    with relaxed.client() as http:
        response = http.post(
            f"/api/v1/articles/{slug}/comments",
            json={"body": text, "name": "Lin", "email": email("l")},
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "held"
        reasons = json.loads(relaxed.comment_row(response.json()["id"])["moderation"])["reasons"]
        assert "too_many_links" in {r["code"] for r in reasons}
        assert response.json()["id"] not in tree_ids(http, slug)
        assert counts(http, slug) == (0, 0)


# --- bans ----------------------------------------------------------------------------------


def test_banned_email_gets_403_not_naming_the_ban_and_an_expired_domain_ban_does_not_apply(
    relaxed: Moderated,
) -> None:
    slug = relaxed.article()
    banned = email("banned")
    domain = f"lapsed-{uuid.uuid4().hex[:6]}.example"
    now = datetime.now(UTC)
    with relaxed.db.write() as conn:
        add_ban(conn, DEFAULT_SITE, Ban(BanKind.EMAIL, banned, reason="spam campaign"), now)
        lapsed = Ban(BanKind.EMAIL_DOMAIN, domain, until=now - timedelta(days=1), reason="old")
        add_ban(conn, DEFAULT_SITE, lapsed, now - timedelta(days=30))
    with relaxed.client() as http:
        path = f"/api/v1/articles/{slug}/comments"
        api = http.post(path, json={"body": "Let me in.", "name": "Eve", "email": banned})
        assert api.status_code == 403, api.text
        assert api.json()["error"] == "refused" and set(api.json()) == ERROR_KEYS
        # the same words for every ban: whoever typed the address learns nothing about it
        assert api.json()["message"] == "Your comment could not be posted on this site."
        assert "banned" not in api.text and "spam campaign" not in api.text

        form = form_post(http, slug, body="Let me in, please.", name="Eve", email=banned.upper())
        assert form.status_code == 403
        assert body_error(form.text).endswith("Your comment could not be posted on this site.")
        assert "banned" not in form.text
        assert textarea(form.text) == "Let me in, please."

        allowed = http.post(
            path, json={"body": "Hello again.", "name": "Old", "email": f"old@{domain}"}
        )
        assert allowed.status_code == 201, allowed.text
        assert counts(http, slug) == (1, 1)


# --- the check endpoint --------------------------------------------------------------------


def test_check_explains_with_exact_spans_stores_nothing_and_is_rate_limited(
    relaxed: Moderated,
) -> None:
    slug = relaxed.article()
    texts = [
        # Leading space, a zero-width space, spaced-out and leet letters, a decomposed é:
        # every span must still index the text as sent.
        " Good luck, you brain dead halfwits and i.d.i.o.t.s in the cafe\u0301 \u200bm0r0ns!",
        "Israhell is the Rats nest.",
        "\r\nThe council should be exterminated.\r\nSo there \ud800.",  # a lone surrogate too
    ]
    with relaxed.client() as http:
        stored = relaxed.count_comments(), len(relaxed.refused_rows()), counts(http, slug)
        verdicts = []
        for text in texts:
            response = http.post(  # json.dumps escapes the lone surrogate, as JS would
                "/api/v1/moderation/check",
                content=json.dumps({"text": text, "name": "Q"}),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 200, response.text
            answer = response.json()
            assert set(answer) == {"verdict", "reasons", "scores"}
            assert answer["scores"] == {}  # the model is off on this app
            verdicts.append(answer["verdict"])
            assert answer["reasons"], answer
            for reason in answer["reasons"]:
                assert set(reason) == {"code", "message", "spans"}
                assert reason["spans"], reason
                for span in reason["spans"]:
                    assert span["field"] == "text"
                    assert text[span["start"] : span["end"]] == span["text"], (text, span)
        assert verdicts == ["hold", "hold", "refuse"]
        civil = http.post("/api/v1/moderation/check", json={"text": "Thanks, a clear report."})
        assert civil.json() == {"verdict": "publish", "reasons": [], "scores": {}}
        assert (relaxed.count_comments(), len(relaxed.refused_rows()), counts(http, slug)) == stored

        used = len(texts) + 1
        for _ in range(30 - used):
            ok = http.post("/api/v1/moderation/check", json={"text": "Fine."})
            assert ok.status_code == 200, ok.text
        limited = http.post("/api/v1/moderation/check", json={"text": "Fine."})
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"] == "rate_limited" and set(limited.json()) == ERROR_KEYS
        assert 1 <= int(limited.headers["Retry-After"]) <= 60


# --- privacy -------------------------------------------------------------------------------


def test_no_raw_address_is_stored_for_published_held_or_refused_comments(
    relaxed: Moderated,
) -> None:
    slug = relaxed.article()
    with relaxed.client() as http:
        landed_id(form_post(http, slug, body="Published, with thanks.", email=email("p")), slug)
        landed_id(form_post(http, slug, body=HELD_TEXT, email=email("p")), slug)
        assert form_post(http, slug, body=REFUSED_TEXT, email=email("p")).status_code == 422
        http.post(
            f"/api/v1/articles/{slug}/comments",
            json={"body": "Through the API.", "name": "Api", "email": email("p")},
        ).raise_for_status()
    found: list[str] = []
    with relaxed.db.read() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in conn.execute(select(*columns)) if columns else ():
                found += [
                    f"{table.name}: {v}" for v in row if isinstance(v, str) and "127.0.0.1" in v
                ]
        hashes = list(
            conn.execute(
                select(comments.c.ip_hash, comments.c.ip_group_hash).where(
                    comments.c.ip_hash.is_not(None)
                )
            )
        )
        hashes += conn.execute(select(refused.c.ip_hash, refused.c.ip_group_hash)).all()
    assert found == []
    assert len(hashes) >= 4
    for ip_hash, group_hash in hashes:
        assert HASH.fullmatch(ip_hash) and HASH.fullmatch(group_hash), (ip_hash, group_hash)


# --- the model -----------------------------------------------------------------------------


@pytest.mark.skipif(
    not WEIGHTS.is_file(),
    reason=f"the moderation model is not trained yet: no {WEIGHTS.relative_to(ROOT)}",
)
def test_check_with_the_shipped_model_scores_all_six_categories(
    databases: Databases,
) -> None:
    env = {**MODERATION_ON, "REJOINDER_MODERATION_MODEL": "true"}
    for modelled in _moderated(databases, env):
        with modelled.client() as http:
            text = "You are all brain dead halfwits and I hope you die."
            response = http.post("/api/v1/moderation/check", json={"text": text})
            assert response.status_code == 200, response.text
            scores = response.json()["scores"]
            assert set(scores) == CATEGORIES
            assert all(0 <= value <= 1 for value in scores.values())
            assert response.json()["verdict"] != "publish"
