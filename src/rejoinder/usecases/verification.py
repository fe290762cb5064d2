"""Verified addresses: the signed, expiring link that confirms an address, and confirming
it (a POST from the page the link opens, so a mail scanner that fetches links confirms
nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeTimedSerializer

from rejoinder.core import webhooks as webhook_rules
from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Invalid
from rejoinder.core.messages import N_
from rejoinder.core.models import Article, Comment, Status
from rejoinder.core.moderation import Verdict
from rejoinder.events import COMMENT_POSTED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import desk as desk_store
from rejoinder.store import verification as verification_store
from rejoinder.store.database import Database
from rejoinder.usecases.webhooks import comment_event

if TYPE_CHECKING:
    from sqlalchemy import Connection

# How long a confirmation link works, counted from when its mail was made.
LINK_DAYS = 7
_SALT = "rejoinder.confirm-address"


def confirmation_token(secret: str, address: str, site_id: int, article_id: int | None) -> str:
    """The signed token of a confirmation link: the normalised address, the site, and the
    discussion it was asked from (the confirmed page leads back there)."""
    signer = URLSafeTimedSerializer(secret, salt=_SALT)
    return signer.dumps({"a": normal_address(address), "s": site_id, "r": article_id})


def read_confirmation_token(secret: str, token: str) -> tuple[str, int, int | None]:
    """(normalised address, site id, article id) of a valid, unexpired token; Invalid
    otherwise."""
    signer = URLSafeTimedSerializer(secret, salt=_SALT)
    try:
        data = signer.loads(token, max_age=LINK_DAYS * 24 * 3600)
    except BadSignature:
        raise Invalid(
            "token",
            N_("This confirmation link is not valid or has expired; post again to get a new one."),
        ) from None
    article = data.get("r")
    return str(data["a"]), int(data["s"]), int(article) if isinstance(article, int) else None


@dataclass(frozen=True)
class Confirmed:
    """An address just confirmed, and the discussion its confirmation was asked from."""

    address: str  # normal form
    site_id: int
    article: Article | None


def confirmation_details(db: Database, secret: str, token: str) -> Confirmed:
    """What a confirmation link is for, without confirming anything (the page a mail scanner
    may fetch); Invalid for a bad or expired link."""
    address, site_id, article_id = read_confirmation_token(secret, token)
    with db.read() as conn:
        article = article_store.get_article_by_id(conn, article_id) if article_id else None
    if article is not None and article.site_id != site_id:
        article = None
    return Confirmed(address=address, site_id=site_id, article=article)


def confirm_address(
    db: Database, events: Events, secret: str, token: str, now: datetime
) -> Confirmed:
    """Mark the link's address verified (again is fine); Invalid for a bad or expired link.

    The site's comments that waited for it take the verdict moderation gave them: published
    at their thread's next number, or handed to the desk's queue (a reply to a comment that
    is not published waits there too)."""
    confirmed = confirmation_details(db, secret, token)
    announced: list[tuple[Comment, Article]] = []
    with db.write() as conn:
        verification_store.mark_verified(conn, confirmed.address, now)
        for waiting in verification_store.awaiting_comments(
            conn, confirmed.site_id, confirmed.address
        ):
            after = Status.HELD
            if waiting.verdict == Verdict.PUBLISH.value and _parent_shown(conn, waiting):
                desk_store.lock_article_by_id(conn, waiting.article_id)
                number = comment_store.next_number(conn, waiting.article_id, waiting.parent_id)
                if not verification_store.publish_awaiting(conn, waiting.id, number):
                    continue  # no longer waiting (a moderator acted on it meanwhile)
                article_store.touch_article(conn, waiting.article_id, +1, now)
                after = Status.PUBLISHED
            elif not verification_store.hand_to_desk(conn, waiting.id):
                continue
            # The pipeline's verdict was recorded when it was posted; this is when it applied.
            audit_store.add_entry(
                conn,
                at=now,
                actor_kind="machine",
                actor="confirmation",
                action="address_confirmed",
                site_id=confirmed.site_id,
                comment_id=waiting.id,
                before=Status.HELD.value,
                after=after.value,
            )
            comment_event(
                conn,
                site_id=confirmed.site_id,
                event=webhook_rules.PUBLISHED if after is Status.PUBLISHED else webhook_rules.HELD,
                comment_id=waiting.id,
                now=now,
            )
            # Readers (published) or moderators (held) hear of each now, as of a new post:
            # its notices written with its release, the rest once it commits.
            comment = comment_store.get_comment(conn, waiting.id)
            article = article_store.get_article_by_id(conn, waiting.article_id)
            if comment is not None and article is not None:
                events.within(conn, COMMENT_POSTED, comment=comment, article=article, parent=None)
                announced.append((comment, article))
    for comment, article in announced:
        events.fire(COMMENT_POSTED, comment=comment, article=article)
    return confirmed


def _parent_shown(conn: Connection, waiting: verification_store.Awaiting) -> bool:
    if waiting.parent_id is None:
        return True
    parent = comment_store.get_comment(conn, waiting.parent_id)
    return parent is not None and parent.status is Status.PUBLISHED


def is_verified(db: Database, address: str) -> bool:
    with db.read() as conn:
        return verification_store.is_verified(conn, address)


def awaiting_among(db: Database, comment_ids: list[int]) -> frozenset[int]:
    """Those of the comments that wait for their writer to confirm the address."""
    with db.read() as conn:
        return frozenset(verification_store.awaiting_among(conn, comment_ids))
