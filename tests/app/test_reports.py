"""Readers' reports over HTTP: one per reader, capped per address, queued, optionally hidden.

Every test talks from its own loopback address (127.0.0.x, given to the app as the client's
address), so the per-address caps of one test never touch another's.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.schema import audit_log, comments, reports, sites
from tests import article_count, comment_li, parse_html, post, thread, walk, words
from tests.conftest import App, Databases

_addresses = itertools.count(20)


class Desk:
    """The module's app and a connection to its database."""

    def __init__(self, app: App, db: Database) -> None:
        self.app = app
        self.db = db

    def reader(self, address: str) -> httpx.Client:
        """A browser with its own cookie jar, talking from `address`."""
        return self.app.client(address=address, follow_redirects=False)

    def comment_row(self, comment_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute(select(comments).where(comments.c.id == comment_id)).mappings()
            return dict(row.one())

    def reported(self, threshold: int = 3) -> set[int]:
        """The Reported queue's comments, as the desk selects them."""
        with self.db.read() as conn:
            query = select(comments.c.id).where(comments.c.report_count >= threshold)
            return set(conn.execute(query).scalars())

    def audit(self, comment_id: int) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            query = (
                select(audit_log)
                .where(audit_log.c.comment_id == comment_id)
                .order_by(audit_log.c.id)
            )
            return [dict(row) for row in conn.execute(query).mappings()]

    def set_site(self, **values: Any) -> None:
        with self.db.write() as conn:
            site_id = conn.execute(select(func.min(sites.c.id))).scalar_one()
            settings = site_store.get_site_settings(conn, site_id)
            settings.update(values)
            site_store.update_site_settings(conn, site_id, settings)


@pytest.fixture(scope="module")
def desk(databases: Databases) -> Iterator[Desk]:
    """One app for the module (moderation off, as for the discussion tests)."""
    db_url = databases.new()
    app = App(db_url).start()
    db = Database(db_url, pool_size=2)
    try:
        yield Desk(app, db)
    finally:
        db.dispose()
        app.stop()


@pytest.fixture
def address() -> str:
    """A loopback address of this test's own."""
    return f"127.0.0.{next(_addresses)}"


def _report(
    client: httpx.Client, comment_id: int, reason: str = "abuse", text: str = ""
) -> httpx.Response:
    form = client.get(f"/comments/{comment_id}/report")
    assert form.status_code == 200, form.text
    return client.post(f"/comments/{comment_id}/report", data={"reason": reason, "text": text})


def _setup(desk: Desk, **fields: Any) -> tuple[str, dict[str, Any]]:
    article = desk.app.publish(**fields)
    with desk.app.client() as writer:
        comment = post(writer, article["slug"], body="A comment some readers dislike.")
    return str(article["slug"]), comment


def test_three_readers_put_a_comment_in_the_reported_queue(desk: Desk, address: str) -> None:
    slug, comment = _setup(desk)
    for n, reason in enumerate(("abuse", "spam", "other"), start=1):
        with desk.reader(address) as reader:
            response = _report(reader, comment["id"], reason, text=f"reader {n}")
            assert response.status_code == 303, response.text
            assert response.headers["location"] == f"/comments/{comment['id']}/reported"
            thanks = reader.get(response.headers["location"])
            assert thanks.status_code == 200
            assert "Thank you for your report" in thanks.text
        assert desk.comment_row(comment["id"])["report_count"] == n
        assert (comment["id"] in desk.reported()) is (n == 3)
    # Without hide_reported, readers still see it while it waits in the queue.
    with desk.reader(address) as reader:
        assert comment["id"] in {c["id"] for c in walk(thread(reader, slug)["comments"])}
    entries = [e for e in desk.audit(comment["id"]) if e["action"] == "report"]
    assert [json.loads(e["data"]) for e in entries] == [
        {"reason": "abuse", "count": 1},
        {"reason": "spam", "count": 2},
        {"reason": "other", "count": 3},
    ]
    assert {(e["actor_kind"], e["actor"]) for e in entries} == {("reader", "reader")}


def test_a_fourth_reader_from_the_same_address_is_thanked_but_not_counted(
    desk: Desk, address: str
) -> None:
    _slug, comment = _setup(desk)
    for _ in range(3):
        with desk.reader(address) as reader:
            assert _report(reader, comment["id"]).status_code == 303
    with desk.reader(address) as fourth:
        response = _report(fourth, comment["id"], "spam")
    assert response.status_code == 409
    assert "already been reported from your network" in words(parse_html(response.text))
    assert desk.comment_row(comment["id"])["report_count"] == 3
    # From another address the same comment can still be reported.
    with desk.reader(f"127.0.1.{address.rsplit('.', 1)[1]}") as elsewhere:
        assert _report(elsewhere, comment["id"], "spam").status_code == 303
    assert desk.comment_row(comment["id"])["report_count"] == 4


def test_the_same_reader_twice_is_refused_politely_and_counted_once(
    desk: Desk, address: str
) -> None:
    _slug, comment = _setup(desk)
    with desk.reader(address) as reader:
        assert _report(reader, comment["id"], "off-topic").status_code == 303
        again_form = reader.get(f"/comments/{comment['id']}/report")
        assert "You have already reported this comment" in again_form.text
        again = reader.post(f"/comments/{comment['id']}/report", data={"reason": "abuse"})
    assert again.status_code == 409
    notice = parse_html(again.text).xpath('//*[@role="status"]')
    assert "You have already reported this comment" in words(notice[0])
    assert desk.comment_row(comment["id"])["report_count"] == 1
    with desk.db.read() as conn:
        stored = conn.execute(
            select(func.count()).where(reports.c.comment_id == comment["id"])
        ).scalar_one()
    assert stored == 1


def test_the_reader_cookie_is_signed_httponly_lax_and_kept_a_year(desk: Desk, address: str) -> None:
    _slug, comment = _setup(desk)
    with desk.reader(address) as reader:
        response = reader.get(f"/comments/{comment['id']}/report")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("rj_reader=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert re.search(r"Max-Age=31536000", cookie)
        # A forged cookie is a new reader: the app hands out a fresh, signed one.
        reader.cookies.set("rj_reader", "forged.value")
        forged = reader.get(f"/comments/{comment['id']}/report")
        assert forged.headers["set-cookie"].startswith("rj_reader=")
        assert "forged.value" not in forged.headers["set-cookie"]


def test_a_bad_reason_or_a_long_text_comes_back_beside_its_field(desk: Desk, address: str) -> None:
    _slug, comment = _setup(desk)
    with desk.reader(address) as reader:
        reader.get(f"/comments/{comment['id']}/report")
        response = reader.post(
            f"/comments/{comment['id']}/report", data={"reason": "boring", "text": "x" * 501}
        )
    assert response.status_code == 422
    page = parse_html(response.text)
    [reason_error] = page.xpath('//fieldset/p[@class="field-error"][@id="reason-error"]')
    assert "Choose one of the reasons" in words(reason_error)
    [text_field] = page.xpath('//textarea[@id="text"]/parent::div')
    [text_error] = text_field.xpath('./p[@class="field-error"]')
    assert "at most 500" in words(text_error)
    # What the reader typed is kept, and the textarea points at its error.
    [textarea] = page.xpath('//textarea[@id="text"]')
    assert textarea.text == "x" * 501
    assert "text-error" in textarea.get("aria-describedby")
    assert desk.comment_row(comment["id"])["report_count"] == 0
    with desk.reader(address) as reader:
        missing = reader.post(f"/comments/{comment['id']}/report", data={"text": "no reason"})
    assert missing.status_code == 422
    assert desk.comment_row(comment["id"])["report_count"] == 0


def test_unknown_or_unpublished_comments_cannot_be_reported(desk: Desk, address: str) -> None:
    slug, _comment = _setup(desk)
    with desk.app.client() as writer:
        gone = post(writer, slug, body="Soon withdrawn.")
        assert writer.delete(f"/api/v1/comments/{gone['id']}").status_code == 204
    with desk.reader(address) as reader:
        for comment_id in (99_999_999, 2**40, gone["id"]):
            assert reader.get(f"/comments/{comment_id}/report").status_code == 404
            response = reader.post(f"/comments/{comment_id}/report", data={"reason": "spam"})
            assert response.status_code == 404
        not_a_number = reader.post("/comments/abc/report", data={"reason": "spam"})
        assert 400 <= not_a_number.status_code < 500
    assert desk.comment_row(gone["id"])["report_count"] == 0


def test_more_than_ten_reports_an_hour_from_one_address_are_refused(
    desk: Desk, address: str
) -> None:
    slug, _comment = _setup(desk)
    with desk.app.client() as writer:
        targets = [post(writer, slug)["id"] for _ in range(11)]
    with desk.reader(address) as reader:
        for comment_id in targets[:10]:
            assert _report(reader, comment_id, "spam").status_code == 303
        refused = _report(reader, targets[10], "spam")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3601
    [error] = parse_html(refused.text).xpath('//p[@id="reason-error"]')
    assert "try again later" in words(error)
    assert desk.comment_row(targets[10])["report_count"] == 0


def test_with_hide_reported_the_third_report_hides_the_comment_and_its_replies(
    desk: Desk, address: str
) -> None:
    slug, comment = _setup(desk)
    with desk.app.client() as writer:
        reply = post(writer, slug, body="A reply under it.", parent_id=comment["id"])
        other = post(writer, slug, body="Another comment.")
    with desk.reader(address) as reader:
        before = reader.get(f"/articles/{slug}")
        assert article_count(reader, slug) == 3
    desk.set_site(hide_reported=True)
    try:
        for n in range(3):
            with desk.reader(address) as reader:
                response = _report(reader, comment["id"])
                assert response.status_code == 303
                if n == 2:
                    thanks = reader.get(response.headers["location"])
                    assert "readers no longer see it" in thanks.text
    finally:
        desk.set_site(hide_reported=False)
    row = desk.comment_row(comment["id"])
    assert row["hidden"] is True and row["report_count"] == 3
    assert comment["id"] in desk.reported()
    with desk.reader(address) as reader:
        page = reader.get(f"/articles/{slug}", headers={"If-None-Match": before.headers["etag"]})
        assert page.status_code == 200  # the version moved: caches revalidate
        html = parse_html(page.text)
        assert not html.xpath(f'//li[@id="comment-{comment["id"]}"]')
        assert not html.xpath(f'//li[@id="comment-{reply["id"]}"]')
        comment_li(html, other["id"])
        shown = {c["id"] for c in walk(thread(reader, slug)["comments"])}
        assert shown == {other["id"]}
        assert article_count(reader, slug) == 2
        feed = reader.get(f"/articles/{slug}/comments.atom").text
        assert f"comment-{comment['id']}" not in feed
        # Hidden until reviewed: no more reports on it.
        assert reader.get(f"/comments/{comment['id']}/report").status_code == 404
    actions = [e["action"] for e in desk.audit(comment["id"])]
    assert actions.count("report") == 3 and actions[-1] == "hidden_by_reports"


def test_without_hide_reported_the_threshold_only_queues(desk: Desk, address: str) -> None:
    desk.set_site(reports_to_queue=2)
    try:
        slug, comment = _setup(desk)
        for _ in range(2):
            with desk.reader(address) as reader:
                assert _report(reader, comment["id"]).status_code == 303
    finally:
        desk.set_site(reports_to_queue=3)
    row = desk.comment_row(comment["id"])
    assert row["report_count"] == 2 and row["hidden"] is False
    assert "hidden_by_reports" not in [e["action"] for e in desk.audit(comment["id"])]
    with desk.reader(address) as reader:
        assert article_count(reader, slug) == 1


def test_every_comment_has_a_report_link_and_the_form_labels_every_input(
    desk: Desk, address: str
) -> None:
    slug, comment = _setup(desk)
    with desk.reader(address) as reader:
        article = parse_html(reader.get(f"/articles/{slug}").text)
        [link] = comment_li(article, comment["id"]).xpath('.//footer//a[@class="report"]')
        assert link.get("href") == f"/comments/{comment['id']}/report"
        assert words(link) == "Report the comment by Ada Reader"
        page = parse_html(reader.get(link.get("href")).text)
    [form] = page.xpath('//form[@method="post"]')
    assert form.get("action") == f"/comments/{comment['id']}/report"
    assert "A comment some readers dislike." in words(page.xpath("//blockquote")[0])
    fields = form.xpath(".//input[not(@type='hidden')] | .//textarea | .//select")
    assert len(fields) == 5
    for field in fields:
        labels = page.xpath(f'//label[@for="{field.get("id")}"]')
        assert len(labels) == 1 and words(labels[0]), f"no label for {field.get('name')}"
    radios = form.xpath(".//input[@type='radio']")
    assert [r.get("value") for r in radios] == ["abuse", "spam", "off-topic", "other"]
    assert {r.get("name") for r in radios} == {"reason"}
    [legend] = form.xpath(".//fieldset/legend")
    assert words(legend)
    assert form.xpath(".//textarea/@maxlength") == ["500"]
    assert form.xpath(".//button[@type='submit']")


def test_no_raw_address_or_reader_id_is_stored(desk: Desk, address: str) -> None:
    _slug, comment = _setup(desk)
    with desk.reader(address) as reader:
        assert _report(reader, comment["id"], "other", text="see above").status_code == 303
        cookie = reader.cookies["rj_reader"]
    with desk.db.read() as conn:
        [row] = conn.execute(
            select(reports).where(reports.c.comment_id == comment["id"])
        ).mappings()
    _valid, reader_id = URLSafeTimedSerializer("unused").loads_unsafe(cookie)
    assert isinstance(reader_id, str) and len(reader_id) >= 20
    for value in map(str, row.values()):
        assert address not in value
        assert reader_id not in value
    assert re.fullmatch(r"[0-9a-f]{64}", row["reporter"])
    assert re.fullmatch(r"[0-9a-f]{32}", row["ip_hash"])
    for entry in desk.audit(comment["id"]):
        assert address not in json.dumps({k: str(v) for k, v in entry.items()})


def test_a_hidden_comment_deleted_by_its_writer_is_not_uncounted_twice(
    desk: Desk, address: str
) -> None:
    article = desk.app.publish()
    slug = str(article["slug"])
    with desk.app.client() as writer:
        comment = post(writer, slug, body="Reported, then withdrawn.")
        post(writer, slug, body="Stays.")
        desk.set_site(hide_reported=True)
        try:
            for _ in range(3):
                with desk.reader(address) as reader:
                    assert _report(reader, comment["id"]).status_code == 303
        finally:
            desk.set_site(hide_reported=False)
        assert article_count(writer, slug) == 1
        assert writer.delete(f"/api/v1/comments/{comment['id']}").status_code == 204
        assert article_count(writer, slug) == 1


def test_readers_reporting_at_once_are_each_counted_once(desk: Desk, address: str) -> None:
    _slug, comment = _setup(desk)
    base = address.rsplit(".", 1)[1]
    readers = [desk.reader(f"127.0.{n}.{base}") for n in range(2, 8)]
    try:
        for reader in readers:
            assert reader.get(f"/comments/{comment['id']}/report").status_code == 200
        # Each reader sends twice at once: the second of each pair must be refused.
        sends = [reader for reader in readers for _ in range(2)]
        with ThreadPoolExecutor(max_workers=len(sends)) as pool:
            codes = list(
                pool.map(
                    lambda r: (
                        r.post(
                            f"/comments/{comment['id']}/report", data={"reason": "spam"}
                        ).status_code
                    ),
                    sends,
                )
            )
    finally:
        for reader in readers:
            reader.close()
    assert sorted(codes) == [303] * 6 + [409] * 6
    assert desk.comment_row(comment["id"])["report_count"] == 6
    with desk.db.read() as conn:
        stored = conn.execute(
            select(func.count()).where(reports.c.comment_id == comment["id"])
        ).scalar_one()
    assert stored == 6
