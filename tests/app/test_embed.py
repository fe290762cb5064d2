"""Discussions of pages Rejoinder does not host, as the widget reaches them over HTTP: the
fragment, CORS by the site's origins, posting, editing and deleting with the widget's token,
counts by page id, discussions made ahead of time, and the schema.org markup."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import lxml.html
import pytest

from tests import (
    ADMIN_HEADERS,
    ERROR_KEYS,
    HELD_TEXT,
    MODERATION_ON,
    RELAXED,
    comment_payload,
    parse_html,
    words,
)
from tests.conftest import App, Databases, add_staff, add_token, allow_origins, cli

HOST = "http://news.example:8080"  # the origin of the pages that embed the default site
EVIL = "https://elsewhere.example"
THREAD = "/embed/default/thread"


@dataclass
class Embedded:
    app: App

    def load(self, page_id: str | None, origin: str | None = HOST, **params: str) -> httpx.Response:
        headers = {"Origin": origin} if origin else {}
        query = {"page_id": page_id, **params} if page_id is not None else params
        return self.app.get(THREAD, params=query, headers=headers)

    def open(self, page_id: str, **params: str) -> lxml.html.HtmlElement:
        response = self.load(page_id, title=f"Page {page_id}", **params)
        assert response.status_code == 200, response.text
        return parse_html(response.text)

    def post(self, slug: str, token: str, origin: str = HOST, **fields: Any) -> httpx.Response:
        payload = comment_payload(form_token=token, **fields)
        return self.app.post(
            f"/embed/default/articles/{slug}/comments", json=payload, headers={"Origin": origin}
        )


def form_token(fragment: lxml.html.HtmlElement) -> str:
    return str(fragment.xpath('//input[@name="issued"]/@value')[0])


def slug_of(fragment: lxml.html.HtmlElement) -> str:
    return str(fragment.xpath('//section[@id="comments"]/@data-slug')[0])


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS and body["message"]
    if field is not None:
        assert body["field"] == field


@pytest.fixture(scope="module")
def embedded(databases: Databases) -> Iterator[Embedded]:
    db_url = databases.new()
    app = App(db_url, env={"REJOINDER_PAGE_SIZE": "3"}).start()
    allow_origins(db_url, HOST + "/")  # as a person might type it: the slash is not the origin's
    try:
        yield Embedded(app)
    finally:
        app.stop()


def new_page() -> str:
    return f"story-{uuid.uuid4().hex[:8]}"


def test_first_load_from_an_allowed_origin_makes_the_discussion(embedded: Embedded) -> None:
    page = new_page()
    first = embedded.load(page, title="Bridge vote", url=f"https://news.example/{page}#top")
    assert first.status_code == 200, first.text
    assert first.headers["access-control-allow-origin"] == HOST
    assert "Origin" in first.headers["vary"]
    fragment = parse_html(first.text)
    slug = slug_of(fragment)
    assert slug.startswith("bridge-vote-")
    assert fragment.xpath('//form[@id="commentform"]//textarea[@name="body"]')
    # It is an article like any other, for the API and the counts.
    article = embedded.app.get(f"/api/v1/articles/{slug}").json()
    assert article["title"] == "Bridge vote" and article["comment_count"] == 0
    # A later load with another title finds the same discussion and renames nothing.
    again = parse_html(embedded.load(page, title="Something else").text)
    assert slug_of(again) == slug
    assert embedded.app.get(f"/api/v1/articles/{slug}").json()["title"] == "Bridge vote"


def test_simultaneous_first_loads_make_one_discussion(embedded: Embedded) -> None:
    page = new_page()
    with ThreadPoolExecutor(max_workers=6) as pool:
        loads = list(pool.map(lambda _: embedded.load(page, title="Busy"), range(6)))
    assert [r.status_code for r in loads] == [200] * 6, [r.text for r in loads]
    assert len({slug_of(parse_html(r.text)) for r in loads}) == 1


def test_a_page_without_an_id_is_known_by_its_url(embedded: Embedded) -> None:
    url = f"https://news.example/{new_page()}"
    first = slug_of(parse_html(embedded.load(None, url=url + "#comments", title="By URL").text))
    second = slug_of(parse_html(embedded.load(None, url=url).text))
    assert first == second


def test_an_origin_not_on_the_list_can_neither_create_nor_post(embedded: Embedded) -> None:
    page = new_page()
    refused = embedded.load(page, origin=EVIL, title="Theirs")
    assert_error(refused, 403)
    assert "access-control-allow-origin" not in refused.headers
    # Nothing was made: without an Origin (a crawler), the page has no discussion.
    assert_error(embedded.load(page, origin=None), 404)
    preflight = embedded.app.request(
        "OPTIONS",
        "/embed/default/articles/anything/comments",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert_error(preflight, 403)
    assert "access-control-allow-origin" not in preflight.headers
    # A post to an existing discussion from elsewhere is refused too.
    fragment = embedded.open(page)
    response = embedded.post(slug_of(fragment), form_token(fragment), origin=EVIL)
    assert_error(response, 403)
    assert embedded.load(page).text.count('class="comment ') == 0


def test_an_allowed_preflight_names_what_the_widget_sends(embedded: Embedded) -> None:
    response = embedded.app.request(
        "OPTIONS",
        "/embed/default/articles/anything/comments",
        headers={
            "Origin": HOST,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == HOST
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "x-rejoinder-edit" in allowed
    assert "x-rejoinder-verified" in allowed  # the proof of a confirmed address


def test_a_crawler_reads_an_existing_discussion_without_an_origin(embedded: Embedded) -> None:
    page = new_page()
    fragment = embedded.open(page)
    assert embedded.post(slug_of(fragment), form_token(fragment)).status_code == 201
    crawled = embedded.load(page, origin=None)
    assert crawled.status_code == 200
    assert "access-control-allow-origin" not in crawled.headers
    assert len(parse_html(crawled.text).xpath('//li[contains(@class, "comment")]')) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "page_id"),
        ({"page_id": "x" * 301}, "page_id"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"page_id": "a", "url": "https://news.example:99999/"}, "url"),
        ({"page_id": "a", "sort": "sideways"}, "sort"),
        ({"page_id": "a", "cursor": "-1"}, "cursor"),
    ],
)
def test_bad_tags_are_refused_beside_their_field(
    embedded: Embedded, params: dict[str, str], field: str
) -> None:
    assert_error(embedded.app.get(THREAD, params=params, headers={"Origin": HOST}), 422, field)


def test_an_unknown_site_is_a_404_in_the_error_shape(embedded: Embedded) -> None:
    response = embedded.app.get("/embed/nosuch/thread", params={"page_id": "a"})
    assert_error(response, 404)


def test_post_reply_edit_and_delete_from_the_widget(embedded: Embedded) -> None:
    page = new_page()
    fragment = embedded.open(page)
    slug, token = slug_of(fragment), form_token(fragment)
    posted = embedded.post(slug, token, body="First, from the widget.")
    assert posted.status_code == 201, posted.text
    assert posted.headers["access-control-allow-origin"] == HOST
    first = posted.json()
    assert first["comment_count"] == 1
    li = parse_html(first["html"])
    assert li.get("id") == f"comment-{first['comment']['id']}"
    assert "First, from the widget." in li.text_content()
    assert "ada@example.org" not in posted.text

    reply = embedded.post(slug, token, body="A reply.", parent_id=first["comment"]["id"]).json()
    assert reply["comment"]["parent_id"] == first["comment"]["id"]

    edit_url = f"/embed/default/comments/{first['comment']['id']}"
    own = {"Origin": HOST, "X-Rejoinder-Edit": first["edit_token"]}
    assert_error(
        embedded.app.request("PATCH", edit_url, json={"body": "x"}, headers={"Origin": HOST}), 403
    )
    # Another comment's token owns nothing here.
    theirs = {"Origin": HOST, "X-Rejoinder-Edit": reply["edit_token"]}
    assert_error(embedded.app.request("PATCH", edit_url, json={"body": "x"}, headers=theirs), 403)
    source = embedded.app.get(edit_url, headers=own)
    assert source.json() == {"id": first["comment"]["id"], "body": "First, from the widget."}
    assert_error(embedded.app.get(edit_url, headers=theirs), 403)
    edited = embedded.app.request("PATCH", edit_url, json={"body": "First, *edited*."}, headers=own)
    assert edited.status_code == 200, edited.text
    assert "<em>edited</em>" in edited.json()["html"]

    # Answered, it keeps its place as "[deleted]"; the reply, unanswered, goes.
    gone = embedded.app.request("DELETE", edit_url, headers=own)
    assert gone.status_code == 200, gone.text
    assert gone.json()["kept_place"] is True
    reply_url = f"/embed/default/comments/{reply['comment']['id']}"
    gone = embedded.app.request(
        "DELETE", reply_url, headers={"Origin": HOST, "X-Rejoinder-Edit": reply["edit_token"]}
    )
    assert gone.json() == {"kept_place": False, "placeholder": "[deleted]", "comment_count": 0}


def test_field_errors_come_back_in_the_error_shape(embedded: Embedded) -> None:
    fragment = embedded.open(new_page())
    response = embedded.post(slug_of(fragment), form_token(fragment), name=" ", email="nope")
    assert_error(response, 422)
    assert response.json()["field"] in ("name", "email")
    assert response.headers["access-control-allow-origin"] == HOST


def test_load_more_follows_the_cursor(embedded: Embedded) -> None:
    page = new_page()
    fragment = embedded.open(page)
    slug, token = slug_of(fragment), form_token(fragment)
    for n in range(5):
        assert embedded.post(slug, token, body=f"Comment number {n}.").status_code == 201
    first = embedded.open(page)
    more = first.xpath('//a[@rel="next"]')[0]
    # Absolute, on the site's own address: a server-side include puts it in the host's page.
    assert more.get("href").startswith("http://testserver/embed/default/thread?")
    assert all(a.startswith("http://testserver/") for a in first.xpath("//a[@data-sort]/@href"))
    assert len(first.xpath('//ol[@class="comment-list"]/li')) == 3
    second = embedded.open(page, cursor=more.get("data-cursor"))
    texts = [li.text_content() for li in second.xpath('//ol[@class="comment-list"]/li')]
    assert len(texts) == 2 and "Comment number 4." in texts[-1]
    assert not second.xpath('//a[@rel="next"]')


def test_counts_by_page_id_are_readable_from_the_sites_origins(embedded: Embedded) -> None:
    page = new_page()
    fragment = embedded.open(page)
    embedded.post(slug_of(fragment), form_token(fragment))
    params = {"site": "default", "page_id": [page, "never-loaded"]}
    response = embedded.app.get("/api/v1/counts", params=params, headers={"Origin": HOST})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == HOST
    assert response.json()["pages"] == {page: 1}
    assert "Origin" in response.headers["vary"]
    elsewhere = embedded.app.get("/api/v1/counts", params=params, headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in elsewhere.headers
    too_many = embedded.app.get("/api/v1/counts", params={"page_id": [str(n) for n in range(201)]})
    assert_error(too_many, 422, "page_id")


def test_a_site_can_require_discussions_made_ahead_of_time(
    databases: Databases,
) -> None:
    db_url = databases.new()
    app = App(db_url).start()
    allow_origins(db_url, HOST)
    add_staff(db_url, "boss", role="admin")
    token = add_token(db_url, "boss")
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        switched = app.put(
            "/api/v1/admin/sites/default/embedding", json={"create_on_load": False}, headers=bearer
        )
        assert switched.status_code == 200, switched.text
        assert_error(
            app.put(
                "/api/v1/admin/sites/default/embedding",
                json={"create_on_load": "no"},
                headers=bearer,
            ),
            422,
            "create_on_load",
        )
        refused = app.get(THREAD, params={"page_id": "later"}, headers={"Origin": HOST})
        assert_error(refused, 404)
        assert "ahead of time" in refused.json()["message"]
        made = app.post(
            "/api/v1/admin/sites/default/discussions",
            json={"page_id": "later", "title": "Made first", "url": "https://news.example/later"},
            headers=bearer,
        )
        assert made.status_code == 201, made.text
        assert made.json()["page_id"] == "later"
        again = app.post(
            "/api/v1/admin/sites/default/discussions", json={"page_id": "later"}, headers=bearer
        )
        assert_error(again, 409)
        assert_error(
            app.post(
                "/api/v1/admin/sites/default/discussions", json={"title": "x"}, headers=bearer
            ),
            422,
            "page_id",
        )
        loaded = app.get(THREAD, params={"page_id": "later"}, headers={"Origin": HOST})
        assert loaded.status_code == 200, loaded.text
        assert slug_of(parse_html(loaded.text)).startswith("made-first-")
        cli("discussion", "add", "from-cli", "--title", "By command", db_url=db_url)
        by_cli = app.get(THREAD, params={"page_id": "from-cli"}, headers={"Origin": HOST})
        assert slug_of(parse_html(by_cli.text)).startswith("by-command-")
        cli("discussion", "creation", "on-load", db_url=db_url)
        assert (
            app.get(THREAD, params={"page_id": "new"}, headers={"Origin": HOST}).status_code == 200
        )
    finally:
        app.stop()


def ld_markup(html: str) -> dict[str, Any]:
    blocks = parse_html(html).xpath('//script[@type="application/ld+json"]/text()')
    assert len(blocks) == 1
    value: dict[str, Any] = json.loads(blocks[0])
    return value


@pytest.fixture(scope="module")
def moderated(databases: Databases) -> Iterator[Embedded]:
    db_url = databases.new()
    app = App(db_url, env=MODERATION_ON).start()
    # Every rule but the form's timing relaxed: one test posts often from one address.
    allow_origins(db_url, HOST, policy={**RELAXED, "min_form_seconds": 3})
    try:
        yield Embedded(app)
    finally:
        app.stop()


def test_a_json_post_without_a_token_is_judged_as_one_sent_too_fast(moderated: Embedded) -> None:
    slug = moderated.app.publish()["slug"]
    page = new_page()
    fragment = moderated.open(page)
    time.sleep(3.2)  # longer than the policy's fastest form (3 seconds)

    def api_post(address: str, **fields: Any) -> httpx.Response:
        with moderated.app.client(address=address) as http:
            return http.post(f"/api/v1/articles/{slug}/comments", json=comment_payload(**fields))

    bare = api_post("10.1.0.1")
    assert bare.status_code == 202, bare.text  # held, as a form sent back at once
    forged = api_post("10.2.0.1", form_token="not-a-signed-token")
    assert forged.status_code == 202
    with moderated.app.client(address="10.3.0.1") as http:
        scripted = http.post(
            f"/api/v1/articles/{slug}/comments", json=comment_payload(), headers=ADMIN_HEADERS
        )
    assert scripted.status_code == 201, scripted.text
    signed = api_post("10.4.0.1", form_token=form_token(fragment))
    assert signed.status_code == 201, signed.text
    honeypot = api_post("10.5.0.1", form_token=form_token(fragment), homepage="http://spam")
    assert honeypot.status_code == 422
    widget = moderated.post(slug_of(fragment), form_token(fragment), body="Written slowly.")
    assert widget.status_code == 201, widget.text


def test_schema_org_markup_names_shown_comments_and_never_an_email(moderated: Embedded) -> None:
    page = new_page()
    fragment = moderated.open(page, url=f"https://news.example/{page}")
    slug, token = slug_of(fragment), form_token(fragment)
    time.sleep(3.2)
    with moderated.app.client(address="10.9.0.1") as http:
        first = http.post(
            f"/embed/default/articles/{slug}/comments",
            json=comment_payload(
                form_token=token, body="Plain *words* & <b>more</b>.", email="hidden@example.org"
            ),
            headers={"Origin": HOST},
        ).json()
    with moderated.app.client(address="10.9.1.1") as http:
        reply = http.post(
            f"/embed/default/articles/{slug}/comments",
            json=comment_payload(form_token=token, parent_id=first["comment"]["id"], name="Bo"),
            headers={"Origin": HOST},
        ).json()
    with moderated.app.client(address="10.9.2.1") as http:
        held = http.post(
            f"/embed/default/articles/{slug}/comments",
            json=comment_payload(form_token=token, body=HELD_TEXT),
            headers={"Origin": HOST},
        )
    assert held.status_code == 202
    article_page = moderated.app.get(f"/articles/{slug}").text
    canonical = parse_html(article_page).xpath('//link[@rel="canonical"]/@href')
    assert canonical == [f"https://news.example/{page}"]
    for html in (moderated.load(page).text, article_page):
        assert "hidden@example.org" not in html and "ada@example.org" not in html
        markup = ld_markup(html)
        assert markup["@context"] == "https://schema.org"
        assert markup["url"] == f"https://news.example/{page}"
        comments = markup["comment"]
        assert [c["author"]["name"] for c in comments] == ["Ada Reader", "Bo"]
        assert comments[0]["text"] == "Plain words & <b>more</b>."
        assert comments[0]["dateCreated"].endswith("Z")
        assert comments[0]["parentItem"]["@id"] == markup["@id"]
        assert comments[1]["parentItem"]["@id"] == comments[0]["@id"]
        assert comments[1]["@id"].endswith(f"#comment-{reply['comment']['id']}")
        assert "Israhell" not in json.dumps(markup)
        assert "<b>" not in html.split("application/ld+json")[1].split("</script>")[0]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/embed.js", "text/javascript"),
        ("/embed.css", "text/css"),
        ("/count.js", "text/javascript"),
    ],
)
def test_the_widget_files_are_served_for_any_page(embedded: Embedded, path: str, kind: str) -> None:
    response = embedded.app.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert "max-age" in response.headers["cache-control"]
    assert len(response.content) > 500


def test_the_fragment_and_its_errors_speak_the_embedding_tag_s_language(
    embedded: Embedded,
) -> None:
    page = new_page()
    german = embedded.open(page, lang="de")  # data-lang="de" on the embedding tag
    section = german.xpath('//section[@id="comments"]')[0]
    assert section.get("lang") == "de"
    assert words(german.xpath('//h2[@id="respond-title"]')[0]) == "Schreiben Sie einen Kommentar"
    strings = json.loads(section.get("data-strings"))
    assert strings["Delete"] == "Löschen" and strings["{n} Comments"] == "{n} Kommentare"
    # the same discussion for a reader who asks for nothing: English, not the cached German
    english = embedded.open(page)
    assert english.xpath('//section[@id="comments"]/@lang') == ["en"]
    assert words(english.xpath('//h2[@id="respond-title"]')[0]) == "Leave a Reply"
    payload = comment_payload(form_token=form_token(german), name=" ")
    response = embedded.app.post(
        f"/embed/default/articles/{slug_of(german)}/comments",
        json=payload,
        headers={"Origin": HOST, "Accept-Language": "de"},
    )
    assert_error(response, 422, "name")
    assert response.json()["message"] == (
        "Bitte geben Sie einen Namen an, mit dem Sie den Kommentar unterzeichnen."
    )
