"""Mail through the outbox, with the app in this process and a real SMTP server (aiosmtpd):
posting never waits for mail, a mail server that is down loses nothing, every message arrives
once, and nothing a writer or an editor types can add a header."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from rejoinder.core.outbox import OutboxMessage
from rejoinder.store import outbox as outbox_store
from rejoinder.store.database import Database
from rejoinder.usecases.health import OUTBOX_BEHIND, OutboxBehind, outbox_moving
from rejoinder.usecases.outbox import outbox_messages
from rejoinder.web.mail import header_text
from tests import comment_payload, post
from tests.conftest import App, Databases
from tests.prometheus import Labels, samples, value
from tests.smtp import PATIENCE, SmtpServer, body_text

# A title and a name that try to add a Bcc header: raw CR/LF, and an RFC 2047 encoded word
# that a careless decoder turns into CR/LF.
ENCODED_BCC = "=?utf-8?q?=0D=0ABcc:_evil@attacker.example?="
HOSTILE_TITLE = f"Daily News {ENCODED_BCC}"


def _outbox(db_url: str) -> list[OutboxMessage]:
    db = Database(db_url, pool_size=1)
    try:
        return outbox_messages(db)
    finally:
        db.dispose()


def _wait_outbox(db_url: str, done: object, what: str) -> list[OutboxMessage]:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        rows = _outbox(db_url)
        if done(rows):  # type: ignore[operator]
            return rows
        time.sleep(0.2)
    raise AssertionError(f"the outbox did not reach: {what}; it holds {_outbox(db_url)}")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_app(databases: Databases, smtp: SmtpServer) -> Iterator[App]:
    running = App(databases.new(), env={**smtp.env, "REJOINDER_SITE_TITLE": HOSTILE_TITLE}).start()
    try:
        yield running
    finally:
        running.stop()


def test_posts_go_through_while_the_mail_server_is_down_and_each_mail_arrives_once(
    mail_app: App, smtp: SmtpServer
) -> None:
    slug = mail_app.publish()["slug"]
    writers = [f"writer{n}@example.org" for n in range(4)]
    with mail_app.client() as http:
        for address in writers:
            started = time.monotonic()
            post(http, slug, email=address, notify_replies=True)
            # Nothing listens on the SMTP port: the post answers without waiting for it.
            assert time.monotonic() - started < 5
    rows = _outbox(mail_app.db_url)
    assert sorted(row.recipient for row in rows) == writers
    # Every message was tried, and failed, while the mail server was down; none was lost.
    _wait_outbox(
        mail_app.db_url,
        lambda rows: len(rows) == 4 and all(r.attempts >= 1 and r.last_error for r in rows),
        "every message tried once",
    )
    assert all(row.state == "pending" for row in _outbox(mail_app.db_url))
    smtp.start()
    messages = smtp.wait_for(4)
    _wait_outbox(
        mail_app.db_url, lambda rows: all(r.state == "sent" for r in rows), "every message sent"
    )
    time.sleep(1.5)  # a sender's next round, should it wrongly send one again
    assert len(smtp.messages) == 4
    ids = smtp.ids()
    assert set(ids) == {row.message_id for row in _outbox(mail_app.db_url)}
    assert set(ids.values()) == {1}
    assert sorted(rcpt[0] for rcpt in smtp.envelopes) == writers
    assert all(str(m["From"]) == "Rejoinder News <comments@news.example>" for m in messages)


def test_the_confirmation_mail_has_both_parts_a_link_and_no_injected_header(
    mail_app: App, smtp: SmtpServer
) -> None:
    smtp.start()
    slug = mail_app.publish()["slug"]
    with mail_app.client() as http:
        post(http, slug, name=f"Eve {ENCODED_BCC}", email="eve@example.org", notify_replies=True)
    [message] = smtp.wait_for(1)
    assert smtp.envelopes == [["eve@example.org"]]
    assert message.get_all("Bcc") is None
    assert {name.lower() for name in message} <= {
        "from", "to", "subject", "date", "message-id", "auto-submitted",
        "content-type", "content-transfer-encoding", "mime-version",
    }  # fmt: skip
    assert str(message["To"]) == "eve@example.org"
    subject = str(message["Subject"])
    assert "\r" not in subject and "\n" not in subject
    assert subject.startswith("Confirm your email address for Daily News")
    text = body_text(message)
    html = body_text(message, "html")
    assert "Eve" in text
    link = next(line for line in text.splitlines() if "/confirm/" in line).strip()
    assert link.startswith("http://testserver/confirm/")
    assert f'href="{link}"' in html


def test_an_address_gets_one_confirmation_however_it_is_typed(
    mail_app: App, smtp: SmtpServer
) -> None:
    smtp.start()
    slug = mail_app.publish()["slug"]
    with mail_app.client() as http:
        post(http, slug, email="Grace@Example.org", notify_replies=True)
        post(http, slug, email="grace@example.org", notify_replies=True)
        post(http, slug, email="other@example.org", notify_replies=False)
    rows = _outbox(mail_app.db_url)
    assert [row.recipient for row in rows] == ["grace@example.org"]
    assert rows[0].payload["to"] == "Grace@Example.org"  # sent as typed, compared folded
    smtp.wait_for(1)
    assert smtp.envelopes == [["Grace@Example.org"]]


def test_an_address_with_a_line_break_is_refused_and_nothing_is_queued(mail_app: App) -> None:
    slug = mail_app.publish()["slug"]
    response = mail_app.post(
        f"/api/v1/articles/{slug}/comments",
        json=comment_payload(
            email="ada@example.org\r\nBcc: evil@attacker.example", notify_replies=True
        ),
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["field"] == "email"
    assert _outbox(mail_app.db_url) == []


def test_the_form_offers_notifications_only_when_mail_is_set_up(mail_app: App, app: App) -> None:
    def has_box(service: App) -> bool:
        slug = service.publish()["slug"]
        page = lxml.html.fromstring(service.get(f"/articles/{slug}").text)
        return bool(page.xpath('//form[@id="commentform"]//input[@name="notify"]'))

    assert has_box(mail_app)
    assert not has_box(app)


def test_without_an_smtp_host_the_api_ignores_notify_replies(app: App) -> None:
    slug = app.publish()["slug"]
    before = len(_outbox(app.db_url))
    with app.client() as http:
        post(http, slug, email="nomail@example.org", notify_replies=True)
    assert len(_outbox(app.db_url)) == before


def test_header_text_drops_line_breaks_and_defuses_encoded_words() -> None:
    cleaned = header_text(f"News\r\nBcc: evil@attacker.example {ENCODED_BCC}")
    assert "\r" not in cleaned and "\n" not in cleaned
    assert "=?" not in cleaned
    assert cleaned.startswith("News Bcc: evil@attacker.example")


def test_a_sender_address_with_a_line_break_is_refused_by_the_settings() -> None:
    from pydantic import ValidationError

    from rejoinder.settings import Settings

    with pytest.raises(ValidationError, match="smtp_from"):
        Settings(smtp_from="a@example.org\r\nBcc: evil@attacker.example")


def test_the_outbox_shows_in_the_metrics_and_in_readiness(mail_app: App, smtp: SmtpServer) -> None:
    def scrape() -> dict[tuple[str, Labels], float]:
        answer = mail_app.get("/metrics")
        assert answer.status_code == 200, answer.text
        return samples(answer.text)

    before = scrape()
    slug = mail_app.publish()["slug"]
    with mail_app.client() as http:
        for n in range(2):
            post(http, slug, email=f"metered{n}@example.org", notify_replies=True)
    _wait_outbox(
        mail_app.db_url,
        lambda rows: len(rows) == 2 and all(r.attempts >= 1 for r in rows),
        "both messages tried while the mail server is down",
    )
    down = scrape()
    retried = "rejoinder_outbox_deliveries_total"
    assert (
        value(down, retried, kind="mail", result="retry")
        - value(before, retried, kind="mail", result="retry")
        >= 2
    )
    assert (
        value(down, "rejoinder_outbox_messages", state="pending")
        + value(down, "rejoinder_outbox_messages", state="sending")
        == 2
    )
    ready = mail_app.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["outbox"]["ok"] is True  # due, but not for long

    smtp.start()
    smtp.wait_for(2)
    _wait_outbox(mail_app.db_url, lambda rows: all(r.state == "sent" for r in rows), "both sent")
    up = scrape()
    sent = value(up, retried, kind="mail", result="sent") - value(
        before, retried, kind="mail", result="sent"
    )
    assert sent == 2
    assert value(up, "rejoinder_outbox_messages", state="sent") == 2
    assert b"metered0@example.org" not in mail_app.get("/metrics").content


def test_a_message_due_for_too_long_makes_the_outbox_unready(databases: Databases) -> None:
    db = Database(databases.new(), pool_size=1)
    now = datetime.now(UTC)
    try:
        outbox_moving(db, lambda: now)  # empty: moving
        with db.write() as conn:
            outbox_store.add(
                conn,
                message_id="<stuck@test>",
                kind="mail",
                recipient="stuck@example.org",
                payload={},
                now=now - OUTBOX_BEHIND - timedelta(minutes=1),
            )
        with pytest.raises(OutboxBehind):
            outbox_moving(db, lambda: now)
        outbox_moving(db, lambda: now - timedelta(minutes=5))  # then it was not late yet
    finally:
        db.dispose()
