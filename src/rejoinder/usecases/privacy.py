"""A reader's rights over what is held about their address: a signed link mailed to it (the
same answer whether or not anything is held, and mail only where something is), the export
of everything held, and erasure; the same for staff (the desk, the CLI), audited; and the
retention period's purge.

An erasure's audit entry names no one: it says who erased, when, and how many rows went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Invalid
from rejoinder.core.messages import N_
from rejoinder.core.models import Limits, Site, site_url
from rejoinder.core.privacy import Erased, ErasureMode
from rejoinder.core.validation import check_email
from rejoinder.events import COMMENT_DELETED, COMMENT_EDITED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import outbox as outbox_store
from rejoinder.store import privacy as privacy_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.usecases.mail import MAIL, Mail

PRIVACY = "privacy"  # the mail's template and topic
LINK_HOURS = 24  # how long a link to one's data works
# A second request for the same address within this time mails nothing more.
ASK_AGAIN_AFTER = timedelta(minutes=10)
_SALT = "rejoinder.privacy"


def privacy_token(secret: str, address: str, site_id: int) -> str:
    """The signed token of the link mailed to `address`: the address in its normal form and
    the site it was asked on (whose pages the link opens)."""
    signer = URLSafeTimedSerializer(secret, salt=_SALT)
    return signer.dumps({"a": normal_address(address), "s": site_id})


def read_privacy_token(secret: str, token: str) -> tuple[str, int]:
    """(address, site id) of a valid, unexpired token; Invalid otherwise."""
    signer = URLSafeTimedSerializer(secret, salt=_SALT)
    try:
        data = signer.loads(token, max_age=LINK_HOURS * 3600)
    except BadSignature:
        raise Invalid(
            "token",
            N_("This link is not valid or has expired; ask for a new one on the privacy page."),
        ) from None
    return str(data["a"]), int(data["s"])


def ask_for_link(db: Database, mail: Mail, *, address: str, site_id: int, now: datetime) -> None:
    """Mail a link to the address's data, if anything is held about it and no link went to
    it within ASK_AGAIN_AFTER. The caller says the same thing whatever happened: whether an
    address is known is not told to whoever types it."""
    typed = check_email(address, Limits())
    key = normal_address(typed)
    with db.write() as conn:
        if not privacy_store.holds_anything(conn, key):
            return
        if outbox_store.sent_recently(
            conn, kind=MAIL, recipient=key, topic=PRIVACY, since=now - ASK_AGAIN_AFTER
        ):
            return
        mail.enqueue(
            conn, to=typed, template=PRIVACY, topic=PRIVACY, site_id=site_id, values={}, now=now
        )


def check_address(address: str) -> str:
    """The address staff typed, in its normal form; Invalid("email") if it is not one."""
    return normal_address(check_email(address, Limits()))


def _discussion_url(site: Site | None, base_url: str, slug: str, page_url: str | None) -> str:
    if page_url:
        return page_url
    if site is None:
        return f"/articles/{slug}"
    return site_url(site, f"/articles/{slug}", base_url)


def export_data(db: Database, address: str, *, base_url: str, now: datetime) -> dict[str, Any]:
    """Everything held about the address, as JSON-ready values, read in one transaction."""
    key = normal_address(address)
    with db.read() as conn:
        sites = {site.id: site for site in site_store.list_sites(conn)}
        held = privacy_store.comments_of(conn, key)
        rows = privacy_store.rows_of(conn, key)
    comments = []
    for comment in held:
        site = sites.get(comment.site_id)
        comments.append(
            {
                **comment.values,
                "site": site.name if site else None,
                "discussion": comment.article_title,
                "discussion_url": _discussion_url(site, base_url, comment.slug, comment.page_url),
            }
        )
    return {
        "address": key,
        "exported_at": now.isoformat().replace("+00:00", "Z"),
        "comments": comments,
        "refused_submissions": rows["refused"],
        "verified_addresses": rows["verified_addresses"],
        "mail": rows["outbox"],
        "audit_entries": rows["audit_personal"],
        **{
            name: value
            for name, value in rows.items()
            if name not in ("refused", "verified_addresses", "outbox", "audit_personal")
        },
    }


def staff_export(
    db: Database,
    address: str,
    *,
    actor_kind: str,
    actor: str,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    """`export_data` for staff (the desk, the CLI): audited, without naming whose."""
    data = export_data(db, address, base_url=base_url, now=now)
    with db.write() as conn:
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor_kind,
            actor=actor,
            action="privacy_export",
            data={"comments": len(data["comments"])},
        )
    return data


def erase(
    db: Database,
    events: Events,
    *,
    address: str,
    mode: ErasureMode,
    actor_kind: str,
    actor: str,
    now: datetime,
) -> Erased:
    """Erase what is held about the address (see `store.privacy.erase_person`), with one audit
    entry that names who erased and how much, never whose."""
    key = normal_address(address)
    with db.write() as conn:
        erased, changed = privacy_store.erase_person(
            conn, key, anonymise=mode is ErasureMode.ANONYMISE, now=now
        )
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor_kind,
            actor=actor,
            action="erasure",
            after=mode.value,
            data=erased.counts(),
        )
    privacy_store.flush(db)
    for change in changed:
        with db.read() as conn:
            article = article_store.get_article_by_id(conn, change.article_id)
            comment = comment_store.get_comment(conn, change.id)
        if article is None or comment is None:
            continue
        if change.removed:
            events.fire(COMMENT_DELETED, comment_id=change.id, article=article)
        else:
            events.fire(COMMENT_EDITED, comment=comment, article=article)
    return erased


@dataclass(frozen=True)
class Purged:
    comments: int
    refused: int
    audit_personal: int


def purge(db: Database, *, now: datetime, retention_days: int) -> Purged:
    """The retention period: held and rejected comments and refused submissions older than
    it lose their personal data (audited, with counts), in one transaction."""
    with db.write() as conn:
        counts = privacy_store.purge_expired(conn, now - timedelta(days=retention_days))
        if any(counts.values()):
            audit_store.add_entry(
                conn,
                at=now,
                actor_kind="system",
                actor="retention",
                action="retention_purge",
                data={**counts, "retention_days": retention_days},
            )
    if any(counts.values()):
        privacy_store.flush(db)
    return Purged(**counts)
