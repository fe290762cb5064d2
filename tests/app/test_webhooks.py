"""Webhooks with the app in this process and real receivers on 127.0.0.1: every event
arrives signed and without an email, a receiver that fails is retried until it takes the
delivery once, one that keeps failing is paused and its admin told, and only admins, with the
desk's CSRF token, manage them; the secret is shown once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from rejoinder.core import webhooks as rules
from rejoinder.core.errors import Invalid
from rejoinder.runtime import utcnow
from rejoinder.settings import load_settings
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.schema import outbox, webhook_deliveries
from rejoinder.store.schema import webhooks as webhooks_table
from rejoinder.usecases import webhooks
from rejoinder.usecases.outbox import Sender
from tests import (
    HELD_TEXT,
    MODERATION_ON,
    RELAXED,
    comment_payload,
    desk_csrf,
    parse_html,
    post,
    words,
)
from tests.conftest import App, Databases, add_staff, add_token
from tests.receiver import PATIENCE, Receiver
from tests.smtp import SmtpServer, body_text

PAUSE_AFTER = 3


@dataclass
class Hooks:
    app: App
    db: Database
    admin: httpx.Client  # a desk session of an admin
    mod: httpx.Client  # a desk session of a moderator
    token: str  # the admin's API token
    smtp: SmtpServer

    @property
    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @contextmanager
    def endpoint(self, url: str, events: list[str], notify: str | None = None) -> Iterator[dict]:  # type: ignore[type-arg]
        """A webhook made through the API (its JSON, with the secret), removed afterwards."""
        body = {"url": url, "events": events, "notify": notify}
        made = self.app.post("/api/v1/admin/webhooks", json=body, headers=self.api)
        assert made.status_code == 201, made.text
        try:
            yield made.json()
        finally:
            gone = self.app.request(
                "DELETE", f"/api/v1/admin/webhooks/{made.json()['id']}", headers=self.api
            )
            assert gone.status_code == 204, gone.text

    def deliveries(self, webhook_id: int) -> list[dict]:  # type: ignore[type-arg]
        with self.db.read() as conn:
            query = select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
            return [dict(row) for row in conn.execute(query.order_by("id")).mappings()]


@pytest.fixture(scope="module")
def hooks(databases: Databases) -> Iterator[Hooks]:
    db_url = databases.new()
    with SmtpServer() as smtp:
        smtp.start()
        env = {
            **MODERATION_ON,
            **smtp.env,
            "REJOINDER_WEBHOOKS_ALLOW_PRIVATE": "true",
            "REJOINDER_WEBHOOKS_PAUSE_AFTER": str(PAUSE_AFTER),
            "REJOINDER_WEBHOOKS_PAUSE_MINUTES": "0",
        }
        app = App(db_url, env=env).start()
        db = Database(db_url, pool_size=2)
        with db.write() as conn:
            site_store.update_site_settings(conn, 1, {"policy": RELAXED})
        add_staff(db_url, "boss", role="admin")
        add_staff(db_url, "mod")
        token = add_token(db_url, "boss", "hooks")
        admin, mod = app.log_in("boss"), app.log_in("mod")
        try:
            yield Hooks(app, db, admin, mod, token, smtp)
        finally:
            admin.close()
            mod.close()
            db.dispose()
            app.stop()


def _verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    lower = {k.lower(): v for k, v in headers.items()}
    return rules.verify(secret, lower["x-rejoinder-signature"], body, int(time.time()))


def test_every_event_arrives_signed_and_without_an_email(hooks: Hooks) -> None:
    slug = hooks.app.publish()["slug"]
    email = "never-shown@example.org"
    with Receiver() as receiver, hooks.endpoint(receiver.url, list(rules.EVENTS)) as made:
        secret = made["secret"]
        assert secret.startswith(rules.SECRET_PREFIX)
        with hooks.app.client() as writer:
            published = post(writer, slug, email=email, body="A kind word.")
            reported = post(writer, slug, email=email, body="Another kind word.")
            held = [
                writer.post(
                    f"/api/v1/articles/{slug}/comments",
                    json=comment_payload(email=email, body=f"{HELD_TEXT} {n}"),
                ).json()
                for n in range(2)
            ]
            assert [each["status"] for each in held] == ["held", "held"]
            csrf = desk_csrf(hooks.mod)
            approve = hooks.mod.post(
                f"/admin/comments/{held[0]['id']}/approve", data={"csrf": csrf}
            )
            reject = hooks.mod.post(f"/admin/comments/{held[1]['id']}/reject", data={"csrf": csrf})
            assert approve.status_code == 303 and reject.status_code == 303
            with hooks.app.client() as reader:
                form = reader.get(f"/comments/{reported['id']}/report")
                assert form.status_code == 200
                sent = reader.post(f"/comments/{reported['id']}/report", data={"reason": "spam"})
                assert sent.status_code in (200, 303), sent.text
            deleted = writer.delete(f"/api/v1/comments/{published['id']}")
            assert deleted.status_code in (200, 204), deleted.text
        expected = [
            (rules.PUBLISHED, published["id"]),
            (rules.PUBLISHED, reported["id"]),
            (rules.HELD, held[0]["id"]),
            (rules.HELD, held[1]["id"]),
            (rules.APPROVED, held[0]["id"]),
            (rules.REJECTED, held[1]["id"]),
            (rules.REPORTED, reported["id"]),
            (rules.DELETED, published["id"]),
        ]
        got = receiver.wait_for(lambda r: len(r) >= len(expected), "every event")
    assert sorted((r.json["event"], r.json["data"]["comment"]["id"]) for r in got) == sorted(
        expected
    )
    for each in got:
        headers = {k.lower(): v for k, v in each.headers.items()}
        assert _verified(secret, each.headers, each.body)
        assert not _verified("whsec_another", each.headers, each.body)
        assert headers["x-rejoinder-event"] == each.json["event"]
        assert headers["x-rejoinder-delivery"] == each.json["id"]
        assert headers["x-rejoinder-signature"].startswith(f"t={headers['x-rejoinder-timestamp']},")
        assert email.encode() not in each.body and b"@example.org" not in each.body
        assert each.json["site"] == "default"
        assert each.json["data"]["article"]["slug"] == slug
        assert each.json["data"]["comment"]["url"].startswith(f"http://testserver/articles/{slug}#")
    assert len({each.json["id"] for each in got}) == len(got)  # one delivery id per message


def test_a_replayed_or_altered_delivery_does_not_verify() -> None:
    body = b'{"event":"comment.published"}'
    now = int(time.time())
    header = rules.signature_header("whsec_x", now, body)
    assert rules.verify("whsec_x", header, body, now)
    assert not rules.verify("whsec_x", header, body + b" ", now)
    assert not rules.verify("whsec_x", header, body, now + rules.TOLERANCE_SECONDS + 1)
    assert not rules.verify("whsec_x", "v1=" + header.split("v1=")[1], body, now)


def test_a_receiver_that_fails_then_succeeds_gets_one_successful_delivery(hooks: Hooks) -> None:
    slug = hooks.app.publish()["slug"]
    with Receiver() as receiver, hooks.endpoint(receiver.url, [rules.PUBLISHED]) as made:
        receiver.fail(503, 500)
        with hooks.app.client() as writer:
            comment = post(writer, slug, body="Retried until it lands.")
        receiver.wait_for(lambda r: len(r) >= 1, "the first try")  # the app's sender, at once
        # ...and settled by it: a sender whose clock runs ahead would otherwise take the
        # message from under it, its lease "over", and log the second try before the first.
        deadline = time.monotonic() + PATIENCE
        while not hooks.deliveries(made["id"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        # The next tries are minutes away; a sender whose clock runs ahead makes them now.
        ahead = [utcnow()]

        def clock() -> datetime:
            return ahead[0]

        settings = load_settings(database_url=hooks.app.db_url, webhooks_allow_private=True)
        hooked = webhooks.deliverer(
            hooks.db, settings, clock=clock, site_of=lambda _: None, link=lambda s, p: p, mail=None
        )
        sender = Sender(hooks.db, {webhooks.WEBHOOK: hooked.deliver}, clock=clock, attempts=8,
                        lease_seconds=30, settle=[hooked.settle])  # fmt: skip

        async def catch_up() -> None:
            for _ in range(6):
                ahead[0] += timedelta(hours=2)
                await sender.send_due()

        async def catch_up_and_close() -> None:
            await catch_up()
            await catch_up()  # nothing is left to send again
            await hooked.close()

        asyncio.run(catch_up_and_close())
        got = receiver.wait_for(lambda r: len(receiver.ok()) >= 1, "a successful delivery")
        log = hooks.deliveries(made["id"])
    assert [r.status for r in got] == [503, 500, 200]
    assert len({r.json["id"] for r in got}) == 1  # the same delivery each time
    [taken] = receiver.ok()
    assert taken.json["data"]["comment"]["id"] == comment["id"]
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in log] == [
        (1, 503, False),
        (2, 500, False),
        (3, 200, True),
    ]


def test_an_endpoint_that_keeps_failing_is_paused_and_its_admin_told(hooks: Hooks) -> None:
    slug = hooks.app.publish()["slug"]
    with (
        Receiver() as receiver,
        hooks.endpoint(receiver.url, [rules.PUBLISHED], notify="ops@news.example") as made,
    ):
        receiver.always(500)
        with hooks.app.client() as writer:
            for n in range(PAUSE_AFTER):
                post(writer, slug, body=f"Comment {n} for a dead receiver.")
        receiver.wait_for(lambda r: len(r) >= PAUSE_AFTER, "every first try")
        url = f"/api/v1/admin/webhooks/{made['id']}"
        deadline = time.monotonic() + PATIENCE
        while (shown := hooks.app.get(url, headers=hooks.api).json())["active"]:
            assert time.monotonic() < deadline, shown
            time.sleep(0.05)
        assert shown["failures"] >= PAUSE_AFTER
        assert "failed deliveries in a row" in shown["paused_reason"]
        attempts = [
            (d["event"], d["attempt"], d["status_code"], d["ok"]) for d in shown["deliveries"]
        ]
        assert attempts[:PAUSE_AFTER] == [(rules.PUBLISHED, 1, 500, False)] * PAUSE_AFTER
        # Its admin is mailed, through the outbox.
        [message] = [m for m in hooks.smtp.wait_for(1) if "ops@news.example" in str(m["To"])]
        assert "paused" in str(message["Subject"])
        assert receiver.url in body_text(message)
        # The desk says so, on the webhooks page and the outbox page.
        page = parse_html(hooks.admin.get("/admin/webhooks").text)
        [notice] = page.xpath('//p[contains(@class, "webhook-paused")]')
        assert receiver.url in words(notice)
        assert "1 webhook is paused" in words(parse_html(hooks.admin.get("/admin/outbox").text))
        # A paused endpoint is sent nothing new; a test event still reaches it, and a resume
        # starts it again.
        before = len(receiver.received)
        receiver.always(None)
        with hooks.app.client() as writer:
            post(writer, slug, body="Not sent while paused.")
        tested = hooks.app.post(f"{url}/test", headers=hooks.api)
        assert tested.status_code == 200
        got = receiver.wait_for(lambda r: len(r) > before, "the test event")
        assert [r.json["event"] for r in got[before:]] == [rules.TEST]
        with hooks.app.client() as http:
            resumed = http.patch(url, json={"active": True}, headers=hooks.api)
        assert resumed.status_code == 200 and resumed.json()["active"] is True
        assert resumed.json()["failures"] == 0


def test_the_outbox_page_retries_a_failed_delivery(hooks: Hooks) -> None:
    slug = hooks.app.publish()["slug"]
    with Receiver() as receiver, hooks.endpoint(receiver.url, [rules.PUBLISHED]) as made:
        with hooks.app.client() as http:
            http.patch(f"/api/v1/admin/webhooks/{made['id']}", json={"active": False},
                       headers=hooks.api)  # fmt: skip
        with hooks.app.client() as writer:
            # Paused: no endpoint is chosen for this one, so nothing is queued.
            post(writer, slug, body="Nothing queued.")
        with hooks.app.client() as http:
            http.patch(f"/api/v1/admin/webhooks/{made['id']}", json={"active": True},
                       headers=hooks.api)  # fmt: skip
        receiver.always(500)
        with hooks.app.client() as writer:
            post(writer, slug, body="Queued, failing.")
        receiver.wait_for(lambda r: len(r) >= 1, "the first try")
        with hooks.db.write() as conn:  # its last try spent: failed, as after a long outage
            conn.execute(
                outbox.update()
                .where(outbox.c.recipient == f"webhook:{made['id']}")
                .values(state="failed", last_error="HTTP 500")
            )
        page = parse_html(hooks.admin.get("/admin/outbox").text)
        mine = f"to webhook {made['id']}"
        [row] = [r for r in page.xpath('//tr[@data-state="failed"]') if mine in words(r)]
        [action] = row.xpath(".//form/@action")
        receiver.always(None)
        refused = hooks.admin.post(action, data={})
        assert refused.status_code == 403  # no CSRF token
        done = hooks.admin.post(action, data={"csrf": desk_csrf(hooks.admin)})
        assert done.status_code == 303
        got = receiver.wait_for(lambda r: len(receiver.ok()) == 1, "the retried delivery")
        assert got[-1].json["data"]["comment"]["body_markdown"] == "Queued, failing."
        query = select(outbox.c.state).where(outbox.c.recipient == f"webhook:{made['id']}")
        deadline = time.monotonic() + PATIENCE
        while True:  # marked sent a moment after the receiver answers
            with hooks.db.read() as conn:
                states = list(conn.execute(query).scalars())
            if states != ["sending"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert states == ["sent"]  # and the paused time queued nothing


def test_only_admins_manage_webhooks_and_forms_need_the_csrf_token(hooks: Hooks) -> None:
    assert hooks.mod.get("/admin/webhooks").status_code == 403
    assert hooks.mod.get("/admin/outbox").status_code == 403
    csrf = desk_csrf(hooks.mod)
    refused = hooks.mod.post(
        "/admin/webhooks",
        data={"csrf": csrf, "url": "http://127.0.0.1:9/x", "events": "comment.held"},
    )
    assert refused.status_code == 403
    mod_token = add_token(hooks.app.db_url, "mod", "mod-hooks")
    api = hooks.app.get("/api/v1/admin/webhooks", headers={"Authorization": f"Bearer {mod_token}"})
    assert api.status_code == 403 and api.json()["error"] == "forbidden"
    # An admin without the token: nothing is made.
    no_csrf = hooks.admin.post(
        "/admin/webhooks", data={"url": "http://127.0.0.1:9/x", "events": "comment.held"}
    )
    assert no_csrf.status_code == 403
    with_session = hooks.admin.post(
        "/api/v1/admin/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["comment.held"]}
    )
    assert with_session.status_code == 403  # a desk session on the API needs X-CSRF-Token
    listed = hooks.app.get("/api/v1/admin/webhooks", headers=hooks.api).json()["webhooks"]
    assert [w for w in listed if w["url"] == "http://127.0.0.1:9/x"] == []


def test_the_secret_is_shown_once_and_bad_fields_are_named(hooks: Hooks) -> None:
    csrf = desk_csrf(hooks.admin)
    made = hooks.admin.post(
        "/admin/webhooks",
        data={"csrf": csrf, "url": "http://127.0.0.1:9/once", "events": ["comment.published"]},
    )
    assert made.status_code == 201
    [secret] = parse_html(made.text).xpath('//code[@id="webhook-secret"]/text()')
    assert secret.startswith(rules.SECRET_PREFIX)
    assert made.headers["cache-control"] == "no-store"
    again = hooks.admin.get("/admin/webhooks")
    assert "http://127.0.0.1:9/once" in again.text and secret not in again.text
    listed = hooks.app.get("/api/v1/admin/webhooks", headers=hooks.api)
    assert secret not in listed.text
    [found] = [w for w in listed.json()["webhooks"] if w["url"] == "http://127.0.0.1:9/once"]
    assert "secret" not in found
    rotated = hooks.app.post(f"/api/v1/admin/webhooks/{found['id']}/rotate", headers=hooks.api)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (secret, "") and rotated.json()["secret"] not in (
        hooks.app.get(f"/api/v1/admin/webhooks/{found['id']}", headers=hooks.api).text
    )
    hooks.app.request("DELETE", f"/api/v1/admin/webhooks/{found['id']}", headers=hooks.api)
    # Bad input: the desk's form names each field; the API answers in the error shape.
    bad = hooks.admin.post(
        "/admin/webhooks", data={"csrf": csrf, "url": "ftp://example.org/", "notify": "x"}
    )
    assert bad.status_code == 422
    page = parse_html(bad.text)
    assert page.xpath('//p[@id="url-error"]') and page.xpath('//p[@id="events-error"]')
    assert page.xpath('//p[@id="notify-error"]')
    for body, field in [
        ({"url": "gopher://example.org", "events": ["comment.held"]}, "url"),
        ({"url": "http://example.org/h", "events": ["comment.eaten"]}, "events"),
        ({"url": "http://example.org/h", "events": "comment.held"}, "events"),
        ({"url": "http://example.org/h", "events": ["comment.held"], "colour": 1}, "colour"),
    ]:
        answer = hooks.app.post("/api/v1/admin/webhooks", json=body, headers=hooks.api)
        assert answer.status_code == 422, answer.text
        assert set(answer.json()) == {"error", "field", "message"}
        assert answer.json()["field"] == field
    missing = hooks.app.get("/api/v1/admin/webhooks/999999", headers=hooks.api)
    assert missing.status_code == 404


@pytest.mark.one_backend
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://metadata.internal/",
        "http://0.0.0.0/",
        "https://intranet/",
    ],
)
def test_private_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(Invalid) as refused:
        rules.check_url(url, allow_private=False)
    assert refused.value.field == "url"
    assert rules.check_url(url, allow_private=True) == url
    assert rules.check_url("https://hooks.example.org/in", allow_private=False)


def test_a_removed_site_takes_its_webhooks_with_it(hooks: Hooks) -> None:
    made = hooks.app.post(
        "/api/v1/admin/sites", json={"name": "hooked", "title": "Hooked"}, headers=hooks.api
    )
    assert made.status_code == 201, made.text
    hook = hooks.app.post(
        "/api/v1/admin/webhooks?site=hooked",
        json={"url": "http://127.0.0.1:9/gone", "events": [rules.HELD]},
        headers=hooks.api,
    )
    assert hook.status_code == 201, hook.text
    gone = hooks.app.request("DELETE", "/api/v1/admin/sites/hooked", headers=hooks.api)
    assert gone.status_code == 204, gone.text
    with hooks.db.read() as conn:
        query = select(webhooks_table.c.id).where(webhooks_table.c.id == hook.json()["id"])
        left = conn.execute(query).all()
    assert left == []


def test_the_desk_changes_a_webhook_and_names_a_bad_field(hooks: Hooks) -> None:
    with hooks.endpoint("http://127.0.0.1:9/before", [rules.HELD]) as made:
        csrf = desk_csrf(hooks.admin)
        action = f"/admin/webhooks/{made['id']}/edit"
        bad = hooks.admin.post(action, data={"csrf": csrf, "url": "mailto:x@y", "events": "x"})
        assert bad.status_code == 422
        [message] = parse_html(bad.text).xpath(f'//p[@id="{made["id"]}-url-error"]/text()')
        assert "http" in message
        good = {"csrf": csrf, "url": "http://127.0.0.1:9/after", "events": [rules.REJECTED]}
        assert hooks.admin.post(action, data=good).status_code == 303
        shown = hooks.app.get(f"/api/v1/admin/webhooks/{made['id']}", headers=hooks.api).json()
        assert (shown["url"], shown["events"]) == ("http://127.0.0.1:9/after", [rules.REJECTED])
        assert hooks.admin.post(action, data={**good, "csrf": ""}).status_code == 403
