"""The desk from start to finish in chromium, every step through the pages as a person does it.

The seed is imported with `--moderate`; a moderator logs in through the form, finds Séamus Ó
Néill's comment held with the words that held it marked, approves it by key and finds it on the
article under its number, bans another held writer by name through the ban form and rejects
their comment, and that writer's next post comes back refused beside the form with the text
kept. Three readers, each in their own browser and from their own address, report a published
comment through its Report link; it reaches the Reported tab; the audit lists every step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from rejoinder.core.pagedump import parse_page_dump
from rejoinder.core.validation import clean_text
from rejoinder.store.database import Database
from rejoinder.store.schema import reports
from tests import MODERATION_ON, PASSWORD
from tests.conftest import SEED, Databases, Server, add_staff, cli

from .conftest import screenshot_dir

pytestmark = pytest.mark.browser

SEAMUS = "Séamus Ó Néill"
FORM_SECONDS = 3.0  # the default policy's min_form_seconds: a person takes longer to write
# Readers' addresses as a proxy on this host would pass them on (documentation range, RFC 5737):
# the server trusts X-Forwarded-For from 127.0.0.1 (REJOINDER_TRUSTED_PROXIES), so each browser
# is a reader from its own address.
READER_ADDRESSES = ("192.0.2.11", "198.51.100.12", "203.0.113.13")
WIDE: ViewportSize = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Walk:
    server: Server
    db: Database
    slug: str
    seamus_text: str  # his comment as the seed has it, read at test time


def spaced(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def walk(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    if not SEED.is_file():
        pytest.skip(f"the seed page is not at {SEED}")
    [seamus] = [c for c in parse_page_dump(SEED.read_text("utf-8")).comments if c.author == SEAMUS]
    tmp = tmp_path_factory.mktemp("desk-walkthrough")
    db_url = databases.new()
    output = cli("import-page", "--moderate", str(SEED), db_url=db_url, env=MODERATION_ON)
    match = re.search(r"Imported /articles/(\S+)", output.stdout)
    assert match, output.stdout
    add_staff(db_url, "walker")
    server = Server(db_url, env=MODERATION_ON, log=tmp / "server.log").start()
    db = Database(db_url, pool_size=1)
    try:
        yield Walk(server, db, match.group(1), clean_text(seamus.body).strip())
    finally:
        db.dispose()
        server.stop()


def shoot(page: Page, shots: Path, name: str, *, full: bool = False) -> None:
    page.screenshot(path=str(shots / f"walkthrough-{name}.png"), full_page=full)


def item_by_name(page: Page, name: str) -> tuple[int, Any]:
    """The queue item whose writer is `name`: its id and its locator."""
    found = page.locator("ol.queue > li.item", has=page.locator("dd.name", has_text=name))
    expect(found).to_have_count(1)
    return int(found.get_attribute("data-id") or 0), found


def flash(page: Page) -> str:
    expect(page.locator("p.flash")).to_be_visible()
    return spaced(page.locator("p.flash").inner_text())


def audit_rows(page: Page) -> list[dict[str, str]]:
    """The audit table as the moderator reads it, newest first."""
    rows: list[dict[str, str]] = page.evaluate(
        """() => Array.from(document.querySelectorAll('table.audit tbody tr')).map(tr => {
            const cell = name => (tr.querySelector('td.' + name)?.innerText || '')
                .replace(/\\s+/g, ' ').trim();
            return {id: cell('num'), actor: cell('actor'), action: cell('action'),
                    comment: cell('comment'), change: cell('change'), note: cell('note'),
                    data: cell('data')};
        })"""
    )
    return rows


def test_a_moderators_day_from_the_seed_to_the_audit(
    browser: Browser, walk: Walk, tmp_path: Path
) -> None:
    base = walk.server.url
    shots = screenshot_dir(tmp_path)
    contexts: list[BrowserContext] = []

    def new_context(**options: Any) -> BrowserContext:
        context = browser.new_context(viewport=WIDE, **options)
        contexts.append(context)
        return context

    try:
        # --- Log in through the form ----------------------------------------------------------
        desk = new_context().new_page()
        desk.goto(base + "/admin")
        assert "/admin/login" in desk.url
        shoot(desk, shots, "01-login")
        desk.fill("#name", "walker")
        desk.fill("#password", PASSWORD)
        with desk.expect_navigation():
            desk.click("form button[type=submit]")
        assert desk.url.rstrip("/").endswith("/admin"), desk.url
        expect(desk.locator("header.desk-bar .who")).to_have_text("walker (moderator)")

        # --- Held: Séamus's comment, with the words that held it marked -----------------------
        expect(desk.locator("nav a[aria-current=page]")).to_contain_text("Held")
        seamus, seamus_item = item_by_name(desk, SEAMUS)
        shown_text = seamus_item.locator("div.text")
        assert spaced(shown_text.inner_text()) == spaced(walk.seamus_text)
        marks = [spaced(m) for m in shown_text.locator("mark").all_inner_texts()]
        assert marks, "no words are marked in the held comment"
        reasons = spaced(seamus_item.locator("ul.reasons").inner_text())
        for mark in marks:
            # Each mark is words of his own comment, and the reason beside it names them.
            assert re.search(rf"(?<!\w){re.escape(mark)}(?!\w)", spaced(walk.seamus_text)), mark
            assert f'"{mark}"' in reasons, (mark, reasons)
        expect(seamus_item.locator(".badge.st-held")).to_have_text("held")
        held_before = int(desk.locator("h1 .queue-total").inner_text())
        # Another comment held for words of its own (not one waiting under Séamus's reply).
        others = desk.locator("ol.queue > li.item", has=desk.locator("ul.reasons")).filter(
            has_not=desk.locator("dd.name", has_text=SEAMUS)
        )
        assert others.count() >= 1
        banned = int(others.first.get_attribute("data-id") or 0)
        banned_name = others.first.locator("dd.name").inner_text()
        assert banned != seamus and banned_name
        # A reply held only because its parent was: the item says so, not a blank.
        waiting = desk.locator("ol.queue > li.item", has=desk.locator("blockquote.parent"))
        waiting = waiting.filter(has_not=desk.locator("ul.reasons"))
        expect(waiting.first.locator("p.waits")).to_contain_text("Held with the comment it replies")
        seamus_item.scroll_into_view_if_needed()
        shoot(desk, shots, "02-held-marked")

        # --- Approve by key: the first item has the focus; j moves to his -----------------------
        while desk.evaluate("document.activeElement && document.activeElement.id") != (
            f"item-{seamus}"
        ):
            desk.keyboard.press("j")
        with desk.expect_navigation():
            desk.keyboard.press("a")
        approved = flash(desk)
        number_match = re.fullmatch(
            rf"Approved comment {seamus}: it is number (\d+) on its thread\.", approved
        )
        assert number_match, approved
        number = int(number_match.group(1))
        expect(desk.locator(f"#item-{seamus}")).to_have_count(0)
        expect(desk.locator("h1 .queue-total")).to_have_text(str(held_before - 1))
        shoot(desk, shots, "03-approved")

        # --- The article page: his comment under its number -------------------------------------
        reader_page = new_context().new_page()
        reader_page.goto(f"{base}/articles/{walk.slug}")
        on_page = reader_page.locator(f"#comments > ol.comment-list > li#comment-{seamus}")
        expect(on_page).to_be_visible()
        expect(on_page.locator(".num").first).to_have_text(f"{number}.")
        expect(on_page.locator(".author").first).to_have_text(SEAMUS)
        expect(reader_page.locator(f"li#comment-{banned}")).to_have_count(0)  # still held
        on_page.scroll_into_view_if_needed()
        shoot(reader_page, shots, "04-article-approved")

        # --- Ban a held writer by name through the ban form, then reject their comment ---------
        desk.goto(base + "/admin")
        _, banned_item = item_by_name(desk, banned_name)
        banned_item.locator("details.more-actions > summary").click()
        ban_form = banned_item.locator("form.ban")
        expect(ban_form).to_be_visible()
        ban_form.locator("select[name=kind]").select_option("name")
        ban_form.locator("input[name=note]").fill("Slurs, again")
        ban_form.scroll_into_view_if_needed()
        shoot(desk, shots, "05-ban-form")
        with desk.expect_navigation():
            ban_form.locator("button[type=submit]").click()
        assert flash(desk) == f"Banned name {banned_name} for ever."
        _, banned_item = item_by_name(desk, banned_name)  # still held: a ban is not a verdict
        banned_item.locator("form.actions input[name=note]").fill("A slur on a country's name")
        with desk.expect_navigation():
            banned_item.locator("form.actions button.reject").click()
        assert flash(desk) == f"Rejected comment {banned}."
        expect(desk.locator(f"#item-{banned}")).to_have_count(0)
        desk.goto(base + "/admin/all?status=rejected")
        expect(desk.locator(f"#item-{banned} .badge.st-rejected")).to_have_text("rejected")

        # --- The banned writer, in a browser of their own, posts again and is refused ----------
        writer = new_context().new_page()
        writer.goto(f"{base}/articles/{walk.slug}")
        count_before = writer.locator("#comments-title").inner_text()
        attempt = "Whatever the desk says, I will keep writing what I think about this summit."
        writer.fill("#body", attempt)
        writer.fill("#name", banned_name)
        writer.fill("#email", "banned.writer@example.org")
        writer.wait_for_timeout((FORM_SECONDS + 0.3) * 1000)
        with writer.expect_navigation() as navigation:
            writer.click("#commentform button[type=submit]")
        response = navigation.value
        assert response is not None and response.status == 403  # a ban is a refusal for who writes
        error = writer.locator(".field.has-error:has(#body) > #body-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("Your comment could not be posted on this site.")
        expect(error).not_to_contain_text("banned")
        expect(writer.locator("#body")).to_have_value(attempt)
        expect(writer.locator("#body")).to_have_attribute("aria-invalid", "true")
        expect(writer.locator("#name")).to_have_value(banned_name)
        expect(writer.locator("#comments-title")).to_have_text(count_before)
        expect(writer.locator("li.comment", has_text=attempt)).to_have_count(0)
        writer.locator("#commentform").scroll_into_view_if_needed()
        shoot(writer, shots, "06-banned-writer-refused")

        # --- Three readers, three browsers, three addresses: Report on one comment -------------
        first = reader_page.locator("#comments > ol.comment-list > li.comment").first
        target = int((first.get_attribute("id") or "").removeprefix("comment-"))
        assert target not in (seamus, banned)
        target_author = first.locator(".author").first.inner_text()
        for n, (address, reason) in enumerate(
            zip(READER_ADDRESSES, ("abuse", "off-topic", "other"), strict=True), start=1
        ):
            page = new_context(extra_http_headers={"X-Forwarded-For": address}).new_page()
            page.goto(f"{base}/articles/{walk.slug}")
            link = page.locator(f"li#comment-{target} > article footer a.report").first
            expect(link).to_contain_text(f"Report the comment by {target_author}")
            with page.expect_navigation():
                link.click()
            assert page.url == f"{base}/comments/{target}/report"
            page.check(f"#reason-{reason}")
            page.fill("#text", f"Reader {n} thinks a moderator should look.")
            if n == 1:
                shoot(page, shots, "07-report-form")
            with page.expect_navigation() as sent:
                page.click("form.report-form button[type=submit]")
            assert sent.value is not None and sent.value.status == 200
            assert page.url == f"{base}/comments/{target}/reported"
            expect(page.locator("h1")).to_have_text("Thank you for your report")
            if n == 3:
                shoot(page, shots, "08-report-thanks")
        with walk.db.read() as conn:
            stored = conn.execute(
                select(reports.c.reporter, reports.c.ip_hash).where(reports.c.comment_id == target)
            ).all()
        assert len(stored) == 3
        assert len({row.reporter for row in stored}) == 3  # three readers
        assert len({row.ip_hash for row in stored}) == 3  # from three addresses

        # --- Reported: the comment, with its three reports -------------------------------------
        desk.goto(base + "/admin")
        desk.click("nav a:has-text('Reported')")
        expect(desk.locator("nav a[aria-current=page]")).to_contain_text("Reported")
        expect(desk.locator("h1 .queue-total")).to_have_text("1")
        reported = desk.locator(f"ol.queue > li#item-{target}")
        expect(reported.locator(".badge.reports")).to_have_text("3 reports")
        expect(reported.locator("dd.name")).to_have_text(target_author)
        expect(reported.locator("button.approve")).to_have_text("Keep")
        shoot(desk, shots, "09-reported")

        # --- The audit: every step, newest first ------------------------------------------------
        desk.click("nav a:has-text('Audit')")
        expect(desk.locator("h1")).to_have_text("Audit log")
        rows = audit_rows(desk)
        shoot(desk, shots, "10-audit", full=True)
        ours = [r for r in rows if r["action"] != "user_add"]
        steps = [(r["actor"], r["action"], r["comment"], r["change"]) for r in ours]
        # Newest first: three reports, the refused post, the rejection, the ban, the approval.
        assert steps[:7] == [
            ("reader reader", "report", str(target), "2 → 3"),
            ("reader reader", "report", str(target), "1 → 2"),
            ("reader reader", "report", str(target), "0 → 1"),
            ("machine pipeline", "verdict", "", "refuse"),
            ("user walker", "reject", str(banned), "held → rejected"),
            ("user walker", "ban", str(banned), f"name:{banned_name}"),
            ("user walker", "approve", str(seamus), "held → published"),
        ], steps[:8]
        reports_data = [r["data"] for r in ours[:3]]
        assert reports_data == [
            "reason other count 3",
            "reason off-topic count 2",
            "reason abuse count 1",
        ]
        assert "banned_name" in ours[3]["data"]
        assert ours[4]["note"] == "A slur on a country's name"
        assert ours[5]["note"] == "Slurs, again"
        assert f"number {number}" in ours[6]["data"]
        # Then the import: one verdict per stored comment, oldest at the bottom.
        imported = ours[7:]
        assert imported and all(
            r["actor"] == "machine pipeline" and r["action"] == "verdict" for r in imported
        ), imported
        verdicts = {r["comment"]: r for r in imported}
        assert verdicts[str(seamus)]["change"] == "hold"
        assert "insult" in verdicts[str(seamus)]["data"]
        assert "imported true" in verdicts[str(seamus)]["data"]
        assert verdicts[str(banned)]["change"] == "hold"
        assert verdicts[str(target)]["change"] == "publish"
        held_on_import = [r for r in imported if r["change"] == "hold"]
        assert len(held_on_import) == held_before  # every held comment came from the import
        # The filter by comment narrows the log to one comment's story.
        desk.fill("#f-comment", str(banned))
        with desk.expect_navigation():
            desk.click("form.audit-filters button[type=submit]")
        story = [(r["action"], r["change"]) for r in audit_rows(desk)]
        assert story == [
            ("reject", "held → rejected"),
            ("ban", f"name:{banned_name}"),
            ("verdict", "hold"),
        ]
    finally:
        for context in contexts:
            context.close()
