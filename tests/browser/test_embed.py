"""The widget on a page of another origin, in a real browser: a static page served from a
second port with the two lines of the embedding tag shows a working discussion."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests import ADMIN_HEADERS, REFUSED_TEXT, RELAXED, comment_payload
from tests.conftest import Databases, Server, add_staff, add_token, allow_origins

from .conftest import require_axe, screenshot_dir
from .test_accessibility import BLOCKING, report, run_axe

pytestmark = pytest.mark.browser

HOSTILE_CSS = "button { background: rgb(255, 105, 180) !important; } li { color: lime; }"


def host_page(server: str, page_id: str, extra: str = "") -> str:
    """A news page of the host site: its own (hostile) styles, a count, the two lines."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Host story {page_id}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ font: 18px Georgia, serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }}
{HOSTILE_CSS}</style></head>
<body><h1>The bridge, again</h1><p>A story of the host site.
<a href="#rejoinder-thread"><span id="count" data-rejoinder-count="{page_id}">…</span></a></p>
{extra}
<div id="rejoinder-thread" data-page-id="{page_id}" data-title="Host story {page_id}"></div>
<script src="{server}/embed.js" data-site="default" async></script>
<script src="{server}/count.js" data-site="default" async></script>
</body></html>"""


class HostSite:
    """Static pages on a port of their own: another origin than the comment server's."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        pages: dict[str, str] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not here").encode())

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        # The same pages under another name are another origin, one not on the list.
        self.other_origin = f"http://localhost:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, page_id: str, extra: str = "") -> str:
        self.pages[f"/{page_id}"] = host_page(self.server_url, page_id, extra)
        return f"{self.origin}/{page_id}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Setup:
    server: Server
    host: HostSite
    staff_token: str  # an admin's API token, for the desk's actions


@pytest.fixture(scope="module")
def setup(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """A server with moderation on (model off, every rule but the word lists relaxed, so the
    pre-submit check has something to say) whose default site lets the host page embed it."""
    db_url = databases.new()
    log = tmp_path_factory.mktemp("embed") / "server.log"
    env = {
        "REJOINDER_MODERATION": "true",
        "REJOINDER_MODERATION_MODEL": "false",
        "REJOINDER_PAGE_SIZE": "3",
    }
    server = Server(db_url, env=env, log=log).start()
    host = HostSite(server.url)
    allow_origins(db_url, host.origin, policy=RELAXED)
    add_staff(db_url, "chief", "admin")
    try:
        yield Setup(server, host, add_token(db_url, "chief"))
    finally:
        host.stop()
        server.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    yield made
    made.close()


def widget(page: Page) -> Locator:
    """The widget's root; Playwright's CSS selectors reach into its open shadow root."""
    return page.locator("#rejoinder-thread")


def open_host(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete this comment?"
    page.goto(url)
    expect(widget(page).locator("#comments-title")).to_be_visible()
    return page


def write(page: Page, body: str, name: str = "Pat Reader") -> None:
    thread = widget(page)
    thread.locator("#body").fill(body)
    thread.locator("#name").fill(name)
    thread.locator("#email").fill("pat.reader@example.org")


def post_as_script(setup: Setup, slug: str, body: str) -> None:
    """A comment posted through the API with a token (no form timing to wait for)."""
    response = httpx.post(
        f"{setup.server.url}/api/v1/articles/{slug}/comments",
        json=comment_payload(body=body),
        headers=ADMIN_HEADERS,
        timeout=10,
    )
    assert response.status_code == 201, response.text


def comment(page: Page, text: str) -> Locator:
    return widget(page).locator("li.comment", has_text=text).last


def test_post_reply_edit_and_delete_on_a_page_of_another_origin(
    setup: Setup, context: BrowserContext
) -> None:
    page = open_host(context, setup.host.add("story-post"))
    thread = widget(page)
    expect(thread.locator("#comments-title")).to_have_text("No comments yet")
    write(page, "First, from the host page.")
    thread.locator("button[type=submit]").click()
    first = comment(page, "First, from the host page.")
    expect(first).to_be_visible()
    expect(thread.locator("#comments-title")).to_have_text("1 Comment")
    expect(thread.locator(".rj-live")).to_have_text("Your comment was posted.")
    assert "pat.reader@example.org" not in thread.inner_html()

    # Reply in place: the form moves under the comment, the reply lands in its children.
    first.locator("a.reply").first.click()
    expect(thread.locator("#replying-to")).to_be_visible()
    expect(thread.locator("#body")).to_be_focused()
    write(page, "A reply, *in place*.", name="Sam Replier")
    thread.locator("button[type=submit]").click()
    in_place = first.locator("ol.children > li.comment", has_text="A reply, in place.")
    expect(in_place).to_be_visible()
    reply = thread.locator(f"#{in_place.get_attribute('id')}")
    expect(thread.locator("#comments-title")).to_have_text("2 Comments")

    # Edit within the window, with the token the widget kept.
    reply.locator("button.rj-edit").click()
    expect(reply.locator(".rj-editor textarea")).to_have_value("A reply, *in place*.")
    reply.locator(".rj-editor textarea").fill("A reply, edited.")
    reply.locator(".rj-editor button[type=submit]").click()
    expect(reply.locator(".text")).to_have_text("A reply, edited.")
    expect(reply.locator(".edited")).to_be_visible()

    # After a reload the tokens are still there (this page's storage, no cookie).
    page.reload()
    reply = comment(page, "A reply, edited.")
    expect(reply.locator("button.rj-delete")).to_be_visible()
    reply.locator("button.rj-delete").click()
    expect(widget(page).locator("li.comment", has_text="A reply, edited.")).to_have_count(0)
    expect(widget(page).locator("#comments-title")).to_have_text("1 Comment")
    # Another reader's browser has no token: no edit buttons, the same thread.
    stranger = context.browser.new_context()  # type: ignore[union-attr]
    try:
        other = open_host(stranger, setup.host.origin + "/story-post")
        expect(comment(other, "First, from the host page.")).to_be_visible()
        expect(widget(other).locator("button.rj-edit")).to_have_count(0)
    finally:
        stranger.close()


def test_field_errors_show_beside_their_fields(setup: Setup, context: BrowserContext) -> None:
    page = open_host(context, setup.host.add("story-errors"))
    thread = widget(page)
    thread.locator("#body").fill("A comment with a bad address.")
    thread.locator("#name").fill("Pat")
    thread.locator("#email").fill("not-an-address")
    thread.locator("button[type=submit]").click()
    error = thread.locator("#email-error")
    expect(error).to_be_visible()
    expect(thread.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(thread.locator("#email")).to_be_focused()
    assert "email-error" in (thread.locator("#email").get_attribute("aria-describedby") or "")


def test_the_pre_submit_check_offers_a_revision(setup: Setup, context: BrowserContext) -> None:
    page = open_host(context, setup.host.add("story-check"))
    thread = widget(page)
    write(page, REFUSED_TEXT)
    thread.locator("button[type=submit]").click()
    notice = thread.locator(".precheck")
    expect(notice).to_contain_text("would not be posted")
    notice.get_by_role("button", name="Edit").click()
    expect(thread.locator("#body")).to_be_focused()
    thread.locator("#body").fill("The council should think again about the bridge.")
    thread.locator("button[type=submit]").click()
    expect(comment(page, "think again about the bridge")).to_be_visible()
    expect(thread.locator(".precheck")).to_have_count(0)


def test_load_more_and_sort(setup: Setup, context: BrowserContext) -> None:
    url = setup.host.add("story-more")
    page = open_host(context, url)
    slug = widget(page).locator("#comments").get_attribute("data-slug")
    for n in range(1, 6):
        post_as_script(setup, str(slug), f"Numbered comment {n}.")
    page.reload()
    thread = widget(page)
    expect(thread.locator("ol.comment-list > li")).to_have_count(3)
    thread.get_by_role("link", name="More comments").click()
    expect(thread.locator("ol.comment-list > li")).to_have_count(5)
    expect(thread.get_by_role("link", name="More comments")).to_have_count(0)
    expect(thread.locator(".rj-live")).to_have_text("2 more comments shown.")
    thread.get_by_role("link", name="newest first").click()
    expect(thread.locator("ol.comment-list > li").first).to_contain_text("Numbered comment 5.")


def test_counts_fill_in_one_request_also_for_elements_added_later(
    setup: Setup, context: BrowserContext
) -> None:
    counted = open_host(context, setup.host.add("story-counted"))
    slug = widget(counted).locator("#comments").get_attribute("data-slug")
    post_as_script(setup, str(slug), "Counted once.")
    counted.close()
    url = setup.host.add(
        "story-counts", extra='<span data-rejoinder-count="story-counted">…</span>'
    )
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/counts" in r.url else None)
    page.goto(url)
    expect(page.locator("#count")).to_have_text("No comments")
    expect(page.locator('[data-rejoinder-count="story-counted"]')).to_have_text("1 comment")
    assert len(asked) == 1, asked
    page.evaluate(
        """() => { const s = document.createElement('span');
        s.id = 'later'; s.setAttribute('data-rejoinder-count', 'story-counted');
        document.body.appendChild(s); }"""
    )
    expect(page.locator("#later")).to_have_text("1 comment")
    assert len(asked) == 2, asked


def test_an_origin_not_on_the_list_can_neither_create_nor_post(
    setup: Setup, context: BrowserContext
) -> None:
    setup.host.add("story-elsewhere")
    page = context.new_page()
    page.goto(setup.host.other_origin + "/story-elsewhere")
    thread = widget(page)
    expect(thread.locator(".rj-note")).to_be_visible()
    expect(thread.locator("#commentform")).to_have_count(0)
    # No discussion was made for it: a crawler (no Origin) finds none.
    made = httpx.get(
        f"{setup.server.url}/embed/default/thread", params={"page_id": "story-elsewhere"}
    )
    assert made.status_code == 404
    # A post made by hand from that origin is stopped by the preflight and never lands.
    allowed = open_host(context, setup.host.add("story-target"))
    target = widget(allowed).locator("#comments").get_attribute("data-slug")
    outcome = page.evaluate(
        """async ([server, slug]) => {
            try {
              const r = await fetch(server + '/embed/default/articles/' + slug + '/comments', {
                method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({body: 'Elsewhere.', name: 'X', email: 'x@example.org'})});
              return 'answered ' + r.status;
            } catch (e) { return 'blocked'; }
        }""",
        [setup.server.url, target],
    )
    assert outcome == "blocked"
    thread_json = httpx.get(f"{setup.server.url}/api/v1/articles/{target}/comments").json()
    assert thread_json["comments"] == []


def test_styles_stay_on_their_side_and_screenshots(
    setup: Setup, browser: Browser, tmp_path: Path
) -> None:
    url = setup.host.add("story-look")
    slug = None
    folder = screenshot_dir(tmp_path)
    sizes: dict[str, ViewportSize] = {
        "laptop": {"width": 1280, "height": 900},
        "phone": {"width": 390, "height": 844},
    }
    for scheme in ("light", "dark"):
        for device, viewport in sizes.items():
            context = browser.new_context(
                viewport=viewport, color_scheme=scheme, is_mobile=device == "phone"
            )
            try:
                page = open_host(context, url)
                thread = widget(page)
                if slug is None:
                    slug = thread.locator("#comments").get_attribute("data-slug")
                    post_as_script(setup, str(slug), "A first view, *with emphasis*.")
                    post_as_script(setup, str(slug), "A second one, > quoted.")
                    page.reload()
                    thread = widget(page)
                expect(thread.locator("li.comment")).to_have_count(2)
                # The host's button rule does not reach the widget's button, nor its li rule.
                background = thread.locator("button[type=submit]").evaluate(
                    "b => getComputedStyle(b).backgroundColor"
                )
                assert background != "rgb(255, 105, 180)"
                color = thread.locator("li.comment").first.evaluate(
                    "e => getComputedStyle(e).color"
                )
                assert color != "rgb(0, 255, 0)"
                paper = thread.evaluate("e => getComputedStyle(e).backgroundColor")
                assert (paper == "rgb(24, 24, 27)") == (scheme == "dark")
                path = folder / f"embed-{scheme}-{device}.png"
                page.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 10_000
            finally:
                context.close()


def test_the_widget_has_no_serious_accessibility_violations(setup: Setup, browser: Browser) -> None:
    """axe looks into the shadow root too: labels, contrast (light and dark), landmarks."""
    require_axe()
    url = setup.host.add("story-axe")
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        try:
            page = open_host(context, url)
            if not widget(page).locator("li.comment").count():
                slug = widget(page).locator("#comments").get_attribute("data-slug")
                post_as_script(setup, str(slug), "Something to reply to.")
                page.reload()
            widget(page).locator("a.reply").first.click()
            expect(widget(page).locator("#replying-to")).to_be_visible()
            blocking = [v for v in run_axe(page) if v["impact"] in BLOCKING]
            assert report(f"widget, {scheme}", blocking) == []
        finally:
            context.close()


def test_a_widget_with_data_lang_de_speaks_german(setup: Setup, context: BrowserContext) -> None:
    url = setup.host.add("story-deutsch")
    setup.host.pages["/story-deutsch"] = setup.host.pages["/story-deutsch"].replace(
        'data-title="Host story story-deutsch"', 'data-title="Host story" data-lang="de"'
    )
    page = open_host(context, url)
    thread = widget(page)
    expect(thread.locator("#respond-title")).to_have_text("Schreiben Sie einen Kommentar")
    write(page, REFUSED_TEXT)
    thread.locator("button[type=submit]").click()
    notice = thread.locator(".precheck")
    expect(notice).to_contain_text("Dieser Kommentar würde nicht veröffentlicht werden, denn")
    expect(notice.get_by_role("button", name="Trotzdem absenden")).to_be_visible()
    thread.locator("#body").fill("Die Brücke ist teuer.")
    thread.locator("#email").fill("keine-adresse")
    thread.locator("button[type=submit]").click()
    expect(thread.locator("#email-error")).to_contain_text(
        "Das sieht nicht nach einer E-Mail-Adresse aus"
    )


def open_listening(context: BrowserContext, url: str) -> Page:
    """The host page, once its widget's event stream is open."""
    page = context.new_page()
    with page.expect_response(lambda r: "/events" in r.url):
        page.goto(url)
    expect(widget(page).locator("#comments-title")).to_be_visible()
    page.evaluate("() => { window.notReloaded = true; }")
    return page


def test_a_second_reader_sees_posts_edits_and_deletions_live(
    setup: Setup, browser: Browser
) -> None:
    url = setup.host.add("story-live")
    writer_context, reader_context = browser.new_context(), browser.new_context()
    try:
        writer = open_host(writer_context, url)
        reader = open_listening(reader_context, url)
        watched = widget(reader)
        expect(watched.locator("#comments-title")).to_have_text("No comments yet")

        write(writer, "Said on *one* screen.")
        widget(writer).locator("button[type=submit]").click()
        posted = comment(writer, "Said on one screen.")
        expect(posted.locator("button.rj-edit")).to_be_visible()
        comment_id = str(posted.get_attribute("id")).removeprefix("comment-")
        mine = widget(writer).locator(f"#comment-{comment_id}")

        arrived = watched.locator(f"ol.comment-list > li#comment-{comment_id}")
        expect(arrived).to_be_visible()
        expect(arrived.locator(".text em")).to_have_text("one")
        expect(watched.locator("#comments-title")).to_have_text("1 Comment")
        expect(watched.locator(".rj-live")).to_have_text("New comment by Pat Reader.")
        expect(arrived.locator("button.rj-edit")).to_have_count(0)  # not the reader's
        assert "pat.reader@example.org" not in watched.inner_html()

        # A reply from elsewhere lands under its parent; the reader may answer it in place.
        slug = str(watched.locator("#comments").get_attribute("data-slug"))
        response = httpx.post(
            f"{setup.server.url}/api/v1/articles/{slug}/comments",
            json={**comment_payload(body="A reply, also live."), "parent_id": int(comment_id)},
            headers=ADMIN_HEADERS,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        reply_id = response.json()["id"]
        nested = watched.locator(f"#comment-{comment_id} > ol.children > li#comment-{reply_id}")
        expect(nested).to_be_visible()
        nested.locator("a.reply").click()
        expect(watched.locator("#replying-to")).to_be_visible()
        expect(watched.locator("#comments-title")).to_have_text("2 Comments")

        # The writer edits, then deletes (the reply keeps its place): the reader's copy follows.
        mine.locator(":scope > .comment-body button.rj-edit").click()
        mine.locator(".rj-editor textarea").fill("Said, and then changed.")
        mine.locator(".rj-editor button[type=submit]").click()
        expect(arrived.locator(":scope > .comment-body .text")).to_have_text(
            "Said, and then changed."
        )
        expect(arrived.locator(":scope > .comment-body .edited")).to_be_visible()
        expect(widget(writer).locator(f"#comment-{reply_id}")).to_be_visible()
        mine.locator(":scope > .comment-body button.rj-delete").click()
        expect(mine.locator(":scope > .comment-body .author")).to_have_text("[deleted]")
        expect(arrived.locator(":scope > .comment-body .author")).to_have_text("[deleted]")
        expect(arrived.locator(":scope > .comment-body .text")).to_have_text("[deleted]")
        expect(nested).to_be_visible()

        # A moderator removes the reply: it leaves the reader's page.
        removed = httpx.post(
            f"{setup.server.url}/api/v1/admin/comments/{reply_id}/reject",
            json={},
            headers={"Authorization": f"Bearer {setup.staff_token}"},
            timeout=10,
        )
        assert removed.status_code == 200, removed.text
        expect(watched.locator(f"#comment-{reply_id}")).to_have_count(0)
        assert reader.evaluate("() => window.notReloaded") is True
    finally:
        writer_context.close()
        reader_context.close()


def test_a_closed_discussion_shows_no_form_and_takes_no_post(
    setup: Setup, context: BrowserContext
) -> None:
    url = setup.host.add("story-closed")
    page = open_host(context, url)
    slug = str(widget(page).locator("#comments").get_attribute("data-slug"))
    post_as_script(setup, slug, "Said before the close.")
    closed = httpx.post(
        f"{setup.server.url}/api/v1/admin/articles/{slug}/close",
        json={"note": "Enough said."},
        headers={"Authorization": f"Bearer {setup.staff_token}"},
        timeout=10,
    )
    assert closed.status_code == 200, closed.text
    page.reload()
    thread = widget(page)
    expect(thread.locator("#respond-title")).to_have_text("Comments are closed")
    expect(thread.locator("#commentform")).to_have_count(0)
    expect(thread.locator("a.reply").first).to_be_hidden()  # nothing to reply with
    expect(comment(page, "Said before the close.")).to_be_visible()
    # A post sent anyway, from the allowed origin, is refused with the reason.
    refused = httpx.post(
        f"{setup.server.url}/embed/default/articles/{slug}/comments",
        json=comment_payload(body="Too late."),
        headers={"Origin": setup.host.origin},
        timeout=10,
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["field"] is None or refused.json()["error"]
