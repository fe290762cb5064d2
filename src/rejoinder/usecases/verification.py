"""Verified addresses: the signed, expiring link that confirms an address, and confirming
it (a POST from the page the link opens, so a mail scanner that fetches links confirms
nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer

from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Invalid
from rejoinder.core.messages import N_
from rejoinder.core.models import Article
from rejoinder.store import articles as article_store
from rejoinder.store import verification as verification_store
from rejoinder.store.database import Database

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


def confirm_address(db: Database, secret: str, token: str, now: datetime) -> Confirmed:
    """Mark the link's address verified (again is fine); Invalid for a bad or expired link."""
    confirmed = confirmation_details(db, secret, token)
    with db.write() as conn:
        verification_store.mark_verified(conn, confirmed.address, now)
    return confirmed


def is_verified(db: Database, address: str) -> bool:
    with db.read() as conn:
        return verification_store.is_verified(conn, address)
