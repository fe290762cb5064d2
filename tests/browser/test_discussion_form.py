"""The discussion form in a real browser: replying with and without JavaScript, errors, memory."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import Server

from .conftest import PageKind, screenshot_dir

pytestmark = pytest.mark.browser

LANDED = re.compile(r"/articles/(?P<slug>[^/?#]+)(\?[^#]*)?#comment-(?P<id>\d+)$")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) with JavaScript on."""
    made = browser.new_context()
    yield made
    made.close()


@pytest.fixture
def no_js(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile with JavaScript off."""
    made = browser.new_context(java_script_enabled=False)
    yield made
    made.close()


def api_comment(
    server: Server, slug: str, name: str, body: str, parent_id: int | None = None
) -> int:
    response = httpx.post(
        f"{server.url}/api/v1/articles/{slug}/comments",
        json={"name": name, "email": "someone@example.org", "body": body, "parent_id": parent_id},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def submit(page: Page, action: Callable[[], None]) -> int:
    """Run `action`, which submits the form; return the status of the page it lands on."""
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    assert response is not None
    return response.status


def landed_on(page: Page, slug: str) -> int:
    """The id of the comment the page landed on after a post, checking the address on the way."""
    match = LANDED.search(page.url)
    assert match and match["slug"] == slug, page.url
    return int(match["id"])


def focused(page: Page) -> str:
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " const how = e.getAttribute('href') || e.type;"
            " return e.id || e.tagName.toLowerCase() + '[' + how + ']'; }"
        )
    )


def test_reply_with_script_moves_form_under_comment_and_posts_nested_reply(
    server: Server, context: BrowserContext
) -> None:
    slug = str(server.publish(title="Reply with the script on")["slug"])
    parent = api_comment(server, slug, "Alice Example", "The first word.")
    page = context.new_page()
    page.goto(f"{server.url}/articles/{slug}")
    expect(page.locator("#replying-to")).to_be_hidden()

    page.click(f"#comment-{parent} a.reply")
    assert page.url == f"{server.url}/articles/{slug}"  # the script kept the page; no navigation
    # The whole "Leave a Reply" box (heading, tint and form) moves under the comment.
    assert page.locator(f"#comment-{parent} > #respond > #commentform").count() == 1
    assert page.locator("#comments > #respond").count() == 0
    expect(page.locator("#replying-to")).to_be_visible()
    expect(page.locator("#replying-to")).to_contain_text("Replying to Alice Example")
    assert page.input_value("#parent_id") == str(parent)
    assert focused(page) == "body"

    page.keyboard.type("Thanks, Alice.")
    page.keyboard.press("Tab")
    page.keyboard.type("Bob Keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type("bob@example.org")
    assert submit(page, lambda: page.keyboard.press("Enter")) == 200  # Enter in a field submits

    reply = landed_on(page, slug)
    nested = page.locator(f"#comment-{parent} > ol.children > li#comment-{reply}")
    expect(nested).to_have_count(1)
    expect(nested.locator(".author")).to_have_text("Bob Keyboard")
    expect(nested.locator(".text")).to_have_text("Thanks, Alice.")


def test_cancel_reply_and_escape_put_the_form_back_under_leave_a_reply(
    server: Server, context: BrowserContext
) -> None:
    slug = str(server.publish(title="Changing one's mind")["slug"])
    parent = api_comment(server, slug, "Carol Example", "Say something.")
    page = context.new_page()
    page.goto(f"{server.url}/articles/{slug}")

    page.click(f"#comment-{parent} a.reply")
    assert page.locator(f"#comment-{parent} #commentform").count() == 1
    page.click("#cancel-reply")
    assert page.url == f"{server.url}/articles/{slug}"
    assert page.locator("#comments > #respond").count() == 1  # back in its place
    expect(page.locator("#respond-title")).to_have_text("Leave a Reply")
    assert page.locator("#respond > #respond-title + #commentform").count() == 1
    expect(page.locator("#replying-to")).to_be_hidden()
    assert page.input_value("#parent_id") == ""
    assert focused(page) == f"a[/articles/{slug}?replytocom={parent}#respond]"  # back to Reply

    page.keyboard.press("Enter")  # Reply again, from the keyboard, then Escape out of it
    assert page.locator(f"#comment-{parent} #commentform").count() == 1
    page.keyboard.press("Escape")
    assert page.locator("#respond > #respond-title + #commentform").count() == 1
    assert page.input_value("#parent_id") == ""


def test_reply_and_post_without_script(server: Server, no_js: BrowserContext) -> None:
    slug = str(server.publish(title="Reply with the script off")["slug"])
    first = api_comment(server, slug, "Dan First", "One.")
    api_comment(server, slug, "Erin Second", "Two.")
    page = no_js.new_page()
    page.goto(f"{server.url}/articles/{slug}")

    submit(page, lambda: page.click(f"#comment-{first} a.reply"))  # a plain link: a new page
    assert page.url.endswith(f"/articles/{slug}?replytocom={first}#respond")
    expect(page.locator("#replying-to")).to_be_visible()
    expect(page.locator("#replying-to")).to_contain_text("Replying to Dan First")
    assert page.input_value("#parent_id") == str(first)
    page.fill("#body", "A reply, no script needed.")
    page.fill("#name", "Fay Plain")
    page.fill("#email", "fay@example.org")
    assert submit(page, lambda: page.click("#commentform button[type=submit]")) == 200

    reply = landed_on(page, slug)
    expect(page.locator(f"#comment-{first} > ol.children > li#comment-{reply} .text")).to_have_text(
        "A reply, no script needed."
    )
    expect(page.locator(f"#comment-{first} > ol.children > li#comment-{reply} .num")).to_have_text(
        "1."
    )

    # The page it landed on has the plain form again: this one is a top-level comment.
    assert page.input_value("#parent_id") == ""
    expect(page.locator("#replying-to")).to_be_hidden()
    page.fill("#body", "And a word of my own.")
    assert submit(page, lambda: page.click("#commentform button[type=submit]")) == 200
    top = landed_on(page, slug)
    last = page.locator("ol.comment-list > li").last
    expect(last).to_have_id(f"comment-{top}")
    expect(last.locator(":scope > article .num")).to_have_text("3.")
    expect(last.locator(":scope > article .author")).to_have_text("Fay Plain")  # remembered


def test_bad_input_shows_errors_beside_fields_and_keeps_what_was_typed(
    server: Server, context: BrowserContext, tmp_path: Path
) -> None:
    slug = str(server.publish(title="Mistakes were made")["slug"])
    page = context.new_page()
    page.goto(f"{server.url}/articles/{slug}")
    page.fill("#name", "Gus Typed")
    page.fill("#email", "not-an-email")
    assert submit(page, lambda: page.click("#commentform button[type=submit]")) == 422

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Your comment needs 2 changes before it can be posted")
    assert focused(page) == "error-summary"  # the script takes the reader to the summary
    expect(page.locator("#body-error")).to_be_visible()
    expect(page.locator("#email-error")).to_be_visible()
    assert page.locator("#name-error").count() == 0
    # Each message sits beside its own field, inside the field's box.
    assert page.locator(".field:has(#body) #body-error").count() == 1
    assert page.locator(".field:has(#email) #email-error").count() == 1
    assert page.input_value("#name") == "Gus Typed"
    assert page.input_value("#email") == "not-an-email"
    for field in ("body", "email"):
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
        assert (
            f"{field}-error" in (page.get_attribute(f"#{field}", "aria-describedby") or "").split()
        )
    assert page.get_attribute("#name", "aria-invalid") is None
    page.screenshot(path=str(screenshot_dir(tmp_path) / "form-errors.png"), full_page=True)

    # Keyboard only: from the summary, Tab walks its links, then the form's fields in order.
    walked = []
    for _ in range(9):
        page.keyboard.press("Tab")
        walked.append(focused(page))
    assert walked[:2] == ["a[#body]", "a[#email]"], walked
    # No "notify" box: the test server sends no mail, so it offers none.
    assert walked[2:7] == ["body", "name", "email", "website", "button[submit]"], walked


def test_name_email_and_website_are_remembered_after_posting(
    server: Server, browser: Browser, context: BrowserContext
) -> None:
    slug = str(server.publish(title="Do I know you?")["slug"])
    other = str(server.publish(title="Another story")["slug"])
    page = context.new_page()
    page.goto(f"{server.url}/articles/{slug}")
    assert page.input_value("#name") == ""
    page.fill("#body", "Remember me.")
    page.fill("#name", "Hal Remembered")
    page.fill("#email", "hal@example.org")
    page.fill("#website", "https://example.org/hal")
    assert submit(page, lambda: page.click("#commentform button[type=submit]")) == 200

    for path in (f"/articles/{slug}", f"/articles/{other}"):
        page.goto(server.url + path)
        page.reload()
        assert page.input_value("#name") == "Hal Remembered"
        assert page.input_value("#email") == "hal@example.org"
        assert page.input_value("#website") == "https://example.org/hal"
        assert page.input_value("#body") == ""  # the text itself is not kept
    stranger = browser.new_context()  # another browser profile is a stranger
    try:
        fresh = stranger.new_page()
        fresh.goto(f"{server.url}/articles/{slug}")
        assert fresh.input_value("#name") == ""
    finally:
        stranger.close()


def test_article_page_fits_a_phone_and_screenshots(
    page_kinds: dict[str, PageKind], browser: Browser, tmp_path: Path
) -> None:
    """The threaded article, wide and on a 390 px phone: nothing runs off the side."""
    folder = screenshot_dir(tmp_path)
    kind = page_kinds["thread"]
    desktop = kind.open(browser)
    try:
        desktop.set_viewport_size({"width": 1280, "height": 900})
        desktop.screenshot(path=str(folder / "article.png"), full_page=True)
    finally:
        desktop.context.close()
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = phone.new_page()
        page.goto(kind.url)
        page.screenshot(path=str(folder / "article-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The deepest reply still has room to read: at least half the screen.
        deepest = page.locator("li.comment.level-4 .text").last.bounding_box()
        assert deepest is not None and deepest["width"] >= 195, deepest
        page.click("li.comment.level-4 a.reply >> nth=-1")  # the form, moved to the deepest level
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(folder / "article-phone-replying.png"), full_page=False)
    finally:
        phone.close()
