"""The desk's Activity page (/admin/activity): the figures of comments written with known
statuses on known days, for the site acted on only; `days` checked; a real post held and
approved through the desk lands on today; no writer's email or text on the page."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import lxml.etree
import pytest

from rejoinder.core.models import ArticleDraft, Status
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from tests import HELD_TEXT, MODERATION_ON, RELAXED, comment_payload, desk_csrf, parse_html
from tests.conftest import App, Databases, add_staff, cli

SECRET_EMAIL = "activity-writer@example.org"
SECRET_TEXT = "activity-secret-comment-text"
THRESHOLDS = {"toxicity": 0.8, "insult": 0.75}
LOW = {"toxicity": 0.1, "insult": 0.1}
HIGH = {"toxicity": 0.1, "insult": 0.9}


@dataclass
class Site:
    id: int
    article_id: int


@dataclass
class World:
    app: App
    db: Database
    today: date
    alpha: Site
    bravo: Site

    def day(self, ago: int, hour: int = 12) -> datetime:
        return datetime.combine(self.today - timedelta(days=ago), time(hour), tzinfo=UTC)

    def label(self, ago: int) -> str:
        return (self.today - timedelta(days=ago)).isoformat()

    def comment(
        self,
        site: Site,
        ago: int,
        status: Status,
        *,
        verdict: str | None = None,
        scores: dict[str, float] | None = None,
        imported: bool = False,
    ) -> int:
        record = None
        if verdict is not None:
            record = json.dumps({"verdict": verdict, "reasons": [], "scores": scores or {}})
        with self.db.write() as conn:
            made = comment_store.add_comment(
                conn,
                article_id=site.article_id,
                parent=None,
                number=0,
                name="Writer",
                email=SECRET_EMAIL,
                website=None,
                body_markdown=SECRET_TEXT,
                body_html=f"<p>{SECRET_TEXT}</p>",
                status=status,
                created_at=self.day(ago),
                imported=imported,
                moderation=record,
            )
        return made.id

    def audit(self, site: Site, at: datetime, **fields: Any) -> None:
        with self.db.write() as conn:
            audit_store.add_entry(conn, at=at, site_id=site.id, **fields)

    def decide(self, site: Site, comment_id: int, at: datetime, action: str = "approve") -> None:
        after = Status.PUBLISHED if action == "approve" else Status.REJECTED
        self.audit(
            site,
            at,
            actor_kind="user",
            actor="mod",
            action=action,
            comment_id=comment_id,
            before=Status.HELD,
            after=after,
        )

    def refuse(self, site: Site, ago: int, scores: dict[str, float]) -> None:
        self.audit(
            site,
            self.day(ago),
            actor_kind="machine",
            actor="pipeline",
            action="verdict",
            after="refuse",
            data={"reasons": [], "scores": scores},
        )


def _article(conn: Any, site_id: int, now: datetime) -> int:
    draft = ArticleDraft(
        slug=f"a-{uuid.uuid4().hex[:8]}",
        title="Activity",
        dek="",
        author="",
        body_markdown="Text.",
        published_at=now,
    )
    return article_store.add_article(conn, site_id, draft, "<p>Text.</p>", now).id


@pytest.fixture(scope="module")
def world(databases: Databases) -> Iterator[World]:
    """The default site (alpha here) and bravo, each with an article; comments, decisions and
    refusals on known days before today; an admin, and a moderator limited to alpha."""
    url = databases.new()
    app = App(url).start()
    db = Database(url, pool_size=2)
    now = datetime.now(UTC)
    try:
        with db.write() as conn:
            bravo_id = site_store.add_site(conn, "bravo", "Bravo", now, "bravo.test").id
            site_store.update_site_settings(conn, 1, {"policy": {"thresholds": THRESHOLDS}})
            alpha = Site(1, _article(conn, 1, now))
            bravo = Site(bravo_id, _article(conn, bravo_id, now))
        add_staff(url, "root", "admin")
        add_staff(url, "alpha-mod", "moderator")
        cli("user", "sites", "alpha-mod", "--site", "default", db_url=url)
        made = World(app, db, now.date(), alpha, bravo)
        _write_history(made)
        yield made
    finally:
        db.dispose()
        app.stop()


def _write_history(w: World) -> None:
    """Alpha, 5 days ago: 3 published at once (scored low), 2 held (scored high; one approved
    a day later, one waiting still), 1 refused (scored high), 1 imported (left out). 2 days
    ago: 1 published, scored high. 40 days ago: 1 held waiting still and 1 held rejected 3
    days ago. Bravo, 5 days ago: 7 published."""
    a = w.alpha
    for _ in range(3):
        w.comment(a, 5, Status.PUBLISHED, verdict="publish", scores=LOW)
    approved = w.comment(a, 5, Status.PUBLISHED, verdict="hold", scores=HIGH)
    w.decide(a, approved, w.day(4))
    w.comment(a, 5, Status.HELD, verdict="hold", scores=HIGH)
    w.refuse(a, 5, HIGH)
    w.comment(a, 5, Status.PUBLISHED, imported=True)
    w.comment(a, 2, Status.PUBLISHED, verdict="publish", scores=HIGH)
    w.comment(a, 40, Status.HELD, verdict="hold")
    old = w.comment(a, 40, Status.REJECTED, verdict="hold")
    w.decide(a, old, w.day(3), action="reject")
    for _ in range(7):
        w.comment(w.bravo, 5, Status.PUBLISHED)


def table(page: str, key: str) -> dict[str, list[str]]:
    """A chart's data table: day -> its cells."""
    html = parse_html(page)
    rows = html.xpath(f'//section[@id="chart-{key}"]//table/tbody/tr')
    return {row.xpath("string(th)"): [td.text_content() for td in row.xpath("td")] for row in rows}


@pytest.fixture
def root(world: World) -> Iterator[httpx.Client]:
    with closing(world.app.log_in("root", next="/admin/activity")) as desk:
        yield desk


def test_the_page_shows_each_days_figures_for_the_site(world: World, root: httpx.Client) -> None:
    page = root.get("/admin/activity")
    assert page.status_code == 200, page.text
    arrivals = table(page.text, "arrivals")
    assert len(arrivals) == 30
    assert arrivals[world.label(5)] == ["3", "2", "1"]  # published, held, refused
    assert arrivals[world.label(2)] == ["1", "0", "0"]
    assert arrivals[world.label(29)] == ["0", "0", "0"]
    assert list(arrivals)[-1] == world.label(0)

    queue = table(page.text, "queue")
    # From before the window: one waiting still, one waiting until 3 days ago.
    assert queue[world.label(6)] == ["2"]
    assert queue[world.label(5)] == ["4"]
    assert queue[world.label(4)] == ["3"]
    assert queue[world.label(3)] == ["2"]
    assert queue[world.label(0)] == ["2"]

    wait = table(page.text, "wait")
    assert wait[world.label(4)] == ["24.0 h"]
    assert wait[world.label(3)] == [f"{37 * 24:,}.0 h"]
    assert wait[world.label(5)] == ["–"]

    high = table(page.text, "high")
    assert high[world.label(5)] == ["50%"]  # 3 of the 6 scored: 2 held and the refusal
    assert high[world.label(2)] == ["100%"]
    assert high[world.label(1)] == ["–"]

    html = parse_html(page.text)
    summary = html.xpath('string(//section[@id="chart-arrivals"]/p[@class="chart-summary"])')
    assert "4 comments published at once, 2 held and 1 refused" in summary
    assert html.xpath('//nav[@aria-label="Desk"]/a[@aria-current="page"]/text()') == ["Activity"]


def test_each_chart_is_svg_with_a_title_a_summary_and_a_table(
    world: World, root: httpx.Client
) -> None:
    page = root.get("/admin/activity", params={"days": "7"})
    assert page.status_code == 200
    html = parse_html(page.text)
    sections = html.xpath('//section[@class="activity-chart"]')
    assert [s.get("id") for s in sections] == [
        "chart-arrivals",
        "chart-queue",
        "chart-wait",
        "chart-high",
    ]
    for section in sections:
        [svg] = section.xpath(".//svg")
        svg_xml = lxml.etree.tostring(svg)
        parsed = lxml.etree.fromstring(svg_xml)  # well-formed as XML too
        assert parsed.get("role") == "img"
        title = section.xpath("string(h2)")
        assert title and section.xpath("string(.//svg/title)") == title
        assert section.xpath("string(p[@class='chart-summary'])").strip()
        assert len(section.xpath(".//details/table/tbody/tr | .//details//table/tbody/tr")) == 7
    # Five days ago, three bars stack: published, held, refused.
    tips = html.xpath('//section[@id="chart-arrivals"]//*[local-name()="rect"]/*/text()')
    label = (world.today - timedelta(days=5)).strftime("%b ") + str(
        (world.today - timedelta(days=5)).day
    )
    assert f"{label}: Published 3" in tips and f"{label}: Refused 1" in tips


def test_no_writers_email_or_text_appears(world: World, root: httpx.Client) -> None:
    for site in ("default", "bravo"):
        page = root.get("/admin/activity", params={"site": site, "days": "365"})
        assert page.status_code == 200
        assert SECRET_EMAIL not in page.text and SECRET_TEXT not in page.text


@pytest.mark.parametrize("days", ["6", "366", "0", "-1", "abc", "30.5", "1e3", "９", "9" * 40])
def test_a_bad_days_is_named_beside_its_field(root: httpx.Client, days: str) -> None:
    page = root.get("/admin/activity", params={"days": days})
    assert page.status_code == 422
    html = parse_html(page.text)
    [error] = html.xpath('//p[@id="days-error"]')
    assert "from 7 to 365" in error.text_content()
    assert html.xpath('//input[@name="days"]/@aria-invalid') == ["true"]
    assert not html.xpath("//svg")


def test_the_days_asked_are_the_days_shown(root: httpx.Client) -> None:
    for days in (7, 90, 365):
        page = root.get("/admin/activity", params={"days": str(days)})
        assert page.status_code == 200
        assert len(table(page.text, "queue")) == days


def test_each_site_sees_its_own_figures_and_a_limited_moderator_only_its_own(
    world: World, root: httpx.Client
) -> None:
    bravo = root.get("/admin/activity", params={"site": "bravo"})
    assert bravo.status_code == 200
    assert table(bravo.text, "arrivals")[world.label(5)] == ["7", "0", "0"]
    with closing(world.app.log_in("alpha-mod", next="/admin/activity")) as desk:
        refused = desk.get("/admin/activity", params={"site": "bravo"})
        assert refused.status_code == 403
        assert "7" not in table(refused.text, "arrivals").get(world.label(5), [])
        # Through bravo's host, the desk falls back to the moderator's own site.
        own = desk.get("/admin/activity", headers={"Host": "bravo.test"})
        assert own.status_code == 200
        assert table(own.text, "arrivals")[world.label(5)] == ["3", "2", "1"]


def test_without_a_session_the_page_asks_to_log_in(world: World) -> None:
    answer = world.app.get("/admin/activity?days=7")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=/admin/activity")


def test_a_post_held_and_approved_through_the_desk_counts_today(databases: Databases) -> None:
    url = databases.new()
    app = App(url, env=MODERATION_ON).start()
    try:
        db = Database(url, pool_size=1)
        try:
            with db.write() as conn:
                site_store.update_site_settings(conn, 1, {"policy": RELAXED})
        finally:
            db.dispose()
        add_staff(url, "adm", "admin")
        slug = app.publish(title=f"Held {uuid.uuid4().hex[:6]}")["slug"]
        posted = app.post(
            f"/api/v1/articles/{slug}/comments",
            json=comment_payload(body=HELD_TEXT, email=SECRET_EMAIL),
        )
        assert posted.status_code in (201, 202), posted.text
        comment_id = posted.json()["id"]
        with closing(app.log_in("adm", next="/admin/activity")) as desk:
            today = datetime.now(UTC).date().isoformat()
            before = desk.get("/admin/activity", params={"days": "7"})
            assert table(before.text, "arrivals")[today] == ["0", "1", "0"]
            assert table(before.text, "queue")[today] == ["1"]
            csrf = desk_csrf(desk)
            done = desk.post(
                f"/admin/comments/{comment_id}/approve", data={"csrf": csrf, "note": ""}
            )
            assert done.status_code in (200, 303), done.text
            after = desk.get("/admin/activity", params={"days": "7"})
            assert table(after.text, "arrivals")[today] == ["0", "1", "0"]
            assert table(after.text, "queue")[today] == ["0"]
            [wait] = table(after.text, "wait")[today]
            assert wait.endswith(" h") and float(wait[:-2]) < 24
            assert SECRET_EMAIL not in after.text and HELD_TEXT not in after.text
    finally:
        app.stop()


def test_the_days_links_and_form_keep_the_site_named(world: World, root: httpx.Client) -> None:
    page = root.get("/admin/activity", params={"site": "bravo", "days": "7"})
    html = parse_html(page.text)
    assert html.xpath('//form[@class="activity-days"]//input[@name="site"]/@value') == ["bravo"]
    links = html.xpath('//p[@class="activity-go"]/a/@href')
    assert "/admin/activity?days=90&site=bravo" in links
    ninety = root.get(str(links[links.index("/admin/activity?days=90&site=bravo")]))
    assert table(ninety.text, "arrivals")[world.label(5)] == ["7", "0", "0"]
    assert len(table(ninety.text, "arrivals")) == 90
