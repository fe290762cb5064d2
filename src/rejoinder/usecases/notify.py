"""Telling people by mail: readers of the replies to their comments, moderators of what waits
for them. Both go through the outbox (`usecases/mail.py`).

A reader who ticked "Notify me of replies" hears of a reply once it is published (posted
published, approved at the desk, or released by its writer's confirmation), never of a held
or refused one, never of their own, and only at a confirmed address; one who ticked "Email
me about every new comment" hears so of every comment the discussion publishes. They are
gathered per reader and discussion for the digest interval after the first, then sent as one
mail with a one-click unsubscribe (RFC 8058) for the discussion and one for the whole site.

A staff member chooses per site: no alerts, each held or much-reported comment at once, or an
hourly or daily digest of them.

A reply's notices are written in the transaction that publishes it (they listen to its event
`within` it: posted, or released by its writer's confirmation), so a reply and its notices
are stored together or not at all; a comment approved at the desk gets its in a transaction
of its own right after. They are made into mail by `flush_due`, which the outbox's sender
calls every 15 seconds: a group's notices are taken (deleted) and its mail is added in one
transaction, so two senders never send one notice twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeSerializer

from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Invalid, InvalidMany
from rejoinder.core.messages import N_
from rejoinder.core.models import Article, Comment, Limits, Status
from rejoinder.core.validation import check_email
from rejoinder.events import COMMENT_APPROVED, COMMENT_POSTED, COMMENT_REPORTED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store
from rejoinder.store import notify as notify_store
from rejoinder.store import reports as report_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.notify import EVERY_DISCUSSION as EVERY_DISCUSSION
from rejoinder.store.notify import AlertChoice as AlertChoice
from rejoinder.store.notify import Group
from rejoinder.usecases.mail import Mail
from rejoinder.usecases.reports import site_rules

if TYPE_CHECKING:
    from sqlalchemy import Connection


REPLIES = "replies"  # the reply notification's template and topic
ALERTS = "alerts"  # the moderators' alert's template and topic
# A staff member's choices, and how long each gathers alerts before they are sent.
FREQUENCIES: dict[str, timedelta | None] = {
    "off": None,
    "immediately": timedelta(0),
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
}
BATCH = 50  # groups made into mail per transaction
EXCERPT_MAX = 300  # characters of a comment quoted in a mail
_SALT = "rejoinder.unsubscribe"

Clock = Callable[[], datetime]


def excerpt(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= EXCERPT_MAX else words[: EXCERPT_MAX - 1].rstrip() + "…"


def unsubscribe_token(secret: str, recipient: int, site_id: int, article_id: int) -> str:
    """The signed token of an unsubscribe link: the address's opaque number (never the
    address), the site, and the discussion (`EVERY_DISCUSSION` for all of the site's)."""
    signer = URLSafeSerializer(secret, salt=_SALT)
    return str(signer.dumps({"r": recipient, "s": site_id, "t": article_id}))


@dataclass(frozen=True)
class Unsubscription:
    site_id: int
    article: Article | None  # None: every discussion of the site
    recipient: int


def unsubscription(db: Database, secret: str, token: str) -> Unsubscription:
    """What an unsubscribe link is for, changing nothing (a GET); Invalid for a bad link."""
    signer = URLSafeSerializer(secret, salt=_SALT)
    try:
        data = signer.loads(token)
        recipient, site_id, article_id = int(data["r"]), int(data["s"]), int(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Invalid("token", N_("This unsubscribe link is not valid.")) from None
    with db.read() as conn:
        if notify_store.recipient_address(conn, recipient) is None:
            raise Invalid("token", N_("This unsubscribe link is not valid."))
        article = article_store.get_article_by_id(conn, article_id) if article_id else None
    if article_id and (article is None or article.site_id != site_id):
        raise Invalid("token", N_("This unsubscribe link is not valid."))
    return Unsubscription(site_id=site_id, article=article, recipient=recipient)


def unsubscribe(db: Database, secret: str, token: str, now: datetime) -> Unsubscription:
    """No more reply notifications for the link's discussion (or site); the replies already
    gathered for it are dropped too. Again is fine."""
    found = unsubscription(db, secret, token)
    article_id = found.article.id if found.article else EVERY_DISCUSSION
    with db.write() as conn:
        notify_store.opt_out(
            conn, recipient=found.recipient, site_id=found.site_id, article_id=article_id, now=now
        )
    return found


def _reply_topic(article_id: int) -> str:
    return f"{REPLIES}:{article_id}"


def _alert_topic(user_id: int) -> str:
    return f"{ALERTS}:{user_id}"


class Notifier:
    """Listens to the comment events and writes notices; `flush_due` makes due ones mail."""

    def __init__(self, db: Database, mail: Mail, *, digest_minutes: int, clock: Clock) -> None:
        self._db = db
        self._mail = mail
        self._digest = timedelta(minutes=digest_minutes)
        self._clock = clock

    def connect(self, events: Events) -> None:
        events.connect_within(COMMENT_POSTED, self._posted_within)
        events.connect(COMMENT_POSTED, self._posted)
        events.connect(COMMENT_APPROVED, self._approved)
        events.connect(COMMENT_REPORTED, self._reported)

    def _posted_within(
        self,
        _name: str,
        *,
        conn: Connection,
        comment: Comment,
        article: Article,
        parent: Comment | None,
    ) -> None:
        # A published comment's notices are written in its own transaction.
        if comment.status is Status.PUBLISHED:
            wanted = self._wanted(conn, comment, article, parent)
            self._reply_notices(conn, comment, article, wanted, self._clock())

    def _posted(self, _name: str, *, comment: Comment, article: Article) -> None:
        if comment.status is Status.HELD:
            self.alert(article.site_id, comment.id, "held")

    def _approved(self, _name: str, *, comment: Comment, article: Article) -> None:
        if comment.status is Status.PUBLISHED:
            self.reply_published(comment, article)

    def _reported(self, _name: str, *, comment_id: int, article: Article) -> None:
        with self._db.read() as conn:
            state = report_store.get_reportable(conn, comment_id)
            threshold, _hide = site_rules(site_store.get_site_settings(conn, article.site_id))
        # The report that reached the threshold put the comment in the Reported queue.
        if state is not None and state.report_count == threshold:
            self.alert(article.site_id, comment_id, "reported")

    def reply_published(self, comment: Comment, article: Article) -> None:
        """A comment published after it was written (approved at the desk): its notices, in
        a transaction of their own; who wants them is read first, since most comments notify
        nobody and need no write."""
        with self._db.read() as conn:
            wanted = self._wanted(conn, comment, article, None)
        if wanted:
            with self._db.write() as conn:
                self._reply_notices(conn, comment, article, wanted, self._clock())

    def _reply_notices(
        self,
        conn: Connection,
        comment: Comment,
        article: Article,
        wanted: dict[str, tuple[str, str]],
        now: datetime,
    ) -> None:
        """In a write's transaction: a notice about the published comment to each reader
        `_wanted` found."""
        for recipient, (address, reason) in wanted.items():
            self._notice(
                conn,
                Group(article.site_id, _reply_topic(article.id), recipient),
                address=address,
                comment_id=comment.id,
                reason=reason,
                wait=self._digest,
                now=now,
            )

    def _wanted(
        self, conn: Connection, comment: Comment, article: Article, parent: Comment | None
    ) -> dict[str, tuple[str, str]]:
        """Who hears of the published comment, by normal address: (address as typed,
        reason). The writer of the comment it answers, if they asked, and each reader who
        follows the discussion; only at confirmed addresses that did not unsubscribe, never
        its own writer. `parent` as the caller read it (None: read here, when it has one)."""
        wanted: dict[str, tuple[str, str]] = {}
        if comment.parent_id is not None:
            if parent is None or parent.id != comment.parent_id:
                parent = comment_store.get_comment(conn, comment.parent_id)
            asked = parent is not None and parent.notify_replies
            if parent is not None and asked and parent.status is Status.PUBLISHED:
                wanted[normal_address(parent.author_email)] = (parent.author_email, "reply")
        for recipient, address in notify_store.followers(conn, article.id):
            wanted.setdefault(recipient, (address, "follow"))
        wanted.pop(normal_address(comment.author_email), None)
        wanted.pop("", None)
        if not wanted:
            return wanted
        # An unconfirmed address is sent its confirmation only.
        reachable = notify_store.reachable(
            conn, list(wanted), site_id=article.site_id, article_id=article.id
        )
        return {recipient: found for recipient, found in wanted.items() if recipient in reachable}

    def alert(self, site_id: int, comment_id: int, reason: str) -> None:
        """A comment waits for a moderator: a notice to each staff member who wants alerts
        (a write only when someone does)."""
        with self._db.read() as conn:
            wanted = notify_store.alert_choices(conn, site_id)
        if not wanted:
            return
        now = self._clock()
        with self._db.write() as conn:
            for choice in wanted:
                wait = FREQUENCIES.get(choice.frequency)
                if wait is None:
                    continue
                self._notice(
                    conn,
                    Group(site_id, _alert_topic(choice.user_id), normal_address(choice.address)),
                    address=choice.address,
                    comment_id=comment_id,
                    reason=reason,
                    wait=wait,
                    now=now,
                )

    def _notice(
        self,
        conn: Connection,
        group: Group,
        *,
        address: str,
        comment_id: int,
        reason: str,
        wait: timedelta,
        now: datetime,
    ) -> None:
        notify_store.add_notice(
            conn,
            site_id=group.site_id,
            topic=group.topic,
            recipient=group.recipient,
            address=address,
            comment_id=comment_id,
            reason=reason,
            due_at=now + wait,
            now=now,
        )
        if not wait:  # at once: the mail in this same transaction
            self._flush_group(conn, group, now)

    def flush_due(self, now: datetime | None = None) -> int:
        """Make every due group into its mail; how many mails were added."""
        now = now or self._clock()
        with self._db.read() as conn:  # most polls find nothing: no writers' lock for that
            if not notify_store.due_groups(conn, now, 1):
                return 0
        added = 0
        while True:  # a batch per transaction, so that none holds the writers' lock long
            with self._db.write() as conn:
                groups = notify_store.due_groups(conn, now, BATCH)
                for group in groups:
                    added += self._flush_group(conn, group, now)
            if len(groups) < BATCH:
                return added

    def _flush_group(self, conn: Connection, group: Group, now: datetime) -> int:
        listed = notify_store.group_notices(conn, group)
        # Only what this transaction took: another worker sends what it took first.
        taken = notify_store.take_notices(conn, [n.id for n in listed])
        found = [n for n in listed if n.id in taken]
        if not found:
            return 0
        kind, _, key = group.topic.partition(":")
        ids = sorted({n.comment_id for n in found})
        comments = {c.id: c for c in comment_store.get_comments_by_ids(conn, ids)}
        values: dict[str, Any]
        if kind == REPLIES:
            article = article_store.get_article_by_id(conn, int(key))
            shown = [comments[i] for i in ids if i in comments and _still_shown(comments[i])]
            if article is None or not shown:
                return 0  # withdrawn or taken down meanwhile: nothing to tell
            if notify_store.opted_out(
                conn, address=group.recipient, site_id=group.site_id, article_id=article.id
            ):
                return 0  # unsubscribed while they were gathered
            reasons = {n.comment_id: n.reason for n in found}
            values = {
                "article_id": article.id,
                "article_title": article.title,
                "slug": article.slug,
                "page_url": article.page_url,
                "recipient": notify_store.recipient_id(conn, group.recipient, now),
                "replies": [{**_quoted(c), "reason": reasons[c.id]} for c in shown],
                # Not only replies to the reader: they follow the discussion.
                "followed": any(reasons[c.id] == "follow" for c in shown),
            }
        else:
            choice = notify_store.get_alert_choice(conn, int(key), group.site_id)
            if choice is None or FREQUENCIES.get(choice.frequency) is None:
                return 0  # switched off meanwhile
            reasons = {n.comment_id: n.reason for n in found}
            items = []
            for comment_id in ids:
                comment = comments.get(comment_id)
                if comment is None:
                    continue
                article = article_store.get_article_by_id(conn, comment.article_id)
                items.append(
                    {
                        **_quoted(comment),
                        "reason": reasons[comment_id],
                        "article_title": article.title if article else "",
                    }
                )
            if not items:
                return 0
            values = {"user_id": int(key), "items": items}
        self._mail.enqueue(
            conn,
            to=found[-1].address,
            template=kind,
            topic=kind,
            site_id=group.site_id,
            values=values,
            now=now,
        )
        return 1


def _still_shown(comment: Comment) -> bool:
    return comment.status is Status.PUBLISHED


def _quoted(comment: Comment) -> dict[str, Any]:
    """A comment as a mail quotes it: its writer's name and text, never their address."""
    return {"id": comment.id, "name": comment.author_name, "text": excerpt(comment.body_markdown)}


def pending_notices(db: Database) -> list[notify_store.Notice]:
    with db.read() as conn:
        return notify_store.pending_notices(conn)


def alert_choice(db: Database, *, user_id: int, site_id: int) -> AlertChoice:
    """The staff member's alert choice on the site (off when never chosen)."""
    with db.read() as conn:
        found = notify_store.get_alert_choice(conn, user_id, site_id)
    return found or AlertChoice(user_id, site_id, "off", "")


def save_alert_choice(
    db: Database,
    *,
    user_id: int,
    site_id: int,
    frequency: str,
    address: str,
    limits: Limits,
    now: datetime,
) -> AlertChoice:
    """Validate and store the choice; every field's problem at once."""
    errors: list[Invalid] = []
    frequency = frequency.strip()
    if frequency not in FREQUENCIES:
        errors.append(Invalid("frequency", "Choose off, immediately, hourly or daily."))
    address = address.strip()
    if address or frequency not in ("off", ""):
        try:
            address = check_email(address, limits)
        except Invalid as error:
            errors.append(Invalid("address", error.message))
    if errors:
        raise InvalidMany(errors)
    with db.write() as conn:
        notify_store.set_alert_choice(
            conn,
            user_id=user_id,
            site_id=site_id,
            frequency=frequency,
            address=address,
            now=now,
        )
    return AlertChoice(user_id, site_id, frequency, address)
