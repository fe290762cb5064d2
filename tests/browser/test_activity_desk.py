"""The desk's Activity page in chromium: the charts fit a phone's screen without sideways
scrolling, their tables open, a laptop shows the four charts (screenshots of both), and
axe-core finds no serious accessibility problem."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from rejoinder.core.models import ArticleDraft, Status
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store.database import Database
from tests import PASSWORD
from tests.conftest import Databases, Server, add_staff

from .conftest import require_axe, screenshot_dir
from .test_accessibility import BLOCKING, report, run_axe

pytestmark = pytest.mark.browser


def _history(db_url: str) -> None:
    """A month of comments: some published, some held, some decided, a few refused."""
    db = Database(db_url, pool_size=1)
    now = datetime.now(UTC)
    try:
        with db.write() as conn:
            draft = ArticleDraft(
                slug=f"a-{uuid.uuid4().hex[:8]}",
                title="Charts",
                dek="",
                author="",
                body_markdown="Text.",
                published_at=now,
            )
            article = article_store.add_article(conn, 1, draft, "<p>Text.</p>", now)
            for ago in range(30):
                day = datetime.combine(now.date() - timedelta(days=ago), time(9), tzinfo=UTC)
                for n in range(ago % 7 + 2):
                    held = n % 3 == 0
                    record: dict[str, Any] = {
                        "verdict": "hold" if held else "publish",
                        "reasons": [],
                        "scores": {"toxicity": 0.9 if held else 0.1},
                    }
                    made = comment_store.add_comment(
                        conn,
                        article_id=article.id,
                        parent=None,
                        number=0,
                        name="Writer",
                        email="writer@example.org",
                        website=None,
                        body_markdown="Text.",
                        body_html="<p>Text.</p>",
                        status=Status.HELD if held and ago < 3 else Status.PUBLISHED,
                        created_at=day,
                        moderation=json.dumps(record),
                    )
                    if held and ago >= 3:
                        audit_store.add_entry(
                            conn,
                            at=day + timedelta(hours=ago % 5 + 1),
                            actor_kind="user",
                            actor="desk",
                            action="approve",
                            site_id=1,
                            comment_id=made.id,
                            before="held",
                            after="published",
                        )
                if ago % 4 == 0:
                    audit_store.add_entry(
                        conn,
                        at=day,
                        actor_kind="machine",
                        actor="pipeline",
                        action="verdict",
                        site_id=1,
                        after="refuse",
                        data={"reasons": [], "scores": {"toxicity": 0.95}},
                    )
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def activity_server(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    db_url = databases.new()
    tmp = tmp_path_factory.mktemp("activity-browser")
    server = Server(db_url, log=tmp / "server.log").start()
    try:
        _history(db_url)
        add_staff(db_url, "desk")
        yield server
    finally:
        server.stop()


def log_in(page: Page, base: str) -> None:
    page.goto(base + "/admin/activity")
    assert "/admin/login" in page.url
    page.fill("#name", "desk")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url.endswith("/admin/activity"), page.url


def test_the_charts_fit_a_phone_and_their_tables_open(
    browser: Browser, activity_server: Server, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, activity_server.url)
        charts = page.locator("section.activity-chart svg.chart")
        expect(charts).to_have_count(4)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        for i in range(4):
            box = charts.nth(i).bounding_box()
            assert box is not None and 200 <= box["width"] <= 390 and box["height"] > 80, box
        bars = page.locator("#chart-arrivals rect.bar")
        assert bars.count() >= 30
        shots = screenshot_dir(tmp_path)
        page.screenshot(path=str(shots / "activity-phone.png"), full_page=False)
        page.locator("#chart-arrivals details summary").click()
        rows = page.locator("#chart-arrivals details table tbody tr")
        expect(rows).to_have_count(30)
        expect(rows.first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_a_laptop_shows_the_four_charts(
    browser: Browser, activity_server: Server, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, activity_server.url)
        expect(page.locator("section.activity-chart h2")).to_have_text(
            [
                "Comments per day",
                "Held queue at the end of each day",
                "Median time from post to decision (hours)",
                "Share of comments the model scored high",
            ]
        )
        # Bars take their colours from the desk's stylesheet, not the SVG default (black).
        fill = page.evaluate(
            "getComputedStyle(document.querySelector('#chart-arrivals rect.tone-held')).fill"
        )
        assert fill not in ("", "rgb(0, 0, 0)"), fill
        page.screenshot(path=str(screenshot_dir(tmp_path) / "activity.png"), full_page=True)
    finally:
        context.close()


def test_the_page_has_no_serious_accessibility_violations(
    browser: Browser, activity_server: Server
) -> None:
    require_axe()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, activity_server.url)
        for summary in page.locator("details.chart-data summary").all():
            summary.click()  # the tables too
        violations = run_axe(page)
    finally:
        context.close()
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert report("activity", blocking) == []
