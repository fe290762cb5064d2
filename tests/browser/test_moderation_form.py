"""Moderation in a real browser: a refused comment keeps its text and says why; a held one waits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from rejoinder.core.moderation.matching import lexicon
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from tests import HELD_TEXT
from tests.conftest import Databases, Server

from .conftest import screenshot_dir

pytestmark = pytest.mark.browser

DEFAULT_SITE = 1
FORM_SECONDS = 1  # the site's min_form_seconds: a person takes longer than this to write
TYPING = FORM_SECONDS + 0.2
INSULT = "You brain dead halfwits"
CIVIL = "I disagree with the council: the figures for the bridge do not add up."
LANDED = re.compile(r"/articles/(?P<slug>[^/?#]+)(\?[^#]*)?#comment-(?P<id>\d+)$")


@pytest.fixture(scope="module")
def moderated(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with moderation on (model off) on a site that refuses insults outright.

    By default insults are held for a moderator; this site puts the shipped insult list on
    its refuse list, so the writer gets the form back with the reason and may revise.
    """
    db_url = databases.new()
    log = tmp_path_factory.mktemp("moderation-form") / "server.log"
    env = {"REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "false"}
    server = Server(db_url, env=env, log=log).start()
    refuse = {k: list(v) for k, v in lexicon.word_lists("refuse").items()}
    refuse["insult"] = list(lexicon.word_lists("hold")["insult"])
    policy = {"min_form_seconds": FORM_SECONDS, "flood_seconds": 0, "refuse_words": refuse}
    db = Database(db_url, pool_size=1)
    try:
        with db.write() as conn:
            site_store.update_site_settings(conn, DEFAULT_SITE, {"policy": policy})
        yield server
    finally:
        db.dispose()
        server.stop()


def write(page: Page, body: str) -> None:
    """Type a comment as a person would, taking longer than the site's minimum."""
    page.fill("#body", body)
    page.fill("#name", "Pat Reader")
    page.fill("#email", "pat.reader@example.org")
    page.wait_for_timeout(TYPING * 1000)


def navigate(page: Page, action: Callable[[], None]) -> int:
    """Run `action`, which sends the form; return the status of the page it lands on."""
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    assert response is not None
    return response.status


def post(page: Page) -> None:
    page.click("#commentform button[type=submit]")


def landed_on(page: Page, slug: str) -> int:
    match = LANDED.search(page.url)
    assert match and match["slug"] == slug, page.url
    return int(match["id"])


def expect_refused_form(page: Page) -> None:
    """The form again: the reason beside the Comment field, naming the words; the text kept."""
    error = page.locator(".field.has-error:has(#body) > #body-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text('"brain dead halfwits"')
    expect(error).to_contain_text("was not posted")
    expect(page.locator("#body")).to_have_value(INSULT)
    expect(page.locator("#body")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary")).to_contain_text('"brain dead halfwits"')
    expect(page.locator("#comments .comment-list")).to_have_count(0)


def test_refused_insult_is_revised_and_published_then_a_held_comment_waits_for_its_writer_only(
    moderated: Server, browser: Browser, tmp_path: Path
) -> None:
    shots = screenshot_dir(tmp_path)
    slug = str(
        moderated.publish(title="The council and the bridge", body="The vote is on.")["slug"]
    )
    writer = browser.new_context()
    try:
        page = writer.new_page()
        page.goto(f"{moderated.url}/articles/{slug}")

        # With JavaScript the form asks the check endpoint first and offers a revision.
        write(page, INSULT)
        post(page)
        precheck = page.locator("#precheck")
        expect(precheck).to_contain_text('This would not be posted because it uses "brain dead')
        assert page.url == f"{moderated.url}/articles/{slug}"  # nothing was sent yet
        page.screenshot(path=str(shots / "precheck.png"), full_page=True)
        # The writer insists: the server refuses and gives the form back.
        assert navigate(page, lambda: page.click("#precheck button:text('Post anyway')")) == 422
        expect_refused_form(page)
        page.screenshot(path=str(shots / "refused.png"), full_page=True)

        write(page, CIVIL)
        assert navigate(page, lambda: post(page)) == 200  # the check finds nothing: it posts
        civil = landed_on(page, slug)
        published = page.locator(f"#comments > ol.comment-list > li#comment-{civil}")
        expect(published.locator(".num")).to_have_text("1.")
        expect(published.locator(".text")).to_have_text(CIVIL)
        expect(page.locator("#body-error")).to_have_count(0)

        write(page, HELD_TEXT)
        post(page)
        expect(page.locator("#precheck")).to_contain_text("This may be held for a moderator")
        expect(page.locator("#precheck")).to_contain_text('"Israhell"')
        assert navigate(page, lambda: page.click("#precheck button:text('Post anyway')")) == 200
        held = landed_on(page, slug)
        waiting = page.locator("section.held")
        expect(waiting.locator("h3")).to_have_text("Awaiting moderation")
        expect(waiting.locator(f"li#comment-{held} .awaiting")).to_have_text(
            "Your comment is awaiting moderation."
        )
        expect(waiting.locator(f"li#comment-{held} .text")).to_have_text(HELD_TEXT)
        expect(page.locator(f"#comments > ol.comment-list > li#comment-{held}")).to_have_count(0)
        expect(page.locator("#comments-title")).to_have_text(re.compile(r"^1 "))
        waiting.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "held.png"), full_page=True)
    finally:
        writer.close()

    other = browser.new_context()
    try:
        page = other.new_page()
        page.goto(f"{moderated.url}/articles/{slug}")
        expect(page.locator(f"li#comment-{civil} .text")).to_have_text(CIVIL)
        expect(page.locator(f"#comment-{held}")).to_have_count(0)
        expect(page.locator("section.held")).to_have_count(0)
        expect(page.get_by_text("Israhell")).to_have_count(0)
    finally:
        other.close()


def test_without_javascript_the_insult_comes_back_in_the_form_with_the_reason(
    moderated: Server, browser: Browser
) -> None:
    # An article long enough that the form is well below the first screen: the answer must
    # open at the reasons (the form's action ends in #error-summary), not at the top of the
    # article with the reason out of sight.
    body = "\n\n".join(f"Paragraph {n} of a long report on the bridge." for n in range(60))
    slug = str(moderated.publish(title="No script here", body=body)["slug"])
    context = browser.new_context(java_script_enabled=False, viewport={"width": 800, "height": 600})
    try:
        page = context.new_page()
        page.goto(f"{moderated.url}/articles/{slug}")
        write(page, INSULT)
        assert navigate(page, lambda: post(page)) == 422
        expect_refused_form(page)
        expect(page.locator("#error-summary")).to_be_in_viewport()
        assert page.title().startswith("Error: No script here")
        expect(page.locator("#precheck")).to_have_count(0)
    finally:
        context.close()


def test_a_german_browser_gets_the_check_the_refusal_and_the_form_in_german(
    moderated: Server, browser: Browser, tmp_path: Path
) -> None:
    shots = screenshot_dir(tmp_path)
    slug = str(moderated.publish(title="Die Brücke", body="Der Rat stimmt ab.")["slug"])
    writer = browser.new_context(locale="de-DE")  # the browser sends Accept-Language: de-DE
    try:
        page = writer.new_page()
        page.goto(f"{moderated.url}/articles/{slug}")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("#respond-title")).to_have_text("Schreiben Sie einen Kommentar")
        write(page, INSULT)
        post(page)
        precheck = page.locator("#precheck")
        expect(precheck).to_contain_text(
            "Dieser Kommentar würde nicht veröffentlicht werden, "
            'denn er enthält "brain dead halfwits"'
        )
        expect(precheck.locator("button")).to_have_text(["Bearbeiten", "Trotzdem absenden"])
        page.screenshot(path=str(shots / "precheck-de.png"), full_page=True)
        assert (
            navigate(page, lambda: page.click("#precheck button:text('Trotzdem absenden')")) == 422
        )
        error = page.locator("#body-error")
        expect(error).to_contain_text("Fehler: Ihr Kommentar wurde nicht veröffentlicht, denn")
        expect(page.locator("#body")).to_have_value(INSULT)
    finally:
        writer.close()
