"""Where a webhook may point, with REJOINDER_WEBHOOKS_ALLOW_PRIVATE off (the default): a URL
naming this host or a private network, however the address is spelled, or a name resolving to
one, is refused when saved (the desk's form names the field, the API answers in the error
shape), and a delivery connects only to an address it resolved and checked, so an endpoint
whose name points here is never reached. With the setting on, the same client reaches a
private address, connecting to the address it resolved with the URL's name in the Host
header."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from rejoinder.core import webhooks as rules
from rejoinder.core.errors import Invalid, InvalidMany
from rejoinder.runtime import utcnow
from rejoinder.store import sites as site_store
from rejoinder.store import webhooks as webhook_store
from rejoinder.store.database import Database
from rejoinder.store.schema import webhook_deliveries
from rejoinder.usecases import webhooks
from rejoinder.usecases.webhook_client import PrivateTarget, WebhookClient
from tests import MODERATION_ON, RELAXED, desk_csrf, parse_html, post
from tests.conftest import App, Databases, add_staff, add_token
from tests.receiver import PATIENCE, Receiver

# 127.0.0.1 and 169.254.169.254 (cloud metadata) as a URL may spell them.
LOOPBACK_SPELLINGS = [
    "http://2130706433/",  # one decimal number
    "http://0x7f000001/",  # one hex number
    "http://0x7f.1/",  # hex, short form
    "http://0177.0.0.1/",  # octal
    "http://127.1/",  # short form
    "http://[::ffff:7f00:1]/",  # IPv4-mapped IPv6, in hex
    "http://[::127.0.0.1]/",  # IPv4-compatible IPv6
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 around 169.254.169.254
    "http://2852039166/latest/meta-data",  # 169.254.169.254 as one number
    "http://localhost./",  # the root's localhost
    "http://224.0.0.1/",  # multicast
]


@pytest.mark.one_backend
@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
def test_every_spelling_of_a_private_address_is_refused_when_saved(url: str) -> None:
    with pytest.raises(Invalid) as refused:
        rules.check_url(url, allow_private=False)
    assert refused.value.field == "url"
    assert rules.check_url(url, allow_private=True) == url


@pytest.mark.one_backend
def test_public_addresses_and_names_are_taken() -> None:
    for url in (
        "http://8.8.8.8/in",
        "https://[2001:4860:4860::8888]/",
        "https://hooks.example.org/",
    ):
        assert rules.check_url(url, allow_private=False) == url
    assert rules.numeric_ipv4("134744072") == "8.8.8.8"
    assert rules.numeric_ipv4("hooks.example.org") is None
    assert rules.numeric_ipv4("256.1") is None  # out of range: a name, as resolvers read it


@dataclass
class Guarded:
    app: App
    db: Database
    admin: httpx.Client
    token: str


@pytest.fixture(scope="module")
def guarded(databases: Databases) -> Iterator[Guarded]:
    db_url = databases.new()
    app = App(db_url, env={**MODERATION_ON, "REJOINDER_WEBHOOKS_ALLOW_PRIVATE": "false"}).start()
    db = Database(db_url, pool_size=2)
    with db.write() as conn:
        site_store.update_site_settings(conn, 1, {"policy": RELAXED})
    add_staff(db_url, "guard", role="admin")
    token = add_token(db_url, "guard", "targets")
    admin = app.log_in("guard")
    try:
        yield Guarded(app, db, admin, token)
    finally:
        admin.close()
        db.dispose()
        app.stop()


def test_the_desk_form_names_the_url_it_refuses(guarded: Guarded) -> None:
    csrf = desk_csrf(guarded.admin)
    for url in ("http://2130706433/hooks", "http://[::ffff:169.254.169.254]/"):
        answer = guarded.admin.post(
            "/admin/webhooks", data={"csrf": csrf, "url": url, "events": [rules.PUBLISHED]}
        )
        assert answer.status_code == 422, answer.text
        page = parse_html(answer.text)
        [message] = page.xpath('//p[@id="url-error"]/text()')
        assert "private or local address" in message
        assert page.xpath('//input[@id="url"]/@value') == [url]  # the form keeps what was typed
    listed = guarded.app.get(
        "/api/v1/admin/webhooks", headers={"Authorization": f"Bearer {guarded.token}"}
    )
    assert listed.json()["webhooks"] == []


def test_the_api_refuses_a_private_target_in_the_error_shape(guarded: Guarded) -> None:
    api = {"Authorization": f"Bearer {guarded.token}"}
    for url in ("http://0x7f.1:8080/in", "http://localhost./", "http://169.254.169.254/"):
        body = {"url": url, "events": [rules.PUBLISHED]}
        answer = guarded.app.post("/api/v1/admin/webhooks", json=body, headers=api)
        assert answer.status_code == 422, answer.text
        assert set(answer.json()) == {"error", "field", "message"}
        assert answer.json()["field"] == "url"
    made = guarded.app.post(
        "/api/v1/admin/webhooks",
        json={"url": "https://hooks.example.org/in", "events": [rules.PUBLISHED]},
        headers=api,
    )
    assert made.status_code == 201, made.text
    moved = guarded.app.request(
        "PATCH",
        f"/api/v1/admin/webhooks/{made.json()['id']}",
        json={"url": "http://[::1]:9/"},
        headers=api,
    )
    assert moved.status_code == 422 and moved.json()["field"] == "url", moved.text
    gone = guarded.app.request("DELETE", f"/api/v1/admin/webhooks/{made.json()['id']}", headers=api)
    assert gone.status_code == 204


def test_a_name_that_resolves_to_a_private_address_is_refused_when_saved(
    guarded: Guarded,
) -> None:
    answers = {"hooks.example.org": ["93.184.215.14", "10.0.0.5"], "ok.example.org": ["8.8.4.4"]}
    with pytest.raises(InvalidMany) as refused:
        webhooks.add_endpoint(
            guarded.db,
            site_id=1,
            url="https://hooks.example.org/in",
            events=[rules.PUBLISHED],
            notify=None,
            allow_private=False,
            actor=webhooks.Actor("test", "test"),
            now=utcnow(),
            resolve=answers.__getitem__,
        )
    [problem] = refused.value.errors
    assert problem.field == "url" and "10.0.0.5" in str(problem.message)
    made = webhooks.add_endpoint(
        guarded.db,
        site_id=1,
        url="https://ok.example.org/in",
        events=[rules.PUBLISHED],
        notify=None,
        allow_private=False,
        actor=webhooks.Actor("test", "test"),
        now=utcnow(),
        resolve=answers.__getitem__,
    )
    webhooks.remove_endpoint(
        guarded.db,
        site_id=1,
        webhook_id=made.endpoint.id,
        actor=webhooks.Actor("test", "test"),
        now=utcnow(),
    )


@pytest.mark.parametrize("host", ["localhost", "0x7f.0.0.1", "[::ffff:127.0.0.1]", "127.1"])
def test_a_delivery_never_reaches_an_endpoint_that_points_here(guarded: Guarded, host: str) -> None:
    """An endpoint saved while private targets were allowed, or whose name points here since:
    every try fails, naming the address, and the receiver on 127.0.0.1 gets nothing."""
    slug = guarded.app.publish()["slug"]
    with Receiver() as receiver:
        port = receiver.url.split(":")[-1].split("/")[0]
        with guarded.db.write() as conn:
            endpoint = webhook_store.add_endpoint(
                conn,
                site_id=1,
                url=f"http://{host}:{port}/hooks",
                events=(rules.PUBLISHED,),
                secret=webhooks.new_secret(),
                notify=None,
                now=utcnow(),
            )
        try:
            with guarded.app.client() as writer:
                post(writer, slug, body=f"Nobody at {host} should hear of this.")
            deadline = time.monotonic() + PATIENCE
            log: list[dict[str, object]] = []
            while not log and time.monotonic() < deadline:
                time.sleep(0.05)
                with guarded.db.read() as conn:
                    query = select(webhook_deliveries).where(
                        webhook_deliveries.c.webhook_id == endpoint.id
                    )
                    log = [dict(row) for row in conn.execute(query).mappings()]
            time.sleep(0.2)  # had it connected, the receiver would have its request by now
            assert receiver.received == []
        finally:
            with guarded.db.write() as conn:
                webhook_store.delete_endpoint(conn, endpoint.id)
    [tried] = log
    assert tried["ok"] is False and tried["status_code"] is None
    assert str(tried["error"]).startswith("PrivateTarget: ") and "127.0.0.1" in str(tried["error"])


def test_the_client_connects_to_the_address_it_checked() -> None:
    """A name resolved once per connection, to the address the check saw: with private
    targets allowed, a name no DNS knows reaches the receiver on 127.0.0.1 through the
    address it was given, with its own name in the Host header; not allowed, it is refused
    before any connection."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    async def send(client: WebhookClient, url: str, n: int) -> list[int]:
        try:
            return [await client.post(url, b"{}", {"X-N": str(k)}) for k in range(n)]
        finally:
            await client.aclose()

    with Receiver() as receiver:
        port = receiver.url.split(":")[-1].split("/")[0]
        url = f"http://hooks.example.org:{port}/in?k=1"
        allowed = WebhookClient(timeout=5, allow_private=True, resolve=resolve)
        assert asyncio.run(send(allowed, url, 2)) == [200, 200]
        got = receiver.wait_for(lambda r: len(r) >= 2, "two posts")
        assert {r.headers["Host"] for r in got} == {f"hooks.example.org:{port}"}
        # One lookup per connection (this receiver closes each after its answer), none
        # between the check and the connection.
        assert asked == ["hooks.example.org"] * 2
        refused = WebhookClient(timeout=5, allow_private=False, resolve=resolve)
        with pytest.raises(PrivateTarget, match=r"127\.0\.0\.1"):
            asyncio.run(send(refused, url, 1))
        time.sleep(0.2)
        assert len(receiver.received) == 2
