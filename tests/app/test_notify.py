"""Telling people by mail, with the app in this process and a real SMTP server (aiosmtpd):
reply notifications (only for published replies, only to confirmed addresses, gathered per
discussion, unsubscribed in one POST) and moderators' alerts (at once, or as a digest).

The digest interval is passed by driving the clock the use cases take (`flush_due(now)` and a
sender whose clock is that time), never by waiting."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest

from rejoinder.runtime import utcnow
from rejoinder.store import sites as site_store
from rejoinder.store import verification as verification_store
from rejoinder.store.database import Database
from rejoinder.usecases.notify import Notifier, pending_notices
from rejoinder.usecases.outbox import Sender, outbox_messages
from tests import HELD_TEXT, MODERATION_ON, RELAXED, comment_payload
from tests.conftest import App, Databases, add_staff, add_token
from tests.smtp import PATIENCE, SmtpServer, body_text

BOB = "bob@example.net"
CAROL = "carol@example.com"
FROM = "comments@news.example"
ADDRESS = re.compile(rb"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DIGEST = timedelta(minutes=15)


@dataclass
class Site:
    app: App
    db: Database
    smtp: SmtpServer
    token: str  # a moderator's API token

    @property
    def notifier(self) -> Notifier:
        notifier = self.app._app.state.runtime.notifier
        assert isinstance(notifier, Notifier)
        return notifier

    def post(self, slug: str, email: str, **fields: object) -> int:
        """A reader's post from a fresh browser; its id."""
        with self.app.client() as http:
            response = http.post(
                f"/api/v1/articles/{slug}/comments", json=comment_payload(email=email, **fields)
            )
        assert response.status_code in (201, 202), response.text
        return int(response.json()["id"])

    def approve(self, comment_id: int) -> None:
        response = self.app.post(
            f"/api/v1/admin/comments/{comment_id}/approve",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text

    def confirm(self, address: str) -> None:
        with self.db.write() as conn:
            verification_store.mark_verified(conn, address, utcnow())

    def deliver_at(self, when: datetime) -> int:
        """Make what is due at `when` into mail and send everything due then; how many mails
        the notices became."""
        added = self.notifier.flush_due(when)
        sender = Sender(
            self.db,
            self.app._app.state.deliverers,
            clock=lambda: when,
            attempts=3,
            lease_seconds=30,
        )
        asyncio.run(sender.send_due())
        return added

    def mails_to(self, address: str) -> list[Any]:
        """The outbox's messages to `address` (however it is typed)."""
        return [m for m in outbox_messages(self.db) if m.recipient == address.lower()]

    def pending(self, address: str) -> list[int]:
        """The comments that notices to `address` wait to tell of."""
        return [n.comment_id for n in pending_notices(self.db) if n.recipient == address.lower()]

    def received(self, address: str, count: int) -> list[EmailMessage]:
        """The mails that arrived for `address`, once there are `count`; fails after a
        generous deadline (polled: the app's own sender delivers mail due now)."""
        deadline = time.monotonic() + PATIENCE
        while True:
            found = [m for m in self.smtp.messages if str(m["To"]).lower() == address.lower()]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) == count, f"{len(found)} mails to {address}, not {count}"
                return found
            time.sleep(0.05)


def _someone(name: str) -> str:
    """An address of this test's own (the tests of this module share one app)."""
    return f"{name}-{uuid.uuid4().hex[:8]}@Example.org"


@pytest.fixture(scope="module")
def site(databases: Databases) -> Iterator[Site]:
    with SmtpServer() as smtp:
        smtp.start()
        db_url = databases.new()
        env = {
            **smtp.env,
            **MODERATION_ON,
            "REJOINDER_NOTIFY_DIGEST_MINUTES": "15",
            # The app's sender holds what it sends for longer than the tests travel ahead, so
            # that a sender on a later clock (`deliver_at`) never takes it for abandoned.
            "REJOINDER_OUTBOX_LEASE_SECONDS": str(10 * 24 * 3600),
        }
        running = App(db_url, env=env).start()
        db = Database(db_url, pool_size=1)
        try:
            with db.write() as conn:
                site_store.update_site_settings(conn, 1, {"policy": RELAXED})
            add_staff(db_url, "mod")
            yield Site(running, db, smtp, add_token(db_url, "mod"))
        finally:
            db.dispose()
            running.stop()


def _only_own_addresses(message: EmailMessage) -> None:
    """No address but the recipient's and the sender's anywhere in the mail."""
    raw = message.as_bytes()
    own = {str(message["To"]).lower().encode(), FROM.encode()}
    found = {match.lower() for match in ADDRESS.findall(raw)}
    # Message-IDs end with the sender's domain; they are no one's address.
    found -= {m for m in found if m.endswith(b"@news.example") and m != FROM.encode()}
    assert found <= own, found - own


def _link(message: EmailMessage, marker: str) -> str:
    return next(line.strip() for line in body_text(message).splitlines() if marker in line)


def test_a_held_reply_tells_nobody_until_approved_then_exactly_once(site: Site) -> None:
    alice = _someone("alice")
    site.confirm(alice)
    slug = site.app.publish()["slug"]
    parent = site.post(slug, alice, notify_replies=True, name="Alice")
    held = site.post(slug, BOB, parent_id=parent, body=HELD_TEXT, name="Bob Replier")
    rejected = site.post(slug, CAROL, parent_id=parent, body=HELD_TEXT + " Again.")
    later = utcnow() + DIGEST + timedelta(minutes=1)
    assert site.pending(alice) == []
    response = site.app.post(
        f"/api/v1/admin/comments/{rejected}/reject",
        headers={"Authorization": f"Bearer {site.token}"},
    )
    assert response.status_code == 200, response.text
    assert site.pending(alice) == []
    site.deliver_at(later)
    assert site.mails_to(alice) == []  # confirmed already: not even a confirmation
    site.approve(held)
    assert site.pending(alice) == [held]
    site.deliver_at(utcnow())  # gathered for the interval, not sent at once
    assert site.mails_to(alice) == []
    site.deliver_at(later)
    [message] = site.received(alice, 1)
    assert str(message["To"]) == alice
    assert "Bob Replier" in body_text(message)
    assert f"#comment-{held}" in _link(message, "#comment-")
    assert "Bob Replier" in body_text(message, "html")
    assert str(message["Subject"]).startswith("A reply to your comment on Article")
    _only_own_addresses(message)
    site.deliver_at(later + DIGEST)
    assert len(site.mails_to(alice)) == 1 and site.pending(alice) == []


def test_an_unconfirmed_address_gets_only_its_confirmation_and_nobody_hears_of_their_own(
    site: Site,
) -> None:
    carol, alice = _someone("carol"), _someone("alice")
    slug = site.app.publish()["slug"]
    parent = site.post(slug, carol, notify_replies=True)
    site.post(slug, BOB, parent_id=parent)
    site.confirm(alice)
    own = site.post(slug, alice, notify_replies=True)
    site.post(slug, f" {alice.upper()}", parent_id=own)  # Alice answering herself
    site.deliver_at(utcnow() + 2 * DIGEST)
    [message] = site.received(carol, 1)
    assert [m.payload["topic"] for m in site.mails_to(carol)] == ["confirm"]
    assert str(message["Subject"]).startswith("Confirm your email address")
    assert site.mails_to(alice) == []
    assert site.pending(carol) == site.pending(alice) == []


def test_one_post_to_the_unsubscribe_link_unsubscribes_and_a_get_does_not(site: Site) -> None:
    alice = _someone("alice")
    site.confirm(alice)
    slug = site.app.publish()["slug"]
    parent = site.post(slug, alice, notify_replies=True)
    site.post(slug, BOB, parent_id=parent)
    later = utcnow() + 2 * DIGEST
    site.deliver_at(later)
    [message] = site.received(alice, 1)
    # RFC 8058: the link in List-Unsubscribe (https in production), and the POST marker.
    header = str(message["List-Unsubscribe"])
    assert header.startswith("<http://testserver/unsubscribe/") and header.endswith(">")
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    thread = urlsplit(header[1:-1]).path
    links = [line.strip() for line in body_text(message).splitlines() if "/unsubscribe/" in line]
    assert urlsplit(links[0]).path == thread
    [everything] = [urlsplit(link).path for link in links if urlsplit(link).path != thread]
    for path in (thread, everything):
        assert "alice" not in path.lower()
    # A scanner's GET: a page with a button, nothing changed.
    page = site.app.get(thread)
    assert page.status_code == 200
    assert lxml.html.fromstring(page.text).xpath(f'//form[@method="post"][@action="{thread}"]')
    site.post(slug, CAROL, parent_id=parent)
    assert len(site.pending(alice)) == 1
    site.deliver_at(later + 2 * DIGEST)
    site.received(alice, 2)
    # The mail client's one click: a POST, no cookie, nothing else.
    done = site.app.post(
        thread,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    assert "no more mail about replies" in done.text
    site.post(slug, CAROL, parent_id=parent)
    assert site.pending(alice) == []
    # Another discussion still notifies, until the link for everything is followed.
    other = site.app.publish()["slug"]
    elsewhere = site.post(other, alice, notify_replies=True)
    site.post(other, BOB, parent_id=elsewhere)
    assert len(site.pending(alice)) == 1
    assert site.app.post(everything).status_code == 200
    site.post(other, CAROL, parent_id=elsewhere)
    assert len(site.pending(alice)) == 1  # none added; the one gathered before is dropped...
    site.deliver_at(later + 4 * DIGEST)
    assert len(site.mails_to(alice)) == 2  # ...rather than sent


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_altered_unsubscribe_link_is_refused_clearly(site: Site, method: str) -> None:
    response = site.app.request(method, "/unsubscribe/eyJyIjoxLCJzIjoxLCJ0IjowfQ.forged")
    assert response.status_code == 422
    assert "not valid" in response.text


def test_replies_in_the_interval_arrive_as_one_mail_per_discussion(site: Site) -> None:
    alice = _someone("alice")
    site.confirm(alice)
    slug = site.app.publish()["slug"]
    parent = site.post(slug, alice, notify_replies=True)
    start = utcnow()
    first = site.post(slug, BOB, parent_id=parent, name="Bob")
    second = site.post(slug, CAROL, parent_id=parent, name="Carol")
    site.deliver_at(start + DIGEST - timedelta(minutes=1))
    assert site.mails_to(alice) == []
    site.deliver_at(start + DIGEST + timedelta(minutes=1))
    [message] = site.received(alice, 1)
    text = body_text(message)
    assert "Bob wrote" in text and "Carol wrote" in text
    assert f"#comment-{first}" in text and f"#comment-{second}" in text
    assert str(message["Subject"]).startswith("2 replies to your comment")
    _only_own_addresses(message)
    # The next reply starts a new interval, counted from when it was published.
    again = utcnow()
    site.post(slug, BOB, parent_id=parent)
    site.deliver_at(again + DIGEST - timedelta(minutes=1))
    assert len(site.mails_to(alice)) == 1
    site.deliver_at(again + DIGEST + timedelta(minutes=1))
    assert len(site.received(alice, 2)) == 2


class Desk:
    """A staff member logged in on the desk's Notifications page (one login, many posts)."""

    def __init__(self, site: Site, user: str) -> None:
        self.http = site.app.log_in(user)
        page = self.http.get("/admin/notifications?site=default")
        assert page.status_code == 200, page.text
        [self.csrf] = lxml.html.fromstring(page.text).xpath(
            '//form[@class="notify-form"]//input[@name="csrf"]/@value'
        )

    def choose(self, **form: str) -> httpx.Response:
        return self.http.post(
            "/admin/notifications?site=default",
            data={"csrf": self.csrf, **form},
            follow_redirects=True,
        )

    def close(self) -> None:
        self.http.close()


def test_moderators_choose_their_alerts_on_the_desk_with_csrf_and_clear_errors(
    site: Site,
) -> None:
    refused = site.app.post(
        "/admin/notifications?site=default",
        data={"frequency": "immediately", "address": "mod@news.example"},
    )
    assert refused.status_code in (303, 307, 401, 403)  # no session: nothing saved
    desk = Desk(site, "mod")
    try:
        forged = desk.http.post(
            "/admin/notifications?site=default",
            data={"frequency": "immediately", "address": "mod@news.example"},
        )
        assert forged.status_code == 403  # a session, but no CSRF token
        bad = desk.choose(frequency="weekly", address="not an address")
        assert bad.status_code == 422
        page = lxml.html.fromstring(bad.text)
        assert "Choose off, immediately" in page.xpath('string(//*[@id="frequency-error"])')
        assert "email address" in page.xpath('string(//*[@id="address-error"])')
        assert page.xpath('string(//input[@id="address"]/@value)') == "not an address"
        saved = desk.choose(frequency="hourly", address="mod@news.example")
        assert saved.status_code == 200  # followed the redirect back to the page
        shown = lxml.html.fromstring(saved.text)
        assert shown.xpath('//input[@id="frequency-hourly"]/@checked')
        assert shown.xpath('string(//input[@id="address"]/@value)') == "mod@news.example"
        assert desk.choose(frequency="off", address="").status_code == 200
    finally:
        desk.close()


def test_alerts_arrive_at_once_or_as_one_hourly_digest(site: Site) -> None:
    add_staff(site.app.db_url, "night")
    mod, night = Desk(site, "mod"), Desk(site, "night")
    try:
        assert mod.choose(frequency="immediately", address="mod@news.example").is_success
        assert night.choose(frequency="hourly", address="night@news.example").is_success
        slug = site.app.publish()["slug"]
        start = utcnow()
        first = site.post(slug, _someone("bob"), body=HELD_TEXT)
        site.deliver_at(utcnow())  # what is due now, without waiting for the app's sender
        [alert] = site.received("mod@news.example", 1)
        link = _link(alert, "#item-")
        assert link == f"http://testserver/admin?site=default#item-{first}"
        assert "waits for a moderator" in str(alert["Subject"])
        _only_own_addresses(alert)
        second = site.post(slug, _someone("carol"), body=HELD_TEXT + " Twice.")
        site.deliver_at(utcnow())
        site.received("mod@news.example", 2)
        site.deliver_at(start + timedelta(minutes=30))
        assert site.mails_to("night@news.example") == []
        site.deliver_at(start + timedelta(minutes=61))
        [digest] = site.received("night@news.example", 1)
        text = body_text(digest)
        assert f"#item-{first}" in text and f"#item-{second}" in text
        assert str(digest["Subject"]).startswith("2 comments on")
        _only_own_addresses(digest)
        # The third reader's report puts a comment in the Reported queue: one alert, then.
        shown = site.post(slug, _someone("dana"), body="Some readers dislike this one.")
        for n in range(3):
            with site.app.client(address=f"127.0.9.{n + 1}") as reader:
                assert reader.get(f"/comments/{shown}/report").status_code == 200
                sent = reader.post(f"/comments/{shown}/report", data={"reason": "spam"})
                assert sent.status_code == 303, sent.text
            site.deliver_at(utcnow())
            assert len(site.mails_to("mod@news.example")) == 2 + (n == 2)
        reported = site.received("mod@news.example", 3)[-1]
        assert _link(reported, "#item-") == (
            f"http://testserver/admin/reported?site=default#item-{shown}"
        )
    finally:
        mod.choose(frequency="off", address="")
        night.choose(frequency="off", address="")
        mod.close()
        night.close()


def test_a_follower_hears_of_every_new_comment_in_one_mail_but_not_of_their_own(
    site: Site,
) -> None:
    fran, gus, alice = _someone("fran"), _someone("gus"), _someone("alice")
    slug = site.app.publish()["slug"]
    page = lxml.html.fromstring(site.app.get(f"/articles/{slug}").text)
    assert page.xpath('//form//input[@type="checkbox"][@name="follow"]')  # mail is set up
    own = site.post(slug, fran, follow_discussion=True, name="Fran")
    # A stranger typing a confirmed address (without the browser's proof) subscribes nobody.
    site.confirm(alice)
    site.post(slug, alice, follow_discussion=True)
    site.confirm(fran)  # the link in the confirmation mail the follow asked for
    start = utcnow()
    first = site.post(slug, gus, follow_discussion=True)  # unconfirmed: its confirmation only
    top = site.post(slug, _someone("bob"), name="Bob")
    reply = site.post(slug, _someone("carol"), parent_id=own, name="Carol")
    site.post(slug, fran.upper(), body="Fran again, on her own.")
    site.post(slug, _someone("held"), body=HELD_TEXT + " Followed.")
    assert sorted(site.pending(fran)) == [first, top, reply]
    assert site.pending(gus) == site.pending(alice) == []
    site.deliver_at(start + DIGEST + timedelta(minutes=1))
    [message] = [m for m in site.received(fran, 2) if "Confirm" not in str(m["Subject"])]
    assert str(message["Subject"]).startswith("3 new comments on Article")
    text = body_text(message)
    assert "Bob wrote" in text and "Carol wrote" in text
    assert "every new comment in this discussion" in text
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    _only_own_addresses(message)
    assert [m.payload["topic"] for m in site.mails_to(gus)] == ["confirm"]


def test_a_site_with_alert_choices_and_unsubscriptions_can_still_be_removed(site: Site) -> None:
    from rejoinder.core.models import Limits
    from rejoinder.store import notify as notify_store
    from rejoinder.usecases.notify import save_alert_choice
    from rejoinder.usecases.sites import remove_site

    now = utcnow()
    with site.db.write() as conn:
        spare = site_store.add_site(conn, f"spare{uuid.uuid4().hex[:6]}", "Spare", now)
        number = notify_store.recipient_id(conn, "someone@example.org", now)
        notify_store.opt_out(conn, recipient=number, site_id=spare.id, article_id=0, now=now)
    save_alert_choice(
        site.db,
        user_id=1,
        site_id=spare.id,
        frequency="daily",
        address="mod@news.example",
        limits=Limits(),
        now=now,
    )
    events = site.app._app.state.runtime.events
    remove_site(site.db, events, spare.name, actor_kind="user", actor="mod", now=now)
    with site.db.read() as conn:
        assert site_store.get_site(conn, spare.name) is None
        assert notify_store.alert_choices(conn, spare.id) == []
