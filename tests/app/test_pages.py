"""The HTML pages and feeds as a browser without JavaScript gets them from the real app."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests import comment_li, has_class, parse_html, post, words
from tests.conftest import App, Databases

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site(databases: Databases) -> Iterator[App]:
    """This module's own app, so the front page holds only what these tests publish."""
    running = App(databases.new()).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser(site: App) -> Iterator[httpx.Client]:
    with site.client() as http:
        yield http


def fresh(site: App) -> httpx.Client:
    return site.client()


def form_fields(**fields: str) -> dict[str, str]:
    values = {"body": "Posted from the form.", "name": "Form Writer", "email": "form@example.org"}
    values.update(fields)
    return values


def input_value(page: Any, name: str) -> str:
    [element] = page.xpath(f'//form[@id="commentform"]//*[@name="{name}"]')
    if element.tag == "textarea":
        return str(element.text or "")
    return str(element.get("value", ""))


def test_article_page_shows_numbered_comments_with_anchors_links_and_reply_links(
    site: App, browser: httpx.Client
) -> None:
    article = site.publish(title="Numbered comments")
    slug = article["slug"]
    first = post(browser, slug, name="Webbed Writer", website="https://writer.example/")
    second = post(browser, slug, name="Plain Writer")
    reply = post(browser, slug, name="Answering Writer", parent_id=first["id"])
    raw = browser.get(f"/articles/{slug}").text
    page = parse_html(raw)

    [heading] = page.xpath('//h2[@id="comments-title"]')
    assert words(heading).startswith("3 Comments")
    expected = [
        (first, "1. Webbed Writer says"),
        (second, "2. Plain Writer says"),
        (reply, "1. Answering Writer says"),
    ]
    for comment, header in expected:
        li = comment_li(page, comment["id"])
        [meta] = li.xpath(f"./article/header[{has_class('comment-meta')}]")
        assert words(meta).startswith(header)
        [stamp] = meta.xpath(".//time/@datetime")
        assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
        [reply_link] = li.xpath(f"./article//a[{has_class('reply')}]/@href")
        assert f"?replytocom={comment['id']}" in reply_link
        assert comment["body_html"] in raw

    [link] = comment_li(page, first["id"]).xpath("./article/header//a[not(@class)]")
    assert link.get("href") == "https://writer.example/"
    assert {"nofollow", "ugc"} <= set(link.get("rel", "").split())
    assert words(link) == "Webbed Writer"
    assert not comment_li(page, second["id"]).xpath("./article/header//a[not(@class)]")

    [children] = comment_li(page, first["id"]).xpath(f"./ol[{has_class('children')}]")
    assert [li.get("id") for li in children.xpath("./li")] == [f"comment-{reply['id']}"]
    top_level = page.xpath(f"//ol[{has_class('comment-list')}]/li/@id")
    assert top_level == [f"comment-{first['id']}", f"comment-{second['id']}"]

    text = words(page)
    assert "Leave a Reply" in text
    assert "Your email address will not be published." in text


def test_replies_deeper_than_the_cap_stay_at_the_last_level_and_say_whom_they_answer(
    site: App, browser: httpx.Client
) -> None:
    slug = site.publish()["slug"]
    chain = [post(browser, slug, name="Level 0")]
    for level in range(1, 9):
        chain.append(post(browser, slug, name=f"Level {level}", parent_id=chain[-1]["id"]))
    page = parse_html(browser.get(f"/articles/{slug}").text)

    def nesting(li: Any) -> int:
        return len(li.xpath("ancestor::li"))

    levels = [nesting(comment_li(page, c["id"])) for c in chain]
    assert levels == [0, 1, 2, 3, 4, 4, 4, 4, 4]
    assert max(len(li.xpath("ancestor-or-self::li")) for li in page.xpath("//li[@id]")) == 5
    for level, comment in enumerate(chain):
        li = comment_li(page, comment["id"])
        notes = [words(n) for n in li.xpath(f"./article//span[{has_class('in-reply-to')}]")]
        assert notes == ([f"in reply to Level {level - 1}"] if level >= 5 else [])
    # Reading order is kept: the flattened replies follow one another in the last list.
    last_list = comment_li(page, chain[3]["id"]).xpath(f"./ol[{has_class('children')}]/li/@id")
    assert last_list == [f"comment-{c['id']}" for c in chain[4:]]


def test_form_post_redirects_to_the_new_comment_which_the_page_then_shows(
    site: App, browser: httpx.Client
) -> None:
    slug = site.publish()["slug"]
    response = browser.post(
        f"/articles/{slug}/comments", data=form_fields(body="No script needed.")
    )
    assert response.status_code == 303
    location = response.headers["location"]
    fragment = urlsplit(location).fragment
    assert fragment.startswith("comment-") and location.endswith(f"#{fragment}")
    comment_id = int(fragment.removeprefix("comment-"))
    followed = browser.get(location)
    assert followed.status_code == 200
    li = comment_li(parse_html(followed.text), comment_id)
    assert "No script needed." in li.text_content()
    assert words(li).startswith("1. Form Writer says")


def test_replytocom_renders_the_form_as_a_reply_and_the_reply_nests(
    site: App, browser: httpx.Client
) -> None:
    slug = site.publish()["slug"]
    parent = post(browser, slug, name="Quoted Person")
    page = parse_html(browser.get(f"/articles/{slug}", params={"replytocom": parent["id"]}).text)
    [hidden] = page.xpath('//form[@id="commentform"]//input[@name="parent_id"]')
    assert hidden.get("type") == "hidden"
    assert hidden.get("value") == str(parent["id"])
    [replying] = page.xpath('//*[@id="replying-to"]')
    assert replying.get("hidden") is None
    assert "Replying to Quoted Person" in words(replying)

    plain = parse_html(browser.get(f"/articles/{slug}").text)
    assert input_value(plain, "parent_id") == ""

    response = browser.post(
        f"/articles/{slug}/comments", data=form_fields(parent_id=str(parent["id"]), name="Replier")
    )
    assert response.status_code == 303
    reply_id = int(response.headers["location"].rsplit("#comment-", 1)[1])
    page = parse_html(browser.get(f"/articles/{slug}").text)
    nested = comment_li(page, parent["id"]).xpath(f"./ol[{has_class('children')}]/li/@id")
    assert nested == [f"comment-{reply_id}"]


def test_form_remembers_the_writer_in_the_same_browser_only(
    site: App, browser: httpx.Client
) -> None:
    slug = site.publish()["slug"]
    page = parse_html(browser.get(f"/articles/{slug}").text)
    assert [input_value(page, f) for f in ("name", "email", "website")] == ["", "", ""]
    response = browser.post(
        f"/articles/{slug}/comments",
        data=form_fields(
            name="Remembered Rita", email="rita@example.org", website="https://rita.example"
        ),
    )
    assert response.status_code == 303
    page = parse_html(browser.get(f"/articles/{slug}").text)
    assert input_value(page, "name") == "Remembered Rita"
    assert input_value(page, "email") == "rita@example.org"
    assert input_value(page, "website") == "https://rita.example"
    assert input_value(page, "body") == ""
    with fresh(site) as stranger:
        raw = stranger.get(f"/articles/{slug}").text
    page = parse_html(raw)
    assert [input_value(page, f) for f in ("name", "email", "website")] == ["", "", ""]
    assert "rita@example.org" not in raw


def test_syndicated_article_names_and_links_its_source_and_canonical(
    site: App, browser: httpx.Client
) -> None:
    source = "https://elsewhere.example/2024/original-story"
    slug = site.publish(source_name="The Elsewhere Gazette", source_url=source)["slug"]
    page = parse_html(browser.get(f"/articles/{slug}").text)
    [line] = page.xpath(f"//p[{has_class('source')}]")
    assert words(line) == "Source: The Elsewhere Gazette"
    assert line.xpath(".//a/@href") == [source]
    assert page.xpath('//head/link[@rel="canonical"]/@href') == [source]

    own = site.publish()["slug"]
    page = parse_html(browser.get(f"/articles/{own}").text)
    assert not page.xpath(f"//p[{has_class('source')}]")
    assert page.xpath('//head/link[@rel="canonical"]/@href') == [f"{site.url}/articles/{own}"]


def test_front_page_lists_articles_newest_first_with_their_comment_counts(
    site: App, browser: httpx.Client
) -> None:
    base = datetime.now(UTC) + timedelta(days=3650)
    made = {}
    for days, comments in ((1, 2), (3, 0), (2, 1)):
        article = site.publish(published_at=(base + timedelta(days=days)).isoformat())
        for _ in range(comments):
            post(browser, article["slug"])
        made[article["slug"]] = (days, article["title"])
    page = parse_html(browser.get("/").text)
    items = page.xpath(f"//ol[{has_class('article-list')}]/li")
    listed = [(item.xpath(".//h2/a/@href")[0].rsplit("/", 1)[1], item) for item in items]
    first_three = [slug for slug, _ in listed[:3]]
    assert first_three == sorted(made, key=lambda s: -made[s][0])
    counts = {
        slug: words(item.xpath(f".//p[{has_class('meta')}]/a")[0]) for slug, item in listed[:3]
    }
    by_days = {days: counts[slug] for slug, (days, _) in made.items()}
    assert by_days == {1: "2 Comments", 3: "No comments yet", 2: "1 Comment"}
    assert all(words(item.xpath(".//h2")[0]) == made[slug][1] for slug, item in listed[:3])


def test_feeds_are_atom_with_an_entry_per_article_and_per_comment(
    site: App, browser: httpx.Client
) -> None:
    article = site.publish(title="Feed Worthy Piece")
    slug = article["slug"]
    names = ["Feed One", "Feed Two", "Feed Three"]
    first = post(browser, slug, name=names[0])
    post(browser, slug, name=names[1], parent_id=first["id"])
    post(browser, slug, name=names[2])
    gone = post(browser, slug, name="Soon Gone")
    assert browser.delete(f"/api/v1/comments/{gone['id']}").status_code == 204

    response = browser.get(f"/articles/{slug}/comments.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Comments on Feed Worthy Piece"
    titles = sorted(e.findtext(f"{ATOM}title") or "" for e in feed.findall(f"{ATOM}entry"))
    assert titles == sorted(f"{name} on Feed Worthy Piece" for name in names)

    known = browser.get("/api/v1/articles", params={"limit": 100}).json()["articles"]
    feed = ET.fromstring(browser.get("/feed.atom").content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == min(len(known), 30)
    assert "Feed Worthy Piece" in {e.findtext(f"{ATOM}title") for e in entries}
    assert browser.get("/articles/no-such-piece/comments.atom").status_code == 404


def test_closed_article_says_comments_are_closed_and_has_no_form(
    site: App, browser: httpx.Client
) -> None:
    slug = site.publish(comments_open=False)["slug"]
    for params in ({}, {"replytocom": "1"}):
        response = browser.get(f"/articles/{slug}", params=params)
        assert response.status_code == 200
        page = parse_html(response.text)
        assert "Comments are closed" in words(page)
        assert not page.xpath("//form")
        assert "Leave a Reply" not in words(page)
