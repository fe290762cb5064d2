"""Webhooks: a site's endpoints (made, changed, paused, resumed, removed, their secret
rotated), the events put in the outbox inside the transaction of the write they tell of, and
the deliverer the outbox's sender calls: a signed JSON POST (`webhook_client`), logged per
endpoint; an endpoint that keeps failing is paused and whoever it names is mailed.

The secret signs every delivery, so it is kept as it is; it is given out only by
`add_endpoint` and `rotate_secret`, never by a read."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rejoinder.core import webhooks as rules
from rejoinder.core.errors import Invalid, InvalidMany, NotFound
from rejoinder.core.models import Article, Comment, Site
from rejoinder.core.outbox import OutboxMessage, Undeliverable
from rejoinder.core.webhooks import Delivery, Endpoint
from rejoinder.settings import Settings
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import outbox as outbox_store
from rejoinder.store import webhooks as webhook_store
from rejoinder.store.database import Database
from rejoinder.usecases.mail import Mail
from rejoinder.usecases.webhook_client import WebhookClient

if TYPE_CHECKING:
    from sqlalchemy import Connection

WEBHOOK = "webhook"  # the outbox kind of every delivery
PAUSED_TEMPLATE = "webhook_paused"  # the mail that tells of a paused endpoint
DELIVERIES_KEPT = 50  # per endpoint, the latest
OUTBOX_SHOWN = 100  # a site's pending or failed messages the desk lists
ERROR_MAX = 300
NOTIFY_MAX = 254
USER_AGENT = "Rejoinder-Webhooks/1"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Actor:
    """Who changes an endpoint, for the audit log."""

    kind: str
    name: str


@dataclass(frozen=True)
class EndpointView:
    """An endpoint as the desk and the API show it: no secret."""

    endpoint: Endpoint
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class Made:
    """An endpoint just made (or its secret rotated) and the secret, shown this once."""

    endpoint: Endpoint
    secret: str


def new_secret() -> str:
    return rules.SECRET_PREFIX + secrets.token_urlsafe(32)


def _notify(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > NOTIFY_MAX or value.count("@") != 1 or any(c.isspace() for c in value):
        raise Invalid("notify", "Give one email address, or leave it empty.")
    return value


def _audit(conn: Connection, actor: Actor, action: str, endpoint: Endpoint, now: datetime) -> None:
    audit_store.add_entry(
        conn,
        at=now,
        actor_kind=actor.kind,
        actor=actor.name,
        action=action,
        site_id=endpoint.site_id,
        data={"webhook_id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events)},
    )


# A host name -> its addresses (blocking); an OSError when it does not resolve.
ResolveNow = Callable[[str], list[str]]
RESOLVE_SECONDS = 3.0  # a save waits this long, at most, for the name's addresses


def resolve_now(host: str) -> list[str]:
    """The addresses of `host` by the system's resolver, waited for `RESOLVE_SECONDS` at
    most (a resolver that hangs leaves its thread behind, not the admin's request)."""
    found: list[list[str]] = []
    failed: list[OSError] = []

    def look() -> None:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            found.append(list(dict.fromkeys(str(info[4][0]) for info in infos)))
        except OSError as error:
            failed.append(error)

    looking = threading.Thread(target=look, name="webhook-resolve", daemon=True)
    looking.start()
    looking.join(RESOLVE_SECONDS)
    if failed:
        raise failed[0]
    if not found:
        raise TimeoutError(f"{host} did not resolve in {RESOLVE_SECONDS} s")
    return found[0]


def _checked_url(url: str, allow_private: bool, resolve: ResolveNow | None) -> str:
    """`core.webhooks.check_url`, then, unless private targets are allowed, the name's
    addresses: one of them private refuses the URL. A name that does not resolve now is
    taken (it may before its first event); every delivery resolves and checks it again."""
    checked = rules.check_url(url, allow_private=allow_private)
    if allow_private:
        return checked
    host = (urlsplit(checked).hostname or "").strip("[]")
    if rules.numeric_ipv4(host) is not None:
        return checked
    try:
        rules.is_private_address(host)
        return checked  # an address, judged by check_url
    except ValueError:
        pass
    try:
        addresses = (resolve or resolve_now)(host)
    except (OSError, UnicodeError):
        return checked
    private = [address for address in addresses if rules.is_private_address(address)]
    if private:
        raise Invalid(
            "url",
            f"The URL's name resolves to {private[0]}, a private or local address, "
            "which is refused.",
        )
    return checked


def _owned(conn: Connection, site_id: int, webhook_id: int) -> Endpoint:
    found = webhook_store.get_endpoint(conn, webhook_id, lock=True)
    if found is None or found.site_id != site_id:
        raise NotFound(f"There is no webhook {webhook_id} on this site.")
    return found


def add_endpoint(
    db: Database,
    *,
    site_id: int,
    url: str,
    events: list[str],
    notify: str | None,
    allow_private: bool,
    actor: Actor,
    now: datetime,
    resolve: ResolveNow | None = None,
) -> Made:
    """A new, active endpoint and its secret (which no read gives out again)."""
    problems: list[Invalid] = []
    checked_url, address = "", None
    chosen: tuple[str, ...] = ()
    try:
        checked_url = _checked_url(url, allow_private, resolve)
    except Invalid as error:
        problems.append(error)
    try:
        chosen = rules.check_events(events)
    except Invalid as error:
        problems.append(error)
    try:
        address = _notify(notify)
    except Invalid as error:
        problems.append(error)
    if problems:
        raise InvalidMany(problems)
    secret = new_secret()
    with db.write() as conn:
        made = webhook_store.add_endpoint(
            conn,
            site_id=site_id,
            url=checked_url,
            events=chosen,
            secret=secret,
            notify=address,
            now=now,
        )
        _audit(conn, actor, "webhook_add", made, now)
    return Made(made, secret)


def change_endpoint(
    db: Database,
    *,
    site_id: int,
    webhook_id: int,
    actor: Actor,
    now: datetime,
    allow_private: bool,
    url: str | None = None,
    events: list[str] | None = None,
    notify: str | None = None,
    active: bool | None = None,
    resolve: ResolveNow | None = None,
) -> Endpoint:
    """Change what is given; resuming (active) forgets the failures that paused it."""
    values: dict[str, Any] = {}
    if url is not None:
        values["url"] = _checked_url(url, allow_private, resolve)
    if events is not None:
        values["events"] = ",".join(rules.check_events(events))
    if notify is not None:
        values["notify"] = _notify(notify)
    if active is not None:
        values["active"] = active
        values["paused_reason"] = None if active else "Paused by a person at the desk."
        if active:
            values["failures"] = 0
            values["failing_since"] = None
    with db.write() as conn:
        _owned(conn, site_id, webhook_id)
        webhook_store.update_endpoint(conn, webhook_id, now, **values)
        changed = webhook_store.get_endpoint(conn, webhook_id)
        assert changed is not None
        action = "webhook_change"
        if active is not None and url is None and events is None and notify is None:
            action = "webhook_resume" if active else "webhook_pause"
        _audit(conn, actor, action, changed, now)
    return changed


def rotate_secret(
    db: Database, *, site_id: int, webhook_id: int, actor: Actor, now: datetime
) -> Made:
    """A new secret, from the next delivery on (one already being sent used the old)."""
    secret = new_secret()
    with db.write() as conn:
        _owned(conn, site_id, webhook_id)
        webhook_store.update_endpoint(conn, webhook_id, now, secret=secret)
        changed = webhook_store.get_endpoint(conn, webhook_id)
        assert changed is not None
        _audit(conn, actor, "webhook_rotate", changed, now)
    return Made(changed, secret)


def remove_endpoint(
    db: Database, *, site_id: int, webhook_id: int, actor: Actor, now: datetime
) -> None:
    """Gone with its log; its messages still in the outbox fail when their turn comes."""
    with db.write() as conn:
        found = _owned(conn, site_id, webhook_id)
        webhook_store.delete_endpoint(conn, webhook_id)
        _audit(conn, actor, "webhook_remove", found, now)


def list_endpoints(db: Database, site_id: int, deliveries: int = 10) -> list[EndpointView]:
    with db.read() as conn:
        return [
            EndpointView(found, tuple(webhook_store.list_deliveries(conn, found.id, deliveries)))
            for found in webhook_store.list_endpoints(conn, site_id)
        ]


def get_endpoint(db: Database, site_id: int, webhook_id: int) -> EndpointView:
    with db.read() as conn:
        found = webhook_store.get_endpoint(conn, webhook_id)
        if found is None or found.site_id != site_id:
            raise NotFound(f"There is no webhook {webhook_id} on this site.")
        kept = webhook_store.list_deliveries(conn, webhook_id, DELIVERIES_KEPT)
        return EndpointView(found, tuple(kept))


def send_test(db: Database, *, site_id: int, webhook_id: int, now: datetime) -> str:
    """Put a test event for the endpoint in the outbox (paused or not); its delivery id."""
    with db.write() as conn:
        found = _owned(conn, site_id, webhook_id)
        data = {"message": "A test event from the desk: this endpoint is reached."}
        return _add(conn, found.id, site_id, rules.TEST, data, now)


def _add(
    conn: Connection, webhook_id: int, site_id: int, event: str, data: Any, now: datetime
) -> str:
    message_id = f"whd_{secrets.token_hex(16)}"
    _queue(conn, [(message_id, webhook_id)], site_id, event, data, now)
    return message_id


def _queue(
    conn: Connection,
    deliveries: list[tuple[str, int]],
    site_id: int,
    event: str,
    data: Any,
    now: datetime,
) -> None:
    """One outbox message per (delivery id, endpoint), in one statement."""
    occurred = now.isoformat().replace("+00:00", "Z")
    outbox_store.add_many(
        conn,
        kind=WEBHOOK,
        messages=[
            (
                message_id,
                f"webhook:{webhook_id}",
                {
                    "webhook_id": webhook_id,
                    "site_id": site_id,
                    "event": event,
                    "occurred_at": occurred,
                    "data": data,
                },
            )
            for message_id, webhook_id in deliveries
        ],
        now=now,
        site_id=site_id,
    )


def comment_event(
    conn: Connection,
    *,
    site_id: int,
    event: str,
    comment_id: int,
    now: datetime,
    comment: Comment | None = None,
    article: Article | None = None,
) -> int:
    """Inside a write's transaction: a delivery of `event` for each active endpoint of the site
    that chose it (one indexed read when there is none); how many. The comment and its
    article are read here unless the caller has them, as they are after the write."""
    hooks = webhook_store.subscribed_ids(conn, site_id, event)
    if not hooks:
        return 0
    if comment is None:
        comment = comment_store.get_comment(conn, comment_id)
    if article is None and comment is not None:
        article = article_store.get_article_by_id(conn, comment.article_id)
    if comment is None or article is None:
        return 0
    if article.page_url:
        link = f"{article.page_url}#comment-{comment.id}"
    else:
        link = f"/articles/{article.slug}#comment-{comment.id}"
    data = rules.comment_payload(comment, article, comment_url=link)
    deliveries = [(f"whd_{secrets.token_hex(16)}", webhook_id) for webhook_id in hooks]
    _queue(conn, deliveries, site_id, event, data, now)
    return len(hooks)


@dataclass(frozen=True)
class WebhookDeliverer:
    """What `deliverer` makes: the outbox's deliverer of kind "webhook", what the sender runs
    in the transaction that claims each round (reading the round's endpoints) and in the one
    that settles it, and what closes its connections at shutdown."""

    deliver: Callable[[OutboxMessage], Awaitable[None]]
    settle: Callable[[Connection], None]
    close: Callable[[], Awaitable[None]]
    prepare: Callable[[Connection, list[OutboxMessage]], None]


class DeliveryFailed(Exception):
    """The endpoint answered, but not with a 2xx."""


def body_of(message: OutboxMessage, site: Site | None, link: Callable[[Site, str], str]) -> bytes:
    """The JSON a delivery posts: the same bytes on every try of one message."""
    payload = message.payload
    data = payload.get("data")
    if isinstance(data, dict) and site is not None:
        comment = data.get("comment")
        if isinstance(comment, dict) and str(comment.get("url", "")).startswith("/"):
            data["comment"] = {**comment, "url": link(site, str(comment["url"]))}
    document = {
        "id": message.message_id,
        "event": payload["event"],
        "created_at": payload["occurred_at"],
        "site": site.name if site else None,
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def deliverer(
    db: Database,
    settings: Settings,
    *,
    clock: Clock,
    site_of: Callable[[int], Site | None],
    link: Callable[[Site, str], str],
    mail: Mail | None,
) -> WebhookDeliverer:
    """The outbox's deliverer of webhooks (sign the body with the endpoint's secret and the
    time of this try, POST it; raise unless a 2xx came back), and what the sender runs in the
    transaction that settles each round (`Sender`'s `settle`): the tries' log, failures
    counted, an endpoint paused. One transaction per round rather than one per try."""
    pause_after = settings.webhooks_pause_after
    pause_period = timedelta(minutes=settings.webhooks_pause_minutes)

    pending: list[tuple[OutboxMessage, Endpoint, int | None, str | None, datetime]] = []

    def flush(conn: Connection) -> None:
        """In the sender's transaction that settles a round: log its tries, and count each
        endpoint's failures in a row (pausing one that keeps failing). A few statements per
        round, whatever its size."""
        taken = list(pending)
        del pending[:]
        if not taken:
            return
        endpoints = webhook_store.get_endpoints(conn, sorted({e.id for _, e, *_ in taken}))
        rows = [
            {
                "webhook_id": endpoint.id,
                "message_id": message.message_id,
                "event": str(message.payload["event"]),
                "attempt": message.attempts,
                "status_code": status,
                "ok": error is None,
                "error": error,
                "at": at,
            }
            for message, endpoint, status, error, at in taken
            if endpoint.id in endpoints
        ]
        webhook_store.add_deliveries(conn, rows, keep=DELIVERIES_KEPT)
        for current in endpoints.values():
            tries = [(error, at) for _, e, _, error, at in taken if e.id == current.id]
            failures, since = current.failures, current.failing_since
            for error, at in tries:
                failures, since = (0, None) if error is None else (failures + 1, since or at)
            if (failures, since) == (current.failures, current.failing_since):
                continue
            now, last_error = tries[-1][1], tries[-1][0]
            values: dict[str, Any] = {"failures": failures, "failing_since": since}
            if current.active and rules.should_pause(
                failures, since, now, after=pause_after, period=pause_period
            ):
                values |= _paused(conn, current, failures, last_error, now)
            webhook_store.update_endpoint(conn, current.id, now, **values)

    def _paused(
        conn: Connection, current: Endpoint, failures: int, error: str | None, now: datetime
    ) -> dict[str, Any]:
        """Pause the endpoint: audited, and its address mailed when mail is set up."""
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind="machine",
            actor="webhooks",
            action="webhook_pause",
            site_id=current.site_id,
            data={"webhook_id": current.id, "url": current.url, "failures": failures},
        )
        if mail is not None and current.notify:
            mail.enqueue(
                conn,
                to=current.notify,
                template=PAUSED_TEMPLATE,
                topic=f"webhook:{current.id}",
                site_id=current.site_id,
                values={"url": current.url, "failures": failures, "error": error},
                now=now,
            )
        reason = f"Paused after {failures} failed deliveries in a row; the last: {error}"
        return {"active": False, "paused_reason": reason[:ERROR_MAX]}

    # The endpoints of the round being sent, read in the transaction that claimed it (None:
    # removed); a delivery outside a sender's round reads its own.
    round_endpoints: dict[int, Endpoint | None] = {}

    def prepare(conn: Connection, messages: list[OutboxMessage]) -> None:
        wanted = sorted({int(m.payload["webhook_id"]) for m in messages if m.kind == WEBHOOK})
        found = webhook_store.get_endpoints(conn, wanted, lock=False) if wanted else {}
        round_endpoints.clear()
        round_endpoints.update({webhook_id: found.get(webhook_id) for webhook_id in wanted})

    clients: dict[asyncio.AbstractEventLoop, WebhookClient] = {}

    def client() -> WebhookClient:
        # Made on first use inside the event loop that sends (one per worker): its
        # connections are kept between deliveries, and its TLS context is built once.
        loop = asyncio.get_running_loop()
        if loop not in clients:
            clients.clear()  # a loop that ended took its connections with it
            clients[loop] = WebhookClient(
                timeout=settings.webhooks_timeout,
                allow_private=settings.webhooks_allow_private,
            )
        return clients[loop]

    def endpoint_of(webhook_id: int) -> Endpoint | None:
        with db.read() as conn:
            return webhook_store.get_endpoint(conn, webhook_id)

    async def deliver(message: OutboxMessage) -> None:
        webhook_id = int(message.payload["webhook_id"])
        if webhook_id in round_endpoints:
            endpoint = round_endpoints[webhook_id]
        else:
            endpoint = await asyncio.to_thread(endpoint_of, webhook_id)
        event = str(message.payload["event"])
        if endpoint is None:
            raise Undeliverable("the webhook endpoint was removed")
        if not endpoint.active and event != rules.TEST:
            raise Undeliverable("the webhook endpoint is paused")
        site = site_of(endpoint.site_id)
        body = body_of(message, site, link)
        timestamp = int(clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            rules.EVENT_HEADER: event,
            rules.DELIVERY_HEADER: message.message_id,
            rules.TIMESTAMP_HEADER: str(timestamp),
            rules.SIGNATURE_HEADER: rules.signature_header(endpoint.secret, timestamp, body),
        }
        status: int | None = None
        error: str | None = None
        try:
            status = await client().post(endpoint.url, body, headers)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as failure:  # refused, timed out, a private address, not HTTP
            said = str(failure) or f"no answer within {settings.webhooks_timeout} s"
            error = f"{type(failure).__name__}: {said}".replace("\n", " ")[:ERROR_MAX]
        pending.append((message, endpoint, status, error, clock()))
        if error is not None:
            raise DeliveryFailed(error)

    async def close() -> None:
        for each in clients.values():
            await each.aclose()
        clients.clear()

    return WebhookDeliverer(deliver, flush, close, prepare)


def site_outbox(db: Database, site_id: int) -> tuple[dict[str, int], list[OutboxMessage]]:
    """The site's messages per state, and those pending or failed (newest first)."""
    with db.read() as conn:
        counts = outbox_store.count_for_site(conn, site_id)
        shown = outbox_store.list_for_site(
            conn,
            site_id,
            states=(outbox_store.PENDING, outbox_store.SENDING, outbox_store.FAILED),
            limit=OUTBOX_SHOWN,
        )
    return counts, shown


def retry_message(db: Database, *, site_id: int, message_row: int, now: datetime) -> None:
    """A pending or failed message of the site, due now with its tries counted afresh."""
    with db.write() as conn:
        if not outbox_store.retry_now(conn, message_row, site_id=site_id, now=now):
            raise NotFound(f"There is no pending or failed message {message_row} on this site.")
