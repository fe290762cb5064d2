"""The desk in chromium: log in, see the seed's held comment with its words marked, act by key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import HELD_TEXT, MODERATION_ON, PASSWORD
from tests.conftest import SEED, Databases, Server, add_staff, cli

from .conftest import screenshot_dir

pytestmark = pytest.mark.browser

SEAMUS = "Séamus Ó Néill"
INSULT = "brain dead halfwits"


@dataclass(frozen=True)
class SeedDesk:
    server: Server
    slug: str
    other: int  # a held comment posted through the API, to reject


@pytest.fixture(scope="module")
def seed_desk(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedDesk]:
    if not SEED.is_file():
        pytest.skip(f"the seed page is not at {SEED}")
    tmp = tmp_path_factory.mktemp("desk-browser")
    db_url = databases.new()
    output = cli("import-page", "--moderate", str(SEED), db_url=db_url, env=MODERATION_ON)
    match = re.search(r"Imported /articles/(\S+)", output.stdout)
    assert match, output.stdout
    add_staff(db_url, "desk")
    server = Server(db_url, env=MODERATION_ON, log=tmp / "server.log").start()
    try:
        response = server.post(
            f"/api/v1/articles/{match.group(1)}/comments",
            json={"body": HELD_TEXT, "name": "Held Writer", "email": "held@example.org"},
        )
        assert response.status_code == 202, response.text
        yield SeedDesk(server, match.group(1), int(response.json()["id"]))
    finally:
        server.stop()


def log_in(page: Page, base: str) -> None:
    page.goto(base + "/admin")
    assert "/admin/login" in page.url
    page.fill("#name", "desk")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url.rstrip("/").endswith("/admin"), page.url


def item_of(page: Page, name: str) -> int:
    """The id of the queue item whose writer is `name`."""
    found = page.locator("ol.queue > li.item", has=page.locator("dd.name", has_text=name))
    expect(found).to_have_count(1)
    return int(found.get_attribute("data-id") or 0)


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_the_queue_reads_on_a_phone(browser: Browser, seed_desk: SeedDesk, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, seed_desk.server.url)
        page.screenshot(path=str(screenshot_dir(tmp_path) / "desk-phone.png"), full_page=False)
        # Nothing is wider than the screen: no sideways scrolling.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        seamus = page.locator(f"#item-{item_of(page, SEAMUS)}")
        assert INSULT in seamus.locator("div.text mark").all_inner_texts()
        first = page.locator("ol.queue > li.item").first
        box = first.bounding_box()
        assert box is not None and box["width"] <= 390
        expect(first.locator("button.approve")).to_be_visible()
    finally:
        context.close()


def test_a_moderator_approves_the_seed_comment_by_key_and_rejects_another(
    browser: Browser, seed_desk: SeedDesk, tmp_path: Path
) -> None:
    base = seed_desk.server.url
    shots = screenshot_dir(tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, base)
        seamus = item_of(page, SEAMUS)
        item = page.locator(f"#item-{seamus}")
        marks = item.locator("div.text mark").all_inner_texts()
        assert INSULT in marks, marks
        expect(item.locator("ul.reasons")).to_contain_text(INSULT)
        page.screenshot(path=str(shots / "desk.png"), full_page=False)

        # The first item has the focus; j and k move it.
        ids = [el.get_attribute("id") for el in page.locator("ol.queue > li.item").all()]
        assert len(ids) >= 2 and focused_id(page) == ids[0]
        page.keyboard.press("j")
        assert focused_id(page) == ids[1]
        page.keyboard.press("k")
        assert focused_id(page) == ids[0]

        # ? shows the help; Escape closes it.
        page.keyboard.press("?")
        expect(page.locator("dialog#keys")).to_be_visible()
        expect(page.locator("dialog#keys")).to_contain_text("Approve the focused comment")
        page.keyboard.press("Escape")
        expect(page.locator("dialog#keys")).to_be_hidden()

        while focused_id(page) != f"item-{seamus}":
            page.keyboard.press("j")
        with page.expect_navigation():
            page.keyboard.press("a")
        expect(page.locator("p.flash")).to_contain_text(f"Approved comment {seamus}")
        expect(page.locator(f"#item-{seamus}")).to_have_count(0)

        other = page.locator(f"#item-{seed_desk.other}")
        other.focus()
        with page.expect_navigation():
            page.keyboard.press("r")
        expect(page.locator("p.flash")).to_contain_text(f"Rejected comment {seed_desk.other}")
        expect(page.locator(f"#item-{seed_desk.other}")).to_have_count(0)
        page.goto(base + "/admin/all?status=rejected")
        expect(page.locator(f"#item-{seed_desk.other}")).to_have_count(1)

        page.goto(f"{base}/articles/{seed_desk.slug}")
        shown = page.locator(f"li#comment-{seamus}")
        expect(shown).to_be_visible()
        expect(shown.locator(".author").first).to_have_text(SEAMUS)
        number = shown.locator("span.num").first.inner_text()
        assert re.fullmatch(r"\d+\.", number), number
        expect(page.locator(f"li#comment-{seed_desk.other}")).to_have_count(0)
    finally:
        context.close()
