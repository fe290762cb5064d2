"""Live updates in a real browser: what one reader posts appears on another's open page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests import HELD_TEXT, MODERATION_ON, PASSWORD
from tests.conftest import Databases, Server, add_staff

pytestmark = pytest.mark.browser

PATIENCE = 15_000  # ms: generous, for a busy machine


@pytest.fixture
def two(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """Two readers, each with their own browser profile."""
    first, second = browser.new_context(), browser.new_context()
    yield first, second
    first.close()
    second.close()


def _open(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    with page.expect_response(lambda r: "/events" in r.url):  # the stream is open
        page.goto(url)
    page.evaluate("() => { window.notReloaded = true; }")
    return page


def test_a_post_in_one_browser_appears_in_another_without_a_reload(
    server: Server, two: tuple[BrowserContext, BrowserContext]
) -> None:
    slug = str(server.publish(title="Seen live")["slug"])
    url = f"{server.url}/articles/{slug}"
    reader, writer = two
    watching = _open(reader, url)
    expect(watching.locator("#comments-title")).to_have_text("No comments yet")

    posting = writer.new_page()
    posting.goto(url)
    posting.fill("#body", "Posted from *the other* browser.")
    posting.fill("#name", "Wren Writer")
    posting.fill("#email", "wren-private@example.org")
    with posting.expect_navigation():
        posting.click("#commentform button[type=submit]")
    comment_id = posting.url.rsplit("#comment-", 1)[1]

    arrived = watching.locator(f"ol.comment-list > li#comment-{comment_id}")
    expect(arrived).to_be_visible(timeout=PATIENCE)
    expect(arrived.locator(".author")).to_have_text("Wren Writer")
    expect(arrived.locator(".text em")).to_have_text("the other")
    expect(watching.locator("#comments-title")).to_have_text(
        "1 Comment on “Seen live”", timeout=PATIENCE
    )
    expect(watching.locator("#live-status")).to_have_text(
        "New comment by Wren Writer.", timeout=PATIENCE
    )
    assert "wren-private" not in watching.content()

    # A reply lands under its parent, and its Reply link works like any other.
    with httpx.Client(base_url=server.url, timeout=10) as other:
        answer = other.post(
            f"/api/v1/articles/{slug}/comments",
            json={
                "body": "A reply, also live.",
                "name": "Quill Replier",
                "email": "quill@example.org",
                "parent_id": int(comment_id),
            },
        )
        assert answer.status_code == 201, answer.text
        reply_id = answer.json()["id"]
        nested = watching.locator(f"#comment-{comment_id} > ol.children > li#comment-{reply_id}")
        expect(nested).to_be_visible(timeout=PATIENCE)
        nested.locator("a.reply").click()
        expect(watching.locator("#replying-to")).to_contain_text("Quill Replier")

        # Its writer takes it back: it leaves the other page too.
        assert other.delete(f"/api/v1/comments/{reply_id}").status_code == 204
        expect(watching.locator(f"#comment-{reply_id}")).to_have_count(0, timeout=PATIENCE)
    expect(watching.locator("#comments-title")).to_have_text(
        "1 Comment on “Seen live”", timeout=PATIENCE
    )
    assert watching.evaluate("() => window.notReloaded") is True


def test_without_script_the_page_is_the_same_and_opens_no_stream(
    server: Server, browser: Browser
) -> None:
    slug = str(server.publish(title="Still without script")["slug"])
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        streams: list[str] = []
        page.on("request", lambda r: streams.append(r.url) if "/events" in r.url else None)
        page.goto(f"{server.url}/articles/{slug}")
        expect(page.locator("#comments-title")).to_have_text("No comments yet")
        expect(page.locator("#live-status")).to_be_empty()
        assert streams == []
    finally:
        context.close()


def test_the_desk_hears_of_a_held_comment_without_a_reload(
    databases: Databases, browser: Browser
) -> None:
    db_url = databases.new()
    add_staff(db_url, "desk")
    server = Server(db_url, env=MODERATION_ON).start()
    context = browser.new_context()
    try:
        slug = str(server.publish(title="Held while watched")["slug"])
        page = context.new_page()
        page.goto(server.url + "/admin")
        page.fill("#name", "desk")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("form button[type=submit]")
        with page.expect_response(lambda r: r.url.endswith("/admin/events")):
            page.reload()
        held_count = page.locator('.desk-bar nav a[href="/admin"] .count')
        expect(held_count).to_have_text("0")
        response = server.post(
            f"/api/v1/articles/{slug}/comments",
            json={"body": HELD_TEXT, "name": "Held Writer", "email": "held-live@example.org"},
        )
        assert response.status_code == 202, response.text
        expect(held_count).to_have_text("1", timeout=PATIENCE)
        notice = page.locator(".live-notice")
        expect(notice).to_contain_text("New in this queue since it was loaded: 1.")
        with page.expect_navigation():
            notice.locator("a").click()
        expect(page.locator("ol.queue > li.item")).to_have_count(1)
    finally:
        context.close()
        server.stop()


def test_a_german_page_shows_a_live_comment_in_german(server: Server, browser: Browser) -> None:
    slug = str(server.publish(title="Live auf Deutsch")["slug"])
    german = browser.new_context(locale="de-DE")
    try:
        watching = _open(german, f"{server.url}/articles/{slug}")
        expect(watching.locator("#comments-title")).to_have_text("Noch keine Kommentare")
        with httpx.Client(base_url=server.url, timeout=10) as other:
            posted = other.post(
                f"/api/v1/articles/{slug}/comments",
                json={"body": "Live.", "name": "Uta", "email": "uta@example.org"},
            )
        assert posted.status_code == 201, posted.text
        arrived = watching.locator(f"li#comment-{posted.json()['id']}")
        expect(arrived.locator(".says")).to_have_text("schreibt", timeout=PATIENCE)
        expect(watching.locator("#comments-title")).to_have_text(
            "1 Kommentar zu „Live auf Deutsch“", timeout=PATIENCE
        )
        expect(watching.locator("#live-status")).to_have_text(
            "Neuer Kommentar von Uta.", timeout=PATIENCE
        )
    finally:
        german.close()
