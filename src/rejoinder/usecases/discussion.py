"""Use cases of the discussion: post, edit, delete, read a page. One transaction each."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rejoinder.core import discussion as rules
from rejoinder.core import webhooks as webhook_rules
from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Closed, Forbidden, Invalid, InvalidMany, NotFound, Refused
from rejoinder.core.messages import N_, Nn_
from rejoinder.core.models import (
    Article,
    CleanComment,
    Comment,
    CommentInput,
    Limits,
    PublicComment,
    Sort,
    Status,
    ThreadPage,
    count_change,
)
from rejoinder.core.moderation import Verdict, reasons_said
from rejoinder.core.text import render_comment
from rejoinder.core.threads import build_tree
from rejoinder.core.validation import check_body, validate_comment
from rejoinder.events import COMMENT_DELETED, COMMENT_EDITED, COMMENT_POSTED, Events
from rejoinder.metrics import count_comment
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import moderation as moderation_store
from rejoinder.store import notify as notify_store
from rejoinder.store import reports as report_store
from rejoinder.store import sites as site_store
from rejoinder.store import verification as verification_store
from rejoinder.store.database import Database
from rejoinder.usecases.mail import Mail
from rejoinder.usecases.moderation import (
    Judgement,
    Moderator,
    Screening,
    is_refused,
    reason_out,
    refusal,
)
from rejoinder.usecases.policy_schema import PolicyProblem, read_policy_settings
from rejoinder.usecases.webhooks import comment_event

if TYPE_CHECKING:
    from sqlalchemy import Connection


PINNED_MAX = 10  # pinned top-level comments shown first; more are a moderator's mistake


@dataclass(frozen=True)
class Posted:
    comment: Comment
    article: Article
    judgement: Judgement | None = None


def post_comment(
    db: Database,
    events: Events,
    *,
    site_id: int,
    slug: str,
    raw: CommentInput,
    limits: Limits,
    now: datetime,
    moderator: Moderator | None = None,
    screening: Screening = Screening(),
    mail: Mail | None = None,
) -> Posted:
    """Validate, judge, then store the comment with its number and count, all or nothing.

    Without `mail` (no SMTP host set) a request for reply notifications or to follow the
    discussion is ignored; with it, the address is asked to confirm itself (and a follow is
    recorded) in the same transaction as the comment.

    With a moderator, the pipeline runs before the write transaction (it reads history and
    scores the text: nothing to hold a lock for): a refusal is recorded and raised, a hold
    is stored unnumbered and uncounted, shown only to its writer.
    """
    try:
        clean = validate_comment(raw, limits)
    except InvalidMany:
        with db.read() as conn:  # a closed discussion says so rather than judge the fields
            _open_article(conn, site_id, slug, now)
        raise
    if mail is None and (clean.notify_replies or clean.follow):
        clean = replace(clean, notify_replies=False, follow=False)
    body_html = render_comment(clean.body)  # rendered once, here, never on a read
    with db.read() as conn:
        article = _open_article(conn, site_id, slug, now)
        _check_parent(conn, article, clean.parent_id)
    judgement = None
    status = Status.PUBLISHED
    if moderator is not None:
        judgement = moderator.judge(
            site_id=site_id, article=article, comment=clean, screening=screening, now=now
        )
        if is_refused(judgement):
            with db.write() as conn:
                refused_id = moderation_store.add_refused(
                    conn,
                    site_id=site_id,
                    article_id=article.id,
                    parent_id=clean.parent_id,
                    name=clean.name,
                    email=clean.email,
                    website=clean.website,
                    body=clean.body,
                    ip_hash=screening.ip_hash or None,
                    ip_group_hash=screening.ip_group_hash or None,
                    decision=json.loads(judgement.record()),
                    now=now,
                )
                _audit_verdict(
                    conn, site_id, None, judgement, now, clean.email, refused_id=refused_id
                )
            count_comment("refused")
            raise refusal(judgement)
        if judgement.decision.verdict is Verdict.HOLD:
            status = Status.HELD
    with db.write() as conn:
        article = _open_article(conn, site_id, slug, now, lock=True)
        parent = _check_parent(conn, article, clean.parent_id)
        # Unconfirmed where the site asks for a confirmed address: it waits, as held, for
        # the link mailed to it; moderation's verdict applies once it is followed.
        # Without mail (proven is None) nothing can be confirmed, and the rule is off.
        awaiting = (
            mail is not None
            and screening.proven is not None
            and not screening.vouches_for(clean.email)
            and _requires_verified(conn, site_id)
        )
        if awaiting:
            status = Status.HELD
        published = status is Status.PUBLISHED
        comment = comment_store.add_comment(
            conn,
            article_id=article.id,
            parent=parent,
            # A held comment gets its number when a moderator publishes it.
            number=comment_store.next_number(conn, article.id, clean.parent_id) if published else 0,
            name=clean.name,
            email=clean.email,
            website=clean.website,
            body_markdown=clean.body,
            body_html=body_html,
            status=status,
            created_at=now,
            notify_replies=clean.notify_replies,
            ip_hash=screening.ip_hash or None,
            ip_group_hash=screening.ip_group_hash or None,
            fingerprint=judgement.fingerprint if judgement else None,
            moderation=judgement.record() if judgement else _unjudged(status),
            awaiting_address=awaiting,
        )
        if published:
            article_store.touch_article(conn, article.id, +1, now)
        if judgement is not None:
            _audit_verdict(conn, site_id, comment.id, judgement, now, clean.email)
        # Told of new comments once the address is confirmed. A confirmed address follows
        # only from a browser that proves it: a stranger typing it subscribes nobody.
        if mail is not None and clean.follow and _may_subscribe(conn, screening, clean.email):
            notify_store.add_follow(
                conn,
                article_id=article.id,
                recipient=normal_address(clean.email),
                address=clean.email,
                now=now,
            )
        if mail is not None and (clean.notify_replies or clean.follow or awaiting):
            mail.ask_confirmation(
                conn,
                address=clean.email,
                name=clean.name,
                site_id=site_id,
                article_id=article.id,
                now=now,
                # A confirmed address on a browser without the proof: the link again.
                again=awaiting,
            )
        if not awaiting:  # one waiting for its address is told of once it is confirmed
            comment_event(
                conn,
                site_id=site_id,
                event=webhook_rules.PUBLISHED if published else webhook_rules.HELD,
                comment_id=comment.id,
                now=now,
                comment=comment,
                article=article,
            )
            # Reply notices are written with the reply (`Notifier`): no transaction of their
            # own after it, and none lost between the two.
            events.within(conn, COMMENT_POSTED, comment=comment, article=article, parent=parent)
    if moderator is not None:
        moderator.accepted(site_id, comment.id, screening, clean.email, now)
    count_comment("published" if published else "held")
    if not awaiting:  # nobody else may see it yet: announced when its address is confirmed
        events.fire(COMMENT_POSTED, comment=comment, article=article)
    return Posted(comment=comment, article=article, judgement=judgement)


def _may_subscribe(conn: Connection, screening: Screening, address: str) -> bool:
    """Whether a post may subscribe `address` to mail: it is not confirmed yet (its owner's
    confirmation will be asked), or this writer proves it is theirs."""
    return screening.vouches_for(address) or not verification_store.is_verified(conn, address)


def _audit_verdict(
    conn: Connection,
    site_id: int,
    comment_id: int | None,
    judgement: Judgement,
    now: datetime,
    email: str,
    refused_id: int | None = None,
    *,
    edit: bool = False,
) -> None:
    """Every automatic verdict goes in the audit log, with its reasons and scores; the reasons
    quote the text, so they are the entry's personal part, about the writer's address."""
    record = json.loads(judgement.record())
    audit_store.add_entry(
        conn,
        at=now,
        actor_kind="machine",
        actor="pipeline",
        action="verdict",
        site_id=site_id,
        comment_id=comment_id,
        after=judgement.decision.verdict.value,
        data={
            **({} if record["reasons"] else {"reasons": []}),  # an empty list quotes nothing
            "scores": record["scores"],
            **({"refused_id": refused_id} if refused_id else {}),
            **({"edit": True} if edit else {}),
        },
        personal=audit_store.Personal(
            person=normal_address(email),
            comment_id=comment_id,
            refused_id=refused_id,
            data={"reasons": record["reasons"]} if record["reasons"] else {},
        ),
    )


def _open_article(
    conn: Connection, site_id: int, slug: str, now: datetime, *, lock: bool = False
) -> Article:
    """The article, if its discussion takes comments now (`core.discussion`), whatever the
    moderation setting; Closed otherwise."""
    find = article_store.lock_article if lock else article_store.get_article
    article = find(conn, site_id, slug)
    if article is None:
        raise NotFound(N_("There is no such article."))
    _check_open(conn, article, now)
    return article


def _check_open(conn: Connection, article: Article, now: datetime) -> None:
    days = close_after_days_in(conn, article.site_id)
    state = rules.of_article(article, days, now)
    if not state.is_open:
        raise Closed(state.notice(days))


def close_after_days_in(conn: Connection, site_id: int) -> int | None:
    """The site's close_after_days (None when its stored policy cannot be read: the desk
    shows that problem, and readers are not refused for it)."""
    stored = site_store.get_site_settings(conn, site_id).get("policy", {})
    try:
        return read_policy_settings(stored).close_after_days
    except PolicyProblem:
        return None


def _requires_verified(conn: Connection, site_id: int) -> bool:
    """Whether the site asks for a confirmed address before a comment is published (False
    when its stored policy cannot be read: the desk shows that problem)."""
    stored = site_store.get_site_settings(conn, site_id).get("policy", {})
    try:
        return read_policy_settings(stored).require_verified
    except PolicyProblem:
        return False


def _unjudged(status: Status) -> str | None:
    """The record of a comment stored without the pipeline: none, except for one that waits
    for its address (its confirmation needs the verdict it would have had)."""
    return json.dumps({"verdict": Verdict.PUBLISH.value}) if status is Status.HELD else None


def close_after_days(db: Database, site_id: int) -> int | None:
    """The site's rule for closing discussions by age (days after publication), or None."""
    with db.read() as conn:
        return close_after_days_in(conn, site_id)


def _check_parent(conn: Connection, article: Article, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    parent = comment_store.get_comment(conn, parent_id)
    if parent is None or parent.status is not Status.PUBLISHED:
        raise Invalid("parent_id", N_("The comment you are replying to does not exist."))
    if parent.article_id != article.id:
        raise Invalid("parent_id", N_("The comment you are replying to is on another article."))
    return parent


def _own_comment(
    conn_comment: Comment | None, owned: frozenset[int], now: datetime, window: timedelta
) -> Comment:
    if conn_comment is None or conn_comment.status not in (Status.PUBLISHED, Status.HELD):
        raise NotFound(N_("There is no such comment."))
    if conn_comment.id not in owned:
        raise Forbidden(N_("Only the writer of a comment can change it, from the same browser."))
    if now - conn_comment.created_at > window:
        minutes = int(window.total_seconds() // 60)
        raise Forbidden(
            Nn_(
                "Comments can be changed for {n} minute after posting; that time has passed.",
                "Comments can be changed for {n} minutes after posting; that time has passed.",
                minutes,
            )
        )
    return conn_comment


def edit_comment(
    db: Database,
    events: Events,
    *,
    comment_id: int,
    body: str,
    owned: frozenset[int],
    limits: Limits,
    window: timedelta,
    now: datetime,
    moderator: Moderator | None = None,
) -> Comment:
    """The writer changes their own comment's text within the window; it shows "edited".

    With a moderator, the new text is judged as the post was (for what it says; see
    `Moderator.judge(edit=True)`): a refusal keeps the old text and says why; a hold takes a
    published comment off the page, at its number, until a moderator approves it. A comment
    that others have answered cannot be held (their replies would hang from nothing), so an
    edit that would be held is refused instead, with the same reasons.
    """
    clean_body = check_body(body, limits)
    body_html = render_comment(clean_body)
    judgement = None
    if moderator is not None:
        judgement = _judge_edit(db, moderator, comment_id, clean_body, owned, window, now)
    with db.write() as conn:
        comment = _own_comment(comment_store.get_comment(conn, comment_id), owned, now, window)
        article = article_store.get_article_by_id(conn, comment.article_id)
        assert article is not None
        _check_open(conn, article, now)  # an edit is a new text: not once comments closed
        held = judgement is not None and judgement.decision.verdict is Verdict.HOLD
        hidden = _hidden_by_reports(conn, comment)
        after = Status.HELD if held else comment.status
        delta = count_change((comment.status, hidden), (after, hidden))
        comment_store.update_body(
            conn,
            comment.id,
            clean_body,
            body_html,
            now,
            status=Status.HELD if held else None,
            moderation=judgement.record() if judgement is not None else None,
        )
        article_store.touch_article(conn, comment.article_id, delta, now)
        if judgement is not None:
            _audit_verdict(
                conn, article.site_id, comment.id, judgement, now, comment.author_email, edit=True
            )
        edited = comment_store.get_comment(conn, comment.id)
    assert edited is not None
    events.fire(COMMENT_EDITED, comment=edited, article=article)
    return edited


def _judge_edit(
    db: Database,
    moderator: Moderator,
    comment_id: int,
    body: str,
    owned: frozenset[int],
    window: timedelta,
    now: datetime,
) -> Judgement:
    with db.read() as conn:
        comment = _own_comment(comment_store.get_comment(conn, comment_id), owned, now, window)
        article = article_store.get_article_by_id(conn, comment.article_id)
        answered = comment_store.has_shown_replies(conn, comment.id)
    assert article is not None
    clean = CleanComment(
        body=body,
        name=comment.author_name,
        email=comment.author_email,
        website=comment.author_website,
        parent_id=comment.parent_id,
        notify_replies=comment.notify_replies,
    )
    judgement = moderator.judge(
        site_id=article.site_id,
        article=article,
        comment=clean,
        screening=Screening(),
        now=now,
        edit=True,
    )
    verdict = judgement.decision.verdict
    if is_refused(judgement) or (verdict is Verdict.HOLD and answered):
        with db.write() as conn:
            _audit_verdict(
                conn, article.site_id, comment.id, judgement, now, comment.author_email, edit=True
            )
        if verdict is Verdict.HOLD:
            raise Refused(
                N_(
                    "Your edit was not saved because {because}, and a comment others have "
                    "replied to cannot wait for a moderator. Revise it, or leave it as it was.",
                    because=reasons_said(judgement.decision.reasons),
                ),
                reasons=tuple(reason_out(r) for r in judgement.decision.reasons),
            )
        raise refusal(judgement, edit=True)
    return judgement


def _hidden_by_reports(conn: Connection, comment: Comment) -> bool:
    """Whether readers' reports hid the comment (only a published one can be hidden)."""
    if comment.status is not Status.PUBLISHED:
        return False
    state = report_store.get_reportable(conn, comment.id)
    return bool(state and state.hidden)


def delete_comment(
    db: Database,
    events: Events,
    *,
    comment_id: int,
    owned: frozenset[int],
    window: timedelta,
    now: datetime,
) -> Article:
    """The writer removes their comment; with replies under it, "[deleted]" keeps its place."""
    with db.write() as conn:
        comment = _own_comment(comment_store.get_comment(conn, comment_id), owned, now, window)
        keeps_place = comment_store.has_shown_replies(conn, comment.id)
        status = Status.DELETED if keeps_place else Status.WITHDRAWN
        hidden = _hidden_by_reports(conn, comment)
        comment_store.erase_comment(conn, comment.id, status, now)
        delta = count_change((comment.status, hidden), (status, hidden))
        article_store.touch_article(conn, comment.article_id, delta, now)
        article = article_store.get_article_by_id(conn, comment.article_id)
        assert article is not None
        comment_event(
            conn,
            site_id=article.site_id,
            event=webhook_rules.DELETED,
            comment_id=comment.id,
            now=now,
            article=article,
        )
    events.fire(COMMENT_DELETED, comment_id=comment.id, article=article)
    return article


def read_thread_page(
    db: Database,
    *,
    site_id: int,
    slug: str,
    sort: Sort,
    cursor: int | None,
    page_size: int,
    max_level: int,
) -> tuple[Article, ThreadPage]:
    """The article and one page of its top-level comments with all their replies; the first
    page starts with the pinned ones (at most PINNED_MAX), which later pages leave out.

    Four queries whatever the thread's size: the article, the page of top-level comments
    (the pinned ones and the others, in one statement), their replies, and the number of
    top-level comments.
    """
    with db.read() as conn:
        article = article_store.get_article(conn, site_id, slug)
        if article is None:
            raise NotFound(N_("There is no such article."))
        pinned, roots = comment_store.list_top_level(
            conn,
            article.id,
            sort=sort,
            after=cursor,
            limit=page_size + 1,
            pinned_limit=PINNED_MAX if cursor is None else 0,
        )
        more = len(roots) > page_size
        roots = roots[:page_size]
        shown = pinned + roots
        replies = comment_store.list_replies(conn, [root.id for root in shown])
        total = comment_store.count_top_level(conn, article.id)
    nodes = build_tree(shown, replies, max_level=max_level)
    next_cursor = roots[-1].number if more and roots else None
    return article, ThreadPage(nodes=nodes, next_cursor=next_cursor, top_level_total=total)


def get_article(db: Database, site_id: int, slug: str) -> Article:
    with db.read() as conn:
        article = article_store.get_article(conn, site_id, slug)
    if article is None:
        raise NotFound(N_("There is no such article."))
    return article


def get_article_by_id(db: Database, article_id: int, *, site_id: int | None = None) -> Article:
    """The article with that id; when `site_id` is given, only if it is that site's (another
    site's discussion is not there on this site's addresses)."""
    with db.read() as conn:
        article = article_store.get_article_by_id(conn, article_id)
    if article is None or (site_id is not None and article.site_id != site_id):
        raise NotFound(N_("There is no such article."))
    return article


def article_version(db: Database, site_id: int, slug: str) -> int | None:
    """The article's version: it changes with every change to the article or its comments."""
    with db.read() as conn:
        return article_store.get_article_version(conn, site_id, slug)


def public_view(comment: Comment) -> PublicComment:
    """What readers may see of a comment this process has just written (no query)."""
    return PublicComment(
        id=comment.id,
        article_id=comment.article_id,
        parent_id=comment.parent_id,
        depth=comment.depth,
        number=comment.number,
        author_name=comment.author_name,
        author_website=comment.author_website,
        body_html=comment.body_html,
        status=comment.status,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        imported=comment.imported,
    )


def get_public_comment(db: Database, comment_id: int) -> PublicComment:
    with db.read() as conn:
        comment = comment_store.get_public_comment(conn, comment_id)
    if comment is None:
        raise NotFound(N_("There is no such comment."))
    return comment


def list_own_held(db: Database, article_id: int, owned: frozenset[int]) -> list[PublicComment]:
    """This browser's comments on the article that wait for a moderator (shown to it alone)."""
    with db.read() as conn:
        return comment_store.list_held_among(conn, article_id, sorted(owned))


def find_reply_target(db: Database, article_id: int, comment_id: int) -> PublicComment | None:
    """The published comment on this article a reader wants to reply to, if there is one."""
    with db.read() as conn:
        comment = comment_store.get_public_comment(conn, comment_id)
    if (
        comment is None
        or comment.article_id != article_id
        or comment.status is not Status.PUBLISHED
    ):
        return None
    return comment


def root_number(db: Database, comment: Comment) -> int:
    """The number of the top-level comment whose branch holds `comment`."""
    if comment.root_id is None:
        return comment.number
    with db.read() as conn:
        root = comment_store.get_public_comment(conn, comment.root_id)
    return root.number if root else 1


@dataclass(frozen=True)
class OwnComment:
    comment: Comment
    article: Article
    has_replies: bool


def get_own_comment(db: Database, comment_id: int) -> OwnComment:
    """A comment with its private fields, for its writer's edit form."""
    with db.read() as conn:
        comment = comment_store.get_comment(conn, comment_id)
        if comment is None or comment.status not in (Status.PUBLISHED, Status.HELD):
            raise NotFound(N_("There is no such comment."))
        article = article_store.get_article_by_id(conn, comment.article_id)
        has_replies = comment_store.has_shown_replies(conn, comment.id)
    assert article is not None
    return OwnComment(comment=comment, article=article, has_replies=has_replies)
