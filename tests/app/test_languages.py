"""Readers get the pages in their language: German for a German browser (or `?lang=de`),
English otherwise, and the cached pages never mix the two."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update

from rejoinder.store.database import Database
from rejoinder.store.schema import sites
from tests import ADMIN_HEADERS, MODERATION_ON, REFUSED_TEXT, parse_html, post, words
from tests.conftest import App, Databases

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8,de;q=0.3"}


@pytest.fixture(scope="module")
def site(databases: Databases) -> Iterator[App]:
    running = App(databases.new(), env=MODERATION_ON).start()
    try:
        yield running
    finally:
        running.stop()


_addresses = itertools.count(1)


def reader(site: App, headers: dict[str, str] | None = None) -> httpx.Client:
    """A browser of its own address, so that no posting limit joins two tests' posts."""
    return site.client(address=f"10.20.{next(_addresses)}.1", headers=headers or {})


def article(site: App, title: str = "Die Brücke", commenter: str | None = None) -> str:
    published = site.publish(
        title=title, slug=f"a-{uuid.uuid4().hex[:10]}", published_at="2026-03-05T09:30:00Z"
    )
    slug = str(published["slug"])
    if commenter:
        # a script's post (an API token): the form's timing checks are not for it
        with reader(site, ADMIN_HEADERS) as writer:
            post(writer, slug, name=commenter, email=f"{uuid.uuid4().hex[:8]}@example.org")
    return slug


def form_post(http: httpx.Client, slug: str, **fields: str) -> httpx.Response:
    """Open the article as this reader, then send its form with `fields` filled in."""
    page = http.get(f"/articles/{slug}")
    assert page.status_code == 200, page.text
    [issued] = parse_html(page.text).xpath('//input[@name="issued"]/@value')
    data = {"body": "", "name": "", "email": "", "website": "", "parent_id": "", "homepage": ""}
    data.update(issued=str(issued), **fields)
    return http.post(f"/articles/{slug}/comments", data=data)


def field_error(html: str, name: str) -> str:
    [error] = parse_html(html).xpath(f'//p[@id="{name}-error"]')
    return words(error)


def test_a_german_reader_gets_the_article_page_form_and_dates_in_german(site: App) -> None:
    slug = article(site, commenter="Grete")
    with reader(site, GERMAN) as german:
        response = german.get(f"/articles/{slug}")
    assert response.status_code == 200
    assert "Accept-Language" in response.headers["vary"]
    page = parse_html(response.text)
    assert page.get("lang") == "de"
    assert words(page.xpath('//h2[@id="comments-title"]')[0]) == "1 Kommentar zu „Die Brücke“"
    assert words(page.xpath('//h2[@id="respond-title"]')[0]) == "Schreiben Sie einen Kommentar"
    labels = [words(label) for label in page.xpath('//form[@id="commentform"]//label')]
    assert labels[1:5] == ["Kommentar *", "Name *", "E-Mail *", "Website"]
    assert words(page.xpath('//p[@id="email-help"]')[0]) == (
        "Ihre E-Mail-Adresse wird nicht veröffentlicht."
    )
    assert words(page.xpath('//button[@type="submit"]')[0]) == "Kommentar abschicken"
    byline = words(page.xpath('//p[@class="byline"]/time')[0])
    assert byline == "5. März 2026"
    comment = page.xpath('//li[contains(@class, "comment")]')[0]
    assert "Grete schreibt" in words(comment)
    assert (
        words(comment.xpath('.//a[@class="reply"]')[0]) == "Antworten auf den Kommentar von Grete"
    )
    assert " um " in words(comment.xpath(".//time")[0]) and "Uhr UTC" in words(comment)


def test_an_english_reader_and_a_reader_without_a_preference_get_english(site: App) -> None:
    slug = article(site, title="The bridge", commenter="Grete")
    for headers in (ENGLISH, {}):
        with reader(site, headers) as english:
            page = parse_html(english.get(f"/articles/{slug}").text)
        assert page.get("lang") == "en"
        assert words(page.xpath('//h2[@id="comments-title"]')[0]) == "1 Comment on “The bridge”"
        assert words(page.xpath('//p[@class="byline"]/time')[0]) == "March 5, 2026"
        assert "Grete says" in words(page.xpath('//li[contains(@class, "comment")]')[0])


def test_the_cache_serves_each_reader_their_own_language(site: App) -> None:
    slug = article(site, commenter="Grete")

    def byline(response: httpx.Response) -> str:
        assert response.status_code == 200
        return words(parse_html(response.text).xpath('//header[@class="comment-meta"]')[0])

    with reader(site, GERMAN) as german, reader(site, ENGLISH) as english:
        first = german.get(f"/articles/{slug}")
        assert "Grete schreibt" in byline(first)
        # The same thread, now built and cached in German, for an English reader: English,
        # even when the browser offers the German page's ETag.
        for extra in ({}, {"If-None-Match": first.headers["etag"]}):
            response = english.get(f"/articles/{slug}", headers=extra)
            assert "Grete says" in byline(response)
            assert parse_html(response.text).get("lang") == "en"
        assert "Grete schreibt" in byline(german.get(f"/articles/{slug}"))
        unchanged = german.get(
            f"/articles/{slug}", headers={"If-None-Match": first.headers["etag"]}
        )
        assert unchanged.status_code == 304


def test_the_lang_parameter_comes_before_the_browser_s_languages(site: App) -> None:
    slug = article(site)
    with reader(site, ENGLISH) as english:
        page = parse_html(english.get(f"/articles/{slug}", params={"lang": "de"}).text)
        assert page.get("lang") == "de"
        page = parse_html(english.get(f"/articles/{slug}", params={"lang": "xx"}).text)
        assert page.get("lang") == "en"  # a language we lack: the reader's next choice


def test_a_reader_without_a_preference_gets_the_site_s_default_language(
    databases: Databases,
) -> None:
    db_url = databases.new()
    App(db_url).start().stop()  # makes the tables and the default site
    db = Database(db_url, pool_size=1)
    try:
        with db.write() as conn:
            conn.execute(update(sites).values(language="de"))
    finally:
        db.dispose()
    german_site = App(db_url).start()
    try:
        slug = article(german_site)
        with reader(german_site) as anyone, reader(german_site, ENGLISH) as english:
            assert parse_html(anyone.get(f"/articles/{slug}").text).get("lang") == "de"
            assert parse_html(english.get(f"/articles/{slug}").text).get("lang") == "en"
            assert parse_html(anyone.get("/").text).get("lang") == "de"
    finally:
        german_site.stop()


def test_a_german_reader_sees_the_error_beside_the_field_in_german(site: App) -> None:
    slug = article(site)
    with reader(site, GERMAN) as german:
        response = form_post(german, slug, body="Ein Kommentar.", email="nicht-eine-adresse")
    assert response.status_code == 422
    page = parse_html(response.text)
    assert page.get("lang") == "de"
    assert field_error(response.text, "name") == (
        "Fehler: Bitte geben Sie einen Namen an, mit dem Sie den Kommentar unterzeichnen."
    )
    assert field_error(response.text, "email") == (
        "Fehler: Das sieht nicht nach einer E-Mail-Adresse aus (name@example.org)."
    )
    summary = words(page.xpath('//div[@id="error-summary"]/p')[0])
    assert summary == (
        "Ihr Kommentar muss noch an 2 Stellen geändert werden, bevor er veröffentlicht werden kann:"
    )


def test_a_german_writer_is_told_in_german_why_a_comment_was_refused(site: App) -> None:
    slug = article(site)
    with reader(site, GERMAN) as writer:
        response = form_post(
            writer, slug, body=REFUSED_TEXT, name="Wütend", email="wuetend@example.org"
        )
    assert response.status_code == 422
    reason = field_error(response.text, "body")
    assert reason.startswith("Fehler: Ihr Kommentar wurde nicht veröffentlicht, denn ")
    assert 'er ruft zu Gewalt gegen Menschen auf: "should be exterminated"' in reason
    assert "because" not in reason


def test_the_pre_submit_check_gives_its_reasons_in_the_writer_s_language(site: App) -> None:
    body = {"text": REFUSED_TEXT, "name": "Wütend", "email": "wuetend@example.org"}
    with reader(site) as writer:
        german = writer.post("/api/v1/moderation/check", params={"lang": "de"}, json=body)
        english = writer.post("/api/v1/moderation/check", json=body)
    assert german.status_code == english.status_code == 200
    [de_reason] = german.json()["reasons"]
    [en_reason] = english.json()["reasons"]
    assert de_reason["code"] == en_reason["code"] and de_reason["spans"] == en_reason["spans"]
    assert de_reason["message"].startswith("er ruft zu Gewalt gegen Menschen auf")
    assert en_reason["message"].startswith("it calls for violence against people")


def test_error_pages_and_api_errors_speak_the_reader_s_language(site: App) -> None:
    with reader(site, GERMAN) as german:
        page = german.get("/articles/no-such-article")
        api = german.get("/api/v1/articles/no-such-article/comments")
    assert page.status_code == 404
    html = parse_html(page.text)
    assert html.get("lang") == "de"
    assert words(html.xpath("//h1")[0]) == "Nicht gefunden"
    assert "Diesen Artikel gibt es nicht." in words(html.xpath("//main")[0])
    assert api.status_code == 404
    assert api.json()["message"] == "Diesen Artikel gibt es nicht."
    assert api.json()["error"] == "not_found"


def test_the_widget_s_strings_come_from_the_same_catalogue(site: App) -> None:
    with reader(site) as http:
        german = http.get("/embed/i18n/de.json").json()
        unknown = http.get("/embed/i18n/xx.json").json()
    assert german["lang"] == "de"
    assert german["strings"]["Post anyway"] == "Trotzdem absenden"
    assert unknown["lang"] == "en"
    assert unknown["strings"]["Post anyway"] == "Post anyway"
    assert set(unknown["strings"]) == set(german["strings"])


def test_the_edit_and_report_pages_and_the_feed_are_in_german_too(site: App) -> None:
    slug = article(site)
    with reader(site, {**GERMAN, **ADMIN_HEADERS}) as writer:
        mine = post(writer, slug, name="Grete", email=f"{uuid.uuid4().hex[:8]}@example.org")
        edit = parse_html(writer.get(f"/comments/{mine['id']}/edit").text)
        report = parse_html(writer.get(f"/comments/{mine['id']}/report").text)
        feed = writer.get(f"/articles/{slug}/comments.atom")
    assert edit.get("lang") == report.get("lang") == "de"
    assert words(edit.xpath("//h1")[0]) == "Ihren Kommentar bearbeiten"
    assert "Uhr UTC ändern." in words(edit.xpath("//main/p")[0])
    assert words(report.xpath("//h1")[0]) == "Einen Kommentar melden"
    labels = [words(label) for label in report.xpath("//fieldset//label")]
    assert labels == [
        "Beleidigung oder Belästigung",
        "Spam oder Werbung",
        "Gehört nicht zum Thema",
        "Etwas anderes",
    ]
    assert feed.status_code == 200
    assert "<title>Kommentare zu Die Brücke</title>" in feed.text
    assert "Grete zu Die Brücke" in feed.text
