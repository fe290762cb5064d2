"""Webhooks' rules: the events a site may subscribe to, the JSON a delivery carries (never a
commenter's email), its signature, which URLs are acceptable, and when an endpoint that
keeps failing is paused."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from rejoinder.core.errors import Invalid
from rejoinder.core.models import Article, Comment

PUBLISHED = "comment.published"
HELD = "comment.held"
APPROVED = "comment.approved"
REJECTED = "comment.rejected"
REPORTED = "comment.reported"
DELETED = "comment.deleted"
TEST = "webhook.test"  # the desk's "send a test event"; every endpoint takes it
EVENTS = (PUBLISHED, HELD, APPROVED, REJECTED, REPORTED, DELETED)

URL_MAX = 2000
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300  # a receiver refuses a signature older (or newer) than this
TIMESTAMP_HEADER = "X-Rejoinder-Timestamp"
SIGNATURE_HEADER = "X-Rejoinder-Signature"
EVENT_HEADER = "X-Rejoinder-Event"
DELIVERY_HEADER = "X-Rejoinder-Delivery"

# Names that reach this host or a private network whatever they resolve to.
_PRIVATE_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")


@dataclass(frozen=True)
class Endpoint:
    """A site's webhook endpoint as the server holds it (the secret included)."""

    id: int
    site_id: int
    url: str
    events: tuple[str, ...]
    secret: str
    active: bool
    paused_reason: str | None
    notify: str | None
    failures: int
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One try of one message to an endpoint, as its log keeps it."""

    id: int
    webhook_id: int
    message_id: str
    event: str
    attempt: int
    status_code: int | None
    ok: bool
    error: str | None
    at: datetime


def check_events(chosen: Iterable[str]) -> tuple[str, ...]:
    """The chosen events in their canonical order; Invalid when none or one is unknown."""
    names = {name.strip() for name in chosen if name.strip()}
    unknown = sorted(names - set(EVENTS))
    if unknown:
        raise Invalid("events", f"Unknown event {unknown[0]!r}; choose from {', '.join(EVENTS)}.")
    if not names:
        raise Invalid("events", "Choose at least one event.")
    return tuple(name for name in EVENTS if name in names)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_private_address(address: str) -> bool:
    """Whether an IP address is one a webhook must not reach by default: loopback, private,
    link-local (cloud metadata), unspecified, multicast or reserved; an IPv6 address that
    carries an IPv4 one (mapped, compatible, 6to4, NAT64) is judged by the IPv4 one.
    ValueError when `address` is not an IP address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        carried = ip.ipv4_mapped or ip.sixtofour
        if carried is None and (ip in _NAT64 or ip.packed[:12] == bytes(12)):
            carried = ipaddress.IPv4Address(ip.packed[12:])  # NAT64, or "::a.b.c.d"
        if carried is not None and not (ip.packed[:12] == bytes(12) and int(ip) <= 1):
            return is_private_address(str(carried))
    return not ip.is_global or ip.is_multicast


def numeric_ipv4(host: str) -> str | None:
    """The dotted address a host written the old numeric ways stands for, as resolvers read
    it (inet_aton): one to four parts, each decimal, octal (a leading 0) or hex (0x), the
    last filling the bytes left, as in "2130706433", "0x7f.1" or "0177.0.0.1"; None when
    the host is not such a number."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                value = int(part[2:] or "0", 16)
            elif len(part) > 1 and part.startswith("0"):
                value = int(part[1:], 8)
            else:
                value = int(part, 10) if part.isdigit() else -1
        except ValueError:
            return None
        if value < 0:
            return None
        values.append(value)
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (4 - len(leading)):
        return None
    number = sum(value << (8 * (3 - n)) for n, value in enumerate(leading)) + last
    return str(ipaddress.IPv4Address(number))


def check_url(url: str, *, allow_private: bool) -> str:
    """The endpoint's URL, trimmed; Invalid unless http(s) with a host, no user or password,
    and (unless `allow_private`) not a private address, however it is spelled, nor a local
    name. A name is also resolved when saved and again when connected to
    (`usecases/webhooks.py`, `usecases/webhook_client.py`)."""
    url = url.strip()
    if not url:
        raise Invalid("url", "Give the URL to deliver to.")
    if len(url) > URL_MAX:
        raise Invalid("url", f"The URL is longer than {URL_MAX} characters.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise Invalid("url", "The URL has spaces or control characters in it.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        raise Invalid("url", "That is not a URL.") from None
    if parts.scheme not in ("http", "https"):
        raise Invalid("url", "The URL must start with http:// or https://.")
    if not host:
        raise Invalid("url", "The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise Invalid("url", "Put no user name or password in the URL.")
    if allow_private:
        return url
    host = host.strip("[]").rstrip(".")  # "localhost." is localhost
    address = numeric_ipv4(host) or host
    try:
        private = is_private_address(address)
    except ValueError:
        private = None  # a name: its own rules below, and its addresses once it is resolved
    if private:
        raise Invalid("url", "The URL names a private or local address, which is refused.")
    if private is None and (
        host in _PRIVATE_NAMES or host.endswith(_PRIVATE_SUFFIXES) or "." not in host
    ):
        raise Invalid("url", "The URL names this host or a local network, which is refused.")
    return url


def comment_payload(comment: Comment, article: Article, *, comment_url: str) -> dict[str, Any]:
    """What a comment event says about the comment: no email, ever (the author's name and
    website are public on the page already). `comment_url` is a path on the site, made
    absolute at delivery, or the address of a page hosted elsewhere."""
    return {
        "comment": {
            "id": comment.id,
            "parent_id": comment.parent_id,
            "number": comment.number or None,
            "status": comment.status.value,
            "author_name": comment.author_name,
            "author_website": comment.author_website,
            "body_markdown": comment.body_markdown,
            "body_html": comment.body_html,
            "created_at": _iso(comment.created_at),
            "edited_at": _iso(comment.edited_at) if comment.edited_at else None,
            "url": comment_url,
        },
        "article": {
            "id": article.id,
            "slug": article.slug,
            "title": article.title,
            "page_id": article.page_id,
        },
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256, keyed by the secret, of "<timestamp>." followed by the body, in hex."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Rejoinder-Signature value: "t=<unix seconds>,v1=<hex>"."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """A receiver's check: the header's timestamp within `tolerance` seconds of `now` and one
    of its v1 signatures right (compared in constant time)."""
    fields = [part.partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in fields if key.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(
        hmac.compare_digest(value.strip(), expected) for key, _, value in fields if key == "v1"
    )


def should_pause(
    failures: int, failing_since: datetime | None, now: datetime, *, after: int, period: timedelta
) -> bool:
    """An endpoint is paused once `after` deliveries in a row have failed and the first of
    them is at least `period` old: one bad minute pauses nothing, a dead receiver does."""
    return failures >= after and failing_since is not None and now - failing_since >= period
