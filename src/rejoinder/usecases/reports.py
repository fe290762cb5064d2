"""Readers report comments: one report per reader, counted, and past a threshold queued or hidden.

Who may report, and how often:
- one report per reader per comment: the reader is a random id in a signed cookie, stored only
  as an HMAC (`reporter`; the table's UNIQUE(comment_id, reporter) holds it under any race);
- at most PER_ADDRESS_PER_COMMENT reports per (hashed) address per comment: readers behind one
  address (a household, an office) can each report, but clearing cookies again and again does
  not add reports without end;
- at most PER_ADDRESS_PER_HOUR reports per address in any hour, over all comments (429);
- and, over the addresses of one group, `budgets.REPORTS` (429).
An address is an IPv4 address or an IPv6 /64, a group an IPv4 /24 or IPv6 /48
(`core.addresses`): a reader cycling through the addresses of one line reports as one.

Each report adds one to the comment's `report_count` in the same transaction. At the site's
threshold (site setting "reports_to_queue", default 3) the comment is in the Reported queue
(the queue lists report_count >= threshold); if the site setting "hide_reported" is true, the
comment is also hidden from readers when its count crosses the threshold, until a moderator
reviews it. Every report and every hiding goes in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rejoinder.core import webhooks as webhook_rules
from rejoinder.core.errors import Conflict, Invalid, InvalidMany, NotFound, Refused
from rejoinder.core.messages import N_, Message
from rejoinder.core.models import Article, PublicComment, Status, count_change
from rejoinder.core.validation import clean_text
from rejoinder.events import COMMENT_EDITED, COMMENT_REPORTED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import reports as report_store
from rejoinder.store import sites as site_store
from rejoinder.store.budgets import Budgets
from rejoinder.store.database import Database
from rejoinder.usecases.budgets import REPORTS, take
from rejoinder.usecases.webhooks import comment_event

REASONS: dict[str, Message] = {
    "abuse": N_("Abuse or harassment"),
    "spam": N_("Spam or advertising"),
    "off-topic": N_("Off-topic"),
    "other": N_("Something else"),
}
TEXT_MAX = 500
PER_ADDRESS_PER_COMMENT = 3
PER_ADDRESS_PER_HOUR = 10
DEFAULT_THRESHOLD = 3
_HOUR = timedelta(hours=1)


class AlreadyReported(Conflict):
    """This reader (or this address, often enough) has reported the comment already."""

    code = "already_reported"


@dataclass(frozen=True)
class Reported:
    comment_id: int
    article: Article
    count: int
    queued: bool  # the count has reached the site's threshold
    hidden: bool  # this report hid the comment


@dataclass(frozen=True)
class ReportTarget:
    comment: PublicComment
    article: Article


def reporter_key(secret: str, reader_id: str) -> str:
    """The stored identity of a reader: an HMAC of the id in their cookie, never the id."""
    return hmac.new(secret.encode(), f"reader:{reader_id}".encode(), hashlib.sha256).hexdigest()


def site_rules(settings: dict[str, Any]) -> tuple[int, bool]:
    """(threshold, hide) from the site's settings; a bad stored value falls back to the default."""
    threshold = settings.get("reports_to_queue", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        threshold = DEFAULT_THRESHOLD
    return threshold, settings.get("hide_reported") is True


def check_report(reason: str, text: str) -> tuple[str, str]:
    """The reason and the text as stored, or the errors beside their fields."""
    errors: list[Invalid] = []
    reason = reason.strip()
    text = clean_text(text).strip()  # no control characters (PostgreSQL refuses NUL)
    if reason not in REASONS:
        errors.append(Invalid("reason", N_("Choose one of the reasons.")))
    if "\ufffd" in text:
        errors.append(
            Invalid(
                "text", N_("This text has bytes that are not valid UTF-8; please type it again.")
            )
        )
    elif len(text) > TEXT_MAX:
        errors.append(
            Invalid(
                "text",
                N_(
                    "The detail is {length} characters; at most {limit}, please.",
                    length=len(text),
                    limit=TEXT_MAX,
                ),
            )
        )
    if errors:
        raise InvalidMany(errors)
    return reason, text


def get_target(db: Database, comment_id: int) -> ReportTarget:
    """A comment readers can report: published and shown."""
    with db.read() as conn:
        comment = comment_store.get_public_comment(conn, comment_id)
        state = report_store.get_reportable(conn, comment_id) if comment else None
        if (
            comment is None
            or state is None
            or comment.status is not Status.PUBLISHED
            or state.hidden
        ):
            raise NotFound(N_("There is no such comment to report."))
        article = article_store.get_article_by_id(conn, comment.article_id)
    assert article is not None
    return ReportTarget(comment=comment, article=article)


def get_reported(db: Database, comment_id: int) -> tuple[Article, bool]:
    """For the thank-you page: the comment's article, and whether readers still see it."""
    with db.read() as conn:
        state = report_store.get_reportable(conn, comment_id)
        if state is None or state.status is not Status.PUBLISHED:
            raise NotFound(N_("There is no such comment."))
        article = article_store.get_article_by_id(conn, state.article_id)
    assert article is not None
    return article, not state.hidden


def has_reported(db: Database, comment_id: int, reporter: str) -> bool:
    with db.read() as conn:
        return report_store.has_reported(conn, comment_id, reporter)


def report_comment(
    db: Database,
    events: Events,
    *,
    comment_id: int,
    reason: str,
    text: str,
    reporter: str,
    ip_hash: str,
    group_hash: str,
    budgets: Budgets,
    now: datetime,
) -> Reported:
    """Store one reader's report and count it; hide the comment if the site says so."""
    reason, text = check_report(reason, text)
    try:
        return _report(
            db, events, comment_id, reason, text, reporter, (ip_hash, group_hash, budgets), now
        )
    except report_store.DuplicateReport:  # the same reader twice at once: the key keeps one
        raise AlreadyReported(
            N_("You have already reported this comment. Thank you: a moderator will look at it.")
        ) from None


def _report(
    db: Database,
    events: Events,
    comment_id: int,
    reason: str,
    text: str,
    reporter: str,
    network: tuple[str, str, Budgets],
    now: datetime,
) -> Reported:
    ip_hash, group_hash, budgets = network
    with db.write() as conn:
        state = report_store.get_reportable(conn, comment_id, lock=True)
        if state is None or state.status is not Status.PUBLISHED:
            raise NotFound(N_("There is no such comment to report."))
        if state.hidden:
            raise AlreadyReported(
                N_("This comment is already waiting for a moderator. Thank you all the same.")
            )
        if report_store.has_reported(conn, comment_id, reporter):
            raise AlreadyReported(
                N_(
                    "You have already reported this comment. "
                    "Thank you: a moderator will look at it."
                )
            )
        if report_store.count_from_address(conn, comment_id, ip_hash) >= PER_ADDRESS_PER_COMMENT:
            raise AlreadyReported(
                N_(
                    "This comment has already been reported from your network. "
                    "Thank you: a moderator will look at it."
                )
            )
        sent, oldest = report_store.recent_from_address(conn, ip_hash, now - _HOUR)
        if sent >= PER_ADDRESS_PER_HOUR:
            wait = (oldest + _HOUR - now) if oldest else _HOUR
            raise Refused(
                N_(
                    "You have sent {sent} reports in the last hour, the most we take. "
                    "Please try again later.",
                    sent=sent,
                ),
                field="reason",
                retry_after=max(1, int(wait.total_seconds()) + 1),
            )
        # Counted only for a report that is stored: "already reported" answers cost nothing.
        seconds = take(budgets, REPORTS, ip_hash, group_hash, now.timestamp())
        if seconds:
            raise Refused(
                N_(
                    "Many reports have come from your network in the last hour, the most we "
                    "take. Please try again later."
                ),
                field="reason",
                retry_after=seconds,
            )
        article = article_store.get_article_by_id(conn, state.article_id)
        assert article is not None
        threshold, hide = site_rules(site_store.get_site_settings(conn, article.site_id))
        count = report_store.add_report(
            conn,
            comment_id=comment_id,
            reason=reason,
            text=text,
            reporter=reporter,
            ip_hash=ip_hash,
            now=now,
        )
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind="reader",
            actor="reader",
            action="report",
            site_id=article.site_id,
            comment_id=comment_id,
            before=str(count - 1),
            after=str(count),
            data={"reason": reason, "count": count},
        )
        # Hidden when the count crosses the threshold: a comment a moderator reviewed and kept
        # is not hidden again by later reports unless the desk resets its count.
        hidden = hide and count - 1 < threshold <= count
        if hidden:
            report_store.hide_comment(conn, comment_id)
            shown = (Status.PUBLISHED, False)  # only a published, shown comment is reported
            delta = count_change(shown, (Status.PUBLISHED, True))
            article_store.touch_article(conn, article.id, delta, now)
            audit_store.add_entry(
                conn,
                at=now,
                actor_kind="system",
                actor="reports",
                action="hidden_by_reports",
                site_id=article.site_id,
                comment_id=comment_id,
                before="shown",
                after="hidden",
                data={"count": count, "threshold": threshold},
            )
            article = article_store.get_article_by_id(conn, article.id)
            comment = comment_store.get_comment(conn, comment_id)
            assert article is not None and comment is not None
        comment_event(
            conn,
            site_id=article.site_id,
            event=webhook_rules.REPORTED,
            comment_id=comment_id,
            now=now,
            article=article,
        )
    if hidden:
        events.fire(COMMENT_EDITED, comment=comment, article=article)
    events.fire(COMMENT_REPORTED, comment_id=comment_id, article=article)
    return Reported(
        comment_id=comment_id,
        article=article,
        count=count,
        queued=count >= threshold,
        hidden=hidden,
    )
