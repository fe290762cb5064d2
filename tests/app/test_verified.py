"""Verified commenters: an address is confirmed by a link mailed to it (a page with a button,
since mail scanners fetch links), and only a browser that confirmed it is credited with its
good record. Addresses compare in one normal form everywhere (the pipeline and the desk)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import lxml.html
import pytest

from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.usecases.outbox import outbox_messages
from rejoinder.usecases.verification import is_verified
from rejoinder.web.cookies import VERIFIED_COOKIE
from rejoinder.web.origins import VERIFIED_HEADER
from tests import HELD_TEXT, MODERATION_ON, RELAXED, comment_payload
from tests.conftest import App, Databases, add_staff, add_token, allow_origins
from tests.smtp import PATIENCE, SmtpServer, body_text

REGULAR = "regular@example.org"


@dataclass
class Site:
    app: App
    db: Database
    smtp: SmtpServer
    token: str  # a moderator's API token

    def post(self, http: httpx.Client, slug: str, email: str, **fields: object) -> int:
        """A reader's post; the status code (201 published, 202 held)."""
        payload = comment_payload(email=email, **fields)
        response = http.post(f"/api/v1/articles/{slug}/comments", json=payload)
        assert response.status_code in (201, 202), response.text
        self.last_id = int(response.json()["id"])
        return response.status_code

    def approve(self, comment_id: int) -> None:
        response = self.app.post(
            f"/api/v1/admin/comments/{comment_id}/approve",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text

    def desk_page(self, path: str) -> lxml.html.HtmlElement:
        desk = self.app.log_in("mod")
        try:
            return lxml.html.fromstring(desk.get(path).text)
        finally:
            desk.close()

    def confirmation_path(self, to: str = REGULAR) -> str:
        """The link of the first mail to `to`, as a path on the app (mail to several
        addresses goes out at once: it arrives in any order)."""
        deadline = time.monotonic() + PATIENCE
        while True:
            mine = [m for m in self.smtp.messages if to in str(m["To"])]
            if mine or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert mine, f"no mail to {to} arrived"
        link = next(line for line in body_text(mine[0]).splitlines() if "/confirm/" in line)
        return urlsplit(link.strip()).path


@pytest.fixture
def site(databases: Databases) -> Iterator[Site]:
    with SmtpServer() as smtp:
        smtp.start()
        db_url = databases.new()
        running = App(db_url, env={**smtp.env, **MODERATION_ON}).start()
        db = Database(db_url, pool_size=1)
        try:
            with db.write() as conn:
                policy = {**RELAXED, "mode": "premoderate_new"}
                site_store.update_site_settings(conn, 1, {"policy": policy})
            add_staff(db_url, "mod")
            yield Site(running, db, smtp, add_token(db_url, "mod"))
        finally:
            db.dispose()
            running.stop()


def test_trust_goes_to_the_verified_regular_not_to_a_stranger_typing_the_address(
    site: Site,
) -> None:
    slug = site.app.publish()["slug"]
    with site.app.client() as regular, site.app.client() as stranger:
        # New, so held; approved, it is the address's good record.
        assert site.post(regular, slug, REGULAR, notify_replies=True) == 202
        site.approve(site.last_id)
        # The record alone is no proof: until the address is confirmed nobody gets the trust.
        assert site.post(regular, slug, REGULAR) == 202
        path = site.confirmation_path()
        page = lxml.html.fromstring(regular.get(path).text)
        assert page.xpath(f'//form[@method="post"][@action="{path}"]//button')
        assert not is_verified(site.db, REGULAR)  # opening the link confirms nothing
        confirmed = regular.post(path)
        assert confirmed.status_code == 200, confirmed.text
        assert is_verified(site.db, REGULAR)
        assert regular.cookies.get(VERIFIED_COOKIE)
        # The stranger who types the regular's address is new; the regular, proven, is
        # trusted however the address is typed.
        assert site.post(stranger, slug, REGULAR) == 202
        assert site.post(regular, slug, "  Regular@EXAMPLE.org ") == 201


def test_the_widgets_proof_travels_in_a_header_and_a_forged_one_proves_nothing(
    site: Site,
) -> None:
    slug = site.app.publish()["slug"]
    with site.app.client() as regular:
        site.post(regular, slug, REGULAR, notify_replies=True)
        site.approve(site.last_id)
        regular.post(site.confirmation_path())
        proof = regular.cookies.get(VERIFIED_COOKIE)
    assert proof
    with site.app.client(headers={VERIFIED_HEADER: proof}) as widget:
        assert site.post(widget, slug, REGULAR) == 201
    with site.app.client(headers={VERIFIED_HEADER: proof[:-3] + "abc"}) as forger:
        assert site.post(forger, slug, REGULAR) == 202


def test_a_confirmed_address_is_not_asked_again_and_the_desk_shows_it_verified(
    site: Site,
) -> None:
    slug = site.app.publish()["slug"]
    with site.app.client() as regular:
        site.post(regular, slug, REGULAR, notify_replies=True)
        regular.post(site.confirmation_path())
        site.post(regular, slug, REGULAR.upper(), notify_replies=True)
        site.post(regular, slug, "someone@example.org", body="Held for the desk.")
    assert [m.recipient for m in outbox_messages(site.db)] == [REGULAR]
    page = site.desk_page("/admin")
    emails = {
        dd.xpath("string(a)"): dd.xpath('string(following-sibling::dd[@class="verification"][1])')
        for dd in page.xpath('//dd[@class="email"]')
    }
    assert emails[REGULAR] == "verified", emails
    assert emails[REGULAR.upper()] == "verified"
    assert emails["someone@example.org"] == "not verified"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_or_altered_link_confirms_nothing(site: Site, method: str) -> None:
    slug = site.app.publish()["slug"]
    with site.app.client() as regular:
        site.post(regular, slug, REGULAR, notify_replies=True)
        path = site.confirmation_path()
        response = regular.request(method, path[:-4] + "AAAA")
        assert response.status_code == 422
        assert "not valid or has expired" in response.text
        assert not regular.cookies.get(VERIFIED_COOKIE)
    assert not is_verified(site.db, REGULAR)


def test_the_desk_history_and_the_pipeline_count_an_address_however_it_is_typed(
    site: Site,
) -> None:
    slug = site.app.publish()["slug"]
    with site.app.client() as http:
        site.post(http, slug, "Case@Example.org")
        first = site.last_id
        site.approve(first)
        site.post(http, slug, "case@example.ORG", body="Second, held as new.")
    page = site.desk_page("/admin")
    [history] = page.xpath('//dd[@class="history"]')
    assert "1 approved" in history.text_content()


def test_the_confirmed_page_leads_back_to_an_embedding_page_with_the_widgets_proof(
    site: Site,
) -> None:
    origin = "http://news.example:8080"
    allow_origins(site.app.db_url, origin, policy={**RELAXED, "mode": "premoderate_new"})
    loaded = site.app.get(
        "/embed/default/thread",
        params={"page_id": "story-1", "title": "Story", "url": f"{origin}/story-1"},
        headers={"Origin": origin},
    )
    assert loaded.status_code == 200, loaded.text
    slug = str(lxml.html.fromstring(loaded.text).xpath('//section[@id="comments"]/@data-slug')[0])
    # The widget's form offers notifications too, since mail is set up.
    assert lxml.html.fromstring(loaded.text).xpath('//input[@name="notify"]')
    with site.app.client() as reader:
        posted = reader.post(
            f"/embed/default/articles/{slug}/comments",
            json=comment_payload(email=REGULAR, notify_replies=True),
            headers={"Origin": origin},
        )
        assert posted.status_code in (201, 202), posted.text
        done = lxml.html.fromstring(reader.post(site.confirmation_path()).text)
    [back] = done.xpath('//a[contains(@href, "#rejoinder-verified=")]/@href')
    assert back.startswith(f"{origin}/story-1#rejoinder-verified=")
    proof = unquote(back.split("#rejoinder-verified=", 1)[1])
    site.approve(int(posted.json()["comment"]["id"]))

    def from_widget(headers: dict[str, str]) -> int:
        with site.app.client(headers=headers) as widget:
            response = widget.post(
                f"/embed/default/articles/{slug}/comments",
                json=comment_payload(email=REGULAR),
                headers={"Origin": origin},
            )
        return response.status_code

    assert from_widget({VERIFIED_HEADER: proof}) == 201  # trusted, with the proof it kept
    assert from_widget({}) == 202  # the same address without it: new


def _require_verified(site: Site, **policy: object) -> None:
    with site.db.write() as conn:
        values = {**RELAXED, "require_verified": True, **policy}
        site_store.update_site_settings(conn, 1, {"policy": values})


def _thread_ids(app: App, slug: str) -> list[int]:
    return [c["id"] for c in app.get(f"/api/v1/articles/{slug}/comments").json()["comments"]]


def _held_ids(site: Site) -> list[int]:
    page = site.desk_page("/admin")
    return [int(i) for i in page.xpath("//*[@data-id]/@data-id")]


def test_a_site_requiring_a_confirmed_address_publishes_once_the_link_is_followed(
    site: Site,
) -> None:
    _require_verified(site, mode="post_moderate")
    slug = site.app.publish()["slug"]
    with site.app.client() as writer:
        assert site.post(writer, slug, REGULAR) == 202  # no notify box ticked: asked anyway
        waiting = site.last_id
        assert site.post(writer, slug, "other@example.org", body=HELD_TEXT) == 202
        held_other = site.last_id
        # Shown to its writer only, and not yet a moderator's business.
        assert waiting not in _thread_ids(site.app, slug)
        page = lxml.html.fromstring(writer.get(f"/articles/{slug}").text)
        [notice] = page.xpath(f'//li[@id="comment-{waiting}"]//*[contains(@class, "awaiting")]')
        assert "confirm your email address" in notice.text_content()
        assert waiting not in _held_ids(site)
        assert site.app.get(f"/api/v1/articles/{slug}").json()["comment_count"] == 0
        writer.post(site.confirmation_path())
        # Confirmed: the pipeline's verdict (publish) applies; the proof lets the next one in.
        assert _thread_ids(site.app, slug) == [waiting]
        assert site.app.get(f"/api/v1/articles/{slug}").json()["comment_count"] == 1
        assert site.post(writer, slug, REGULAR.upper()) == 201
    with site.app.client() as stranger:
        assert site.post(stranger, slug, REGULAR) == 202  # the address alone is no proof
    assert [m.recipient for m in outbox_messages(site.db)] == [REGULAR, "other@example.org"]
    assert held_other not in _held_ids(site)


def test_a_waiting_comment_moderation_held_goes_to_the_desk_when_confirmed(site: Site) -> None:
    _require_verified(site, mode="post_moderate")
    slug = site.app.publish()["slug"]
    with site.app.client() as writer:
        site.post(writer, slug, REGULAR, body=HELD_TEXT)
        held = site.last_id
        assert held not in _held_ids(site)
        writer.post(site.confirmation_path())
    assert held in _held_ids(site)
    assert held not in _thread_ids(site.app, slug)


def test_what_a_confirmation_released_is_in_the_audit_log(site: Site) -> None:
    from sqlalchemy import select

    from rejoinder.store.schema import audit_log

    _require_verified(site, mode="post_moderate")
    slug = site.app.publish()["slug"]
    with site.app.client() as writer:
        site.post(writer, slug, REGULAR)
        waiting = site.last_id
        writer.post(site.confirmation_path())
    with site.db.read() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.before, audit_log.c.after).where(
                audit_log.c.comment_id == waiting
            )
        ).all()
    assert ("address_confirmed", "held", "published") in [tuple(r) for r in rows]


def test_a_waiting_comment_is_announced_only_once_its_address_is_confirmed(site: Site) -> None:
    from rejoinder.events import COMMENT_POSTED

    heard: list[tuple[int, str]] = []

    def listen(_name: str, *, comment: Any, article: Any) -> None:
        heard.append((comment.id, comment.status.value))

    site.app._app.state.runtime.events.connect(COMMENT_POSTED, listen)
    _require_verified(site, mode="post_moderate")
    slug = site.app.publish()["slug"]
    with site.app.client() as writer:
        site.post(writer, slug, REGULAR)
        waiting = site.last_id
        site.post(writer, slug, REGULAR, body=HELD_TEXT)
        held = site.last_id
        assert heard == []  # neither readers nor moderators have anything to see yet
        writer.post(site.confirmation_path())
    assert heard == [(waiting, "published"), (held, "held")]


def test_the_widget_tells_its_writer_the_comment_waits_for_the_address_not_a_moderator(
    site: Site,
) -> None:
    origin = "http://waiting.example:8080"
    allow_origins(site.app.db_url, origin, policy={**RELAXED, "mode": "post_moderate"})
    _require_verified(site, mode="post_moderate")
    loaded = site.app.get(
        "/embed/default/thread",
        params={"page_id": "story-waits", "title": "Story", "url": f"{origin}/story-waits"},
        headers={"Origin": origin},
    )
    slug = str(lxml.html.fromstring(loaded.text).xpath('//section[@id="comments"]/@data-slug')[0])

    def from_widget(**fields: Any) -> lxml.html.HtmlElement:
        with site.app.client() as writer:
            posted = writer.post(
                f"/embed/default/articles/{slug}/comments",
                json=comment_payload(**fields),
                headers={"Origin": origin},
            )
        assert posted.status_code == 202, posted.text
        return lxml.html.fromstring(posted.json()["html"])

    waiting = from_widget(email="new.writer@example.org")
    [notice] = waiting.xpath('//*[contains(@class, "awaiting-address")]')
    assert "confirm your email address" in notice.text_content()
    with site.db.write() as conn:  # no address asked for: held for a moderator
        site_store.update_site_settings(conn, 1, {"policy": {**RELAXED, "mode": "premoderate_all"}})
    held = from_widget(email="another.writer@example.org")
    assert not held.xpath('//*[contains(@class, "awaiting-address")]')
    assert "awaiting moderation" in held.xpath('string(//*[contains(@class, "awaiting")])')
