"""The site's model page in chromium: an admin opens it from the desk's tabs, reads the figures
of a version trained from the desk's own decisions, activates it, rolls back, finds both in the
audit log; on a laptop and on a phone, and axe finds nothing on the page.

The decisions are made as in tests/server/test_site_models.py: every comment of an invented site
is held (premoderation), its moderators reject the product plugs and approve the rest through
the admin API, and `rejoinder moderation train` fits version 1 with the shipped model on.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select

from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.schema import site_models
from tests import PASSWORD
from tests.app.test_site_models import RELAXED, ordinary, plug
from tests.conftest import Databases, Server, add_staff, add_token, cli

from .conftest import screenshot_dir
from .test_accessibility import report, run_axe

# The page in a browser; the training, the switch and the page's figures on PostgreSQL are
# tests/app/test_site_models.py's, which runs on both passes.
pytestmark = [pytest.mark.browser, pytest.mark.one_backend]

DEFAULT_SITE = 1
DECISIONS = 90
LAPTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Trained:
    server: Server
    db: Database
    figures: dict[str, Any]  # the last line `rejoinder moderation train` printed


def decide(server: Server, token: str, db: Database) -> None:
    """Post DECISIONS comments, all held, then approve or reject each through the admin API."""
    with db.write() as conn:  # a site that never saved thresholds: the model's own apply
        site_store.update_site_settings(
            conn, DEFAULT_SITE, {"policy": {"mode": "premoderate_all", **RELAXED}}
        )
    slug = str(server.publish(title="Letters")["slug"])
    rng = random.Random(20261126)
    with server.client(timeout=30) as http:
        made: list[tuple[int, bool]] = []
        for n in range(DECISIONS):
            unwanted = rng.random() < 0.4
            response = http.post(
                f"/api/v1/articles/{slug}/comments",
                json={
                    "body": plug(rng) if unwanted else ordinary(rng),
                    "name": f"Reader {n}",
                    "email": f"reader{n}@example.org",
                },
            )
            assert response.status_code == 202, response.text
            made.append((int(response.json()["id"]), unwanted))
        for comment_id, unwanted in made:
            done = http.post(
                f"/api/v1/admin/comments/{comment_id}/{'reject' if unwanted else 'approve'}",
                json={},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert done.status_code == 200, done.text


@pytest.fixture(scope="module")
def trained(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    tmp = tmp_path_factory.mktemp("model-desk")
    db_url = databases.new()
    add_staff(db_url, "chief", "admin")
    token = add_token(db_url, "chief")
    env = {"REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "true"}
    server = Server(db_url, env=env, log=tmp / "server.log").start()
    db = Database(db_url, pool_size=1)
    try:
        decide(server, token, db)
        output = cli("moderation", "train", "--site", "default", db_url=db_url).stdout
        yield Trained(server, db, json.loads(output.strip().splitlines()[-1]))
    finally:
        db.dispose()
        server.stop()


def active_versions(db: Database) -> list[tuple[int, bool]]:
    with db.read() as conn:
        rows = conn.execute(
            select(site_models.c.version, site_models.c.active).order_by(site_models.c.version)
        ).all()
    return [(int(version), bool(active)) for version, active in rows]


def log_in_to_models(page: Page, base: str) -> None:
    """Log in through the form, then reach the model page by the desk's tab."""
    page.goto(base + "/admin")
    assert "/admin/login" in page.url
    page.fill("#name", "chief")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    expect(page.locator("header.desk-bar .who")).to_have_text("chief (admin)")
    with page.expect_navigation():
        page.locator("header.desk-bar nav a", has_text="Model").click()
    assert page.url == base + "/admin/models", page.url
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Model")


def fits_without_scrolling(page: Page) -> None:
    """Neither the page nor the table scrolls sideways, and every button is in full view."""
    widths = page.evaluate(
        """() => {
            const root = document.documentElement;
            const box = document.querySelector('.models .audit-scroll');
            return [root.scrollWidth, root.clientWidth, box.scrollWidth, box.clientWidth];
        }"""
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    viewport = page.viewport_size
    assert viewport is not None
    for button in page.locator("table.models-table button").all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0, button.inner_text()
        assert box["x"] + box["width"] <= viewport["width"], (button.inner_text(), box)
        assert box["height"] < 60, (button.inner_text(), box)  # two lines, not a word a line
        inside = page.locator(".models .audit-scroll").bounding_box()
        assert inside is not None and box["x"] + box["width"] <= inside["x"] + inside["width"]


def spaced(text: str) -> str:
    return " ".join(text.split())


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def test_an_admin_activates_a_trained_version_and_rolls_back_at_the_desk(
    browser: Browser, trained: Trained, tmp_path: Path
) -> None:
    base, figures = trained.server.url, trained.figures
    assert figures["version"] == 1 and figures["active"] is False, figures
    assert figures["decisions"] == DECISIONS, figures
    shots = screenshot_dir(tmp_path)
    context = browser.new_context(viewport=LAPTOP, bypass_csp=True)  # axe is injected
    page = context.new_page()
    try:
        log_in_to_models(page, base)
        # The decisions standing now, as many as the version was trained on.
        expect(page.locator(".models-decisions")).to_have_text(str(figures["decisions"]))
        expect(page.locator(".models-lede")).to_contain_text(
            f"({figures['rejected']} rejected, {figures['approved']} approved)"
        )
        expect(
            page.locator("code", has_text="rejoinder moderation train --site default")
        ).to_be_visible()
        shipped = page.locator('tr[data-version="shipped"]')
        version = page.locator('tr[data-version="1"]')
        expect(shipped).to_have_attribute("data-active", "true")
        expect(shipped.locator(".active-marker")).to_have_text("Active")
        expect(version).to_have_attribute("data-active", "false")
        # Its figures, as the command measured them.
        agreement = figures["agreement"]
        expect(version.locator("td.agreement-before")).to_have_text(pct(agreement["before"]))
        expect(version.locator("td.agreement-after")).to_have_text(pct(agreement["after"]))
        held, published = figures["recent_rejected_held"], figures["recent_approved_published"]
        cells = [spaced(text) for text in version.locator("td").all_inner_texts()]
        assert f"{figures['decisions']} (measured on the latest {figures['recent']})" in cells
        assert f"{held['before']} → {held['after']} of {figures['recent_rejected']}" in cells
        assert (
            f"{published['before']} → {published['after']} of {figures['recent_approved']}"
        ) in cells, cells
        # On a laptop the whole table fits: no column, and no button, is scrolled out of sight.
        fits_without_scrolling(page)
        page.screenshot(path=str(shots / "models-laptop.png"), full_page=True)

        # Activate it with its own button.
        with page.expect_navigation():
            version.get_by_role("button", name="Activate version 1").click()
        assert page.url == base + "/admin/models?done=1", page.url
        expect(page.locator("p.flash")).to_have_text("The site now uses version 1.")
        expect(version).to_have_attribute("data-active", "true")
        expect(version.locator(".active-marker")).to_have_text("Active")
        expect(shipped).to_have_attribute("data-active", "false")
        expect(shipped.locator(".active-marker")).to_have_count(0)
        assert active_versions(trained.db) == [(1, True)]
        fits_without_scrolling(page)
        page.screenshot(path=str(shots / "models-laptop-activated.png"), full_page=True)

        # axe on the page as an admin meets it most: a flash, a marker, a button.
        violations = run_axe(page)
        assert report("models", violations) == []

        # Back to the shipped model.
        with page.expect_navigation():
            shipped.get_by_role("button", name="Roll back to the shipped model").click()
        assert page.url == base + "/admin/models?done=shipped", page.url
        expect(page.locator("p.flash")).to_have_text("The site now uses the shipped model.")
        expect(shipped).to_have_attribute("data-active", "true")
        expect(shipped.locator(".active-marker")).to_have_text("Active")
        expect(version).to_have_attribute("data-active", "false")
        expect(version.get_by_role("button", name="Activate version 1")).to_be_visible()
        assert active_versions(trained.db) == [(1, False)]

        # The audit log, newest first: the rollback, then the activation, by this admin.
        with page.expect_navigation():
            page.locator("header.desk-bar nav a", has_text="Audit").click()
        rows: list[dict[str, str]] = page.evaluate(
            """() => Array.from(document.querySelectorAll('table.audit tbody tr')).map(tr => {
                const cell = name => (tr.querySelector('td.' + name)?.innerText || '')
                    .replace(/\\s+/g, ' ').trim();
                return {actor: cell('actor'), action: cell('action'), change: cell('change')};
            })"""
        )
        models = [r for r in rows if r["action"].startswith("model_")]
        assert models == [
            {"actor": "user chief", "action": "model_rollback", "change": "v1 → shipped"},
            {"actor": "user chief", "action": "model_activate", "change": "shipped → v1"},
            {"actor": "system cli", "action": "model_train", "change": "v1"},
        ], models
        assert rows[:2] == models[:2]  # nothing happened after them
        page.screenshot(path=str(shots / "models-audit.png"), full_page=False)
    finally:
        context.close()


def test_the_model_page_reads_on_a_phone(
    browser: Browser, trained: Trained, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, bypass_csp=True)  # axe
    page = context.new_page()
    try:
        log_in_to_models(page, trained.server.url)
        page.screenshot(path=str(screenshot_dir(tmp_path) / "models-phone.png"), full_page=True)
        # The page itself never scrolls sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        # The tabs scroll sideways on one line; the current one ("Model", the last) is in view.
        tab = page.locator('.desk-bar nav a[aria-current="page"]')
        box = tab.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        version = page.locator('tr[data-version="1"]')
        expect(version.locator("td.agreement-after")).to_have_text(
            pct(trained.figures["agreement"]["after"])
        )
        fits_without_scrolling(page)
        # Each version is a card: every figure has its name beside it, none overlaps another.
        labelled = version.locator("td.num")
        assert labelled.count() >= 5
        for cell in labelled.all():
            label = cell.evaluate("td => getComputedStyle(td, '::before').content")
            assert label not in ("none", "normal", '""'), cell.inner_text()
        boxes = [b for b in (c.bounding_box() for c in version.locator("td").all()) if b]
        for n, one in enumerate(boxes):
            for other in boxes[n + 1 :]:
                apart = (
                    one["y"] + one["height"] <= other["y"] + 0.5
                    or other["y"] + other["height"] <= one["y"] + 0.5
                    or one["x"] + one["width"] <= other["x"] + 0.5
                    or other["x"] + other["width"] <= one["x"] + 0.5
                )
                assert apart, (one, other)
        violations = run_axe(page)
        assert report("models, phone", violations) == []
    finally:
        context.close()
