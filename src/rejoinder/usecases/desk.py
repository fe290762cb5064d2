"""Use cases of the moderators' desk: read a queue, approve, reject, edit, feature, pin,
ban; close and reopen a discussion.

Every action is one transaction: a conditional transition (the second moderator to act on a
comment finds it already handled and changes nothing), the article's version and count, and
an audit entry with who, what, before -> after and the note. Events fire after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

from rejoinder.core import discussion as rules
from rejoinder.core import webhooks as webhook_rules
from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Conflict, Invalid, NotFound
from rejoinder.core.models import (
    QUEUE_TABS,
    Article,
    Limits,
    QueueFilters,
    Status,
    count_change,
)
from rejoinder.core.moderation import Ban, BanKind
from rejoinder.core.text import render_comment
from rejoinder.core.validation import check_body, clean_text
from rejoinder.events import (
    COMMENT_APPROVED,
    COMMENT_DELETED,
    COMMENT_EDITED,
    DISCUSSION_CHANGED,
    Events,
)
from rejoinder.store import articles as article_store
from rejoinder.store import audit as audit_store
from rejoinder.store import comments as comment_store
from rejoinder.store import desk as desk_store
from rejoinder.store import moderation as moderation_store
from rejoinder.store import verification as verification_store
from rejoinder.store.database import Database
from rejoinder.store.desk import DeskItem, Parent
from rejoinder.usecases.discussion import close_after_days_in
from rejoinder.usecases.webhooks import comment_event

RECENT_DAYS = 7  # "Recently published" covers this many days
NOTE_MAX = 1000
ACTIONS = ("approve", "reject", "edit", "feature", "unfeature", "pin", "unpin", "ban")
BULK_ACTIONS = ("approve", "reject")
BAN_KINDS = {
    "email": BanKind.EMAIL,
    "email_domain": BanKind.EMAIL_DOMAIN,
    "ip_group": BanKind.IP_GROUP,
    "name": BanKind.NAME,
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a person at the desk ("user") or a script with a token ("token")."""

    kind: str
    name: str


@dataclass(frozen=True)
class Reason:
    message: str
    code: str
    action: str


@dataclass(frozen=True)
class Shown:
    """A queue item ready to show: the stored item and what is worked out for the page."""

    item: DeskItem
    text_html: Markup  # the raw text, escaped, with the triggering spans in <mark>
    marked: tuple[str, ...]
    reasons: tuple[Reason, ...]
    scores: tuple[tuple[str, float], ...]
    verdict: str
    parent: Parent | None
    history: dict[str, int] | None
    model_version: int | None = None  # the site's model version that scored it; None: shipped
    verified: bool = False  # its address was confirmed by mail (by its normal form)


@dataclass(frozen=True)
class QueuePage:
    tab: str
    items: list[Shown]
    counts: dict[str, int]
    next_cursor: int | None
    threshold: int
    filters: QueueFilters = field(default_factory=QueueFilters)


@dataclass(frozen=True)
class Outcome:
    comment_id: int
    action: str
    status: str
    message: str


def highlight(text: str, spans: list[dict[str, Any]]) -> tuple[Markup, tuple[str, ...]]:
    """The text escaped piece by piece, with each span of field "text" wrapped in <mark>.

    Spans index the text as judged; one whose characters no longer match (the text was edited
    since) is looked for by its words instead, and left out if they are gone.
    """
    ranges: list[tuple[int, int]] = []
    for span in spans:
        if not isinstance(span, dict) or span.get("field", "text") != "text":
            continue
        words = str(span.get("text") or "")
        start, end = span.get("start"), span.get("end")
        fits = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
        if fits and (not words or text[start:end] == words):
            ranges.append((start, end))  # type: ignore[arg-type]
            continue
        if words:
            found = text.find(words)
            if found < 0:
                found = text.lower().find(words.lower())
            if found >= 0:
                ranges.append((found, found + len(words)))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    parts: list[str] = []
    at = 0
    for start, end in merged:
        parts.append(str(escape(text[at:start])))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    parts.append(str(escape(text[at:])))
    return Markup("".join(parts)), tuple(text[s:e] for s, e in merged)


def _shown(
    item: DeskItem,
    parents: dict[int, Parent],
    history: dict[str, dict[str, int]],
    verified: set[str],
) -> Shown:
    decision = item.moderation
    raw_reasons = [r for r in decision.get("reasons", []) if isinstance(r, dict)]
    spans = [s for r in raw_reasons for s in r.get("spans", []) or []]
    html, marked = highlight(item.body, spans)
    scores = decision.get("scores") or {}
    return Shown(
        item=item,
        text_html=html,
        marked=marked,
        reasons=tuple(
            Reason(str(r.get("message", "")), str(r.get("code", "")), str(r.get("action", "")))
            for r in raw_reasons
        ),
        scores=tuple(
            sorted(
                ((str(k), float(v)) for k, v in scores.items() if isinstance(v, int | float)),
                key=lambda pair: -pair[1],
            )
        ),
        verdict=str(decision.get("verdict", "")),
        parent=parents.get(item.parent_id) if item.parent_id else None,
        history=history.get(normal_address(item.author_email)) if item.author_email else None,
        model_version=version
        if isinstance(version := decision.get("model_version"), int)
        else None,
        verified=bool(item.author_email) and normal_address(item.author_email) in verified,
    )


def read_queue(
    db: Database,
    *,
    site_id: int,
    tab: str,
    cursor: int | None,
    now: datetime,
    filters: QueueFilters = QueueFilters(),
    limit: int = desk_store.PAGE,
) -> QueuePage:
    """One page of a queue with every tab's count, read in one transaction (five queries)."""
    if tab not in QUEUE_TABS:
        raise NotFound("There is no such queue.")
    since = now - timedelta(days=RECENT_DAYS)
    with db.read() as conn:
        threshold = desk_store.reports_to_queue(conn, site_id)
        counts = desk_store.tab_counts(conn, site_id, threshold, since)
        if tab == "refused":
            items = desk_store.list_refused(conn, site_id, cursor=cursor, limit=limit + 1)
        else:
            items = desk_store.list_comments(
                conn,
                site_id,
                tab,
                threshold=threshold,
                since=since,
                cursor=cursor,
                filters=filters,
                limit=limit + 1,
            )
        more = len(items) > limit
        items = items[:limit]
        parents = desk_store.parents_of(conn, [i.parent_id for i in items if i.parent_id])
        history = desk_store.histories(conn, site_id, [i.author_email for i in items])
        verified = verification_store.verified_among(conn, [i.author_email for i in items])
    return QueuePage(
        tab=tab,
        items=[_shown(item, parents, history, verified) for item in items],
        counts=counts,
        next_cursor=items[-1].id if more and items else None,
        threshold=threshold,
        filters=filters,
    )


def read_counts(db: Database, *, site_id: int, now: datetime) -> dict[str, int]:
    with db.read() as conn:
        threshold = desk_store.reports_to_queue(conn, site_id)
        return desk_store.tab_counts(conn, site_id, threshold, now - timedelta(days=RECENT_DAYS))


def clean_note(note: str) -> str:
    """A staff member's note for the audit log, checked (Invalid "note" when too long)."""
    note = clean_text(note).strip()  # no control characters (PostgreSQL refuses NUL)
    if len(note) > NOTE_MAX:
        raise Invalid("note", f"A note has at most {NOTE_MAX} characters.")
    return note


_note = clean_note


def _target(conn: Any, site_id: int, comment_id: int) -> desk_store.Target:
    target = desk_store.get_target(conn, comment_id)
    if target is None or target.site_id != site_id or target.status == Status.WITHDRAWN:
        raise NotFound("There is no such comment.")
    return target


def _handled(target: desk_store.Target, what: str) -> Conflict:
    who = f" by {target.moderated_by}" if target.moderated_by else ""
    return Conflict(f"Comment {target.id} was already handled{who}: it is {target.status}; {what}.")


def _audit(
    conn: Any,
    actor: Actor,
    action: str,
    target: desk_store.Target,
    now: datetime,
    *,
    before: str | None,
    after: str | None,
    note: str,
    data: dict[str, Any] | None = None,
    personal: audit_store.Personal | None = None,
) -> None:
    audit_store.add_entry(
        conn,
        at=now,
        actor_kind=actor.kind,
        actor=actor.name,
        action=action,
        site_id=target.site_id,
        comment_id=target.id,
        before=before,
        after=after,
        note=note,
        data=data,
        personal=personal,
    )


def _person(target: desk_store.Target, **values: Any) -> audit_store.Personal:
    """The personal part of an entry about `target`: about its writer, quoting it."""
    return audit_store.Personal(
        person=normal_address(target.author_email), comment_id=target.id, **values
    )


def _fire(db: Database, events: Events, name: str, comment_id: int, article_id: int) -> None:
    with db.read() as conn:
        comment = comment_store.get_comment(conn, comment_id)
        article = article_store.get_article_by_id(conn, article_id)
    if comment is None or article is None:
        return
    if name == COMMENT_DELETED:
        events.fire(name, comment_id=comment.id, article=article)
    else:
        events.fire(name, comment=comment, article=article)


def approve(
    db: Database,
    events: Events,
    *,
    site_id: int,
    comment_id: int,
    actor: Actor,
    note: str,
    now: datetime,
) -> Outcome:
    """Held -> published at the next number among its siblings (count +1); or a reported
    comment kept: its reports resolved, shown again if reports had hidden it."""
    note = _note(note)
    with db.write() as conn:
        target = _target(conn, site_id, comment_id)
        if target.status == Status.HELD:
            article = desk_store.lock_article_by_id(conn, target.article_id)
            assert article is not None
            if target.parent_id is not None:
                parent = desk_store.get_target(conn, target.parent_id)
                if parent is None or parent.status != Status.PUBLISHED:
                    raise Conflict(
                        f"Comment {target.id} replies to a comment that is not published; "
                        "approve that one first."
                    )
            # A comment published once and held after its writer's edit keeps its number.
            number = target.number or comment_store.next_number(
                conn, target.article_id, target.parent_id
            )
            if not desk_store.transition(
                conn,
                target.id,
                from_status=Status.HELD,
                to_status=Status.PUBLISHED,
                by=actor.name,
                now=now,
                number=number,
            ):
                raise _handled(_target(conn, site_id, comment_id), "nothing was changed")
            desk_store.resolve_reports(conn, target.id)
            delta = count_change((target.status, target.hidden), (Status.PUBLISHED, False))
            article_store.touch_article(conn, target.article_id, delta, now)
            _audit(
                conn,
                actor,
                "approve",
                target,
                now,
                before=target.status,
                after=Status.PUBLISHED,
                note=note,
                data={"number": number},
            )
            comment_event(
                conn, site_id=site_id, event=webhook_rules.APPROVED, comment_id=target.id, now=now
            )
            message = f"Approved comment {target.id}: it is number {number} on its thread."
            event = COMMENT_APPROVED
        elif target.status == Status.PUBLISHED and desk_store.has_unresolved_reports(
            conn, target.id
        ):
            if not desk_store.resolve_reports(conn, target.id):
                raise _handled(target, "nothing was changed")
            desk_store.mark_reviewed(conn, target.id, actor.name, now)
            # Reports may have hidden it (and taken it off the count): it is shown again.
            delta = count_change((target.status, target.hidden), (target.status, False))
            article_store.touch_article(conn, target.article_id, delta, now)
            _audit(
                conn,
                actor,
                "approve",
                target,
                now,
                before="reported",
                after=Status.PUBLISHED,
                note=note,
            )
            message = f"Kept comment {target.id}: its reports are resolved."
            event = COMMENT_EDITED
        else:
            raise _handled(target, "there is nothing to approve")
    _fire(db, events, event, target.id, target.article_id)
    return Outcome(target.id, "approve", Status.PUBLISHED, message)


def reject(
    db: Database,
    events: Events,
    *,
    site_id: int,
    comment_id: int,
    actor: Actor,
    note: str,
    now: datetime,
    seen: str = "",
) -> Outcome:
    """Held or published -> rejected: hidden from readers, kept for the audit (count -1 if it
    was published)."""
    note = _note(note)
    with db.write() as conn:
        target = _target(conn, site_id, comment_id)
        if target.status not in (Status.HELD, Status.PUBLISHED):
            raise _handled(target, "there is nothing to reject")
        if seen and seen != target.status:  # the moderator saw it held; someone approved it
            raise _handled(target, "nothing was changed")
        if not desk_store.transition(
            conn,
            target.id,
            from_status=target.status,
            to_status=Status.REJECTED,
            by=actor.name,
            now=now,
        ):
            raise _handled(_target(conn, site_id, comment_id), "nothing was changed")
        desk_store.resolve_reports(conn, target.id)
        delta = count_change((target.status, target.hidden), (Status.REJECTED, False))
        article_store.touch_article(conn, target.article_id, delta, now)
        _audit(
            conn,
            actor,
            "reject",
            target,
            now,
            before=target.status,
            after=Status.REJECTED,
            note=note,
        )
        comment_event(
            conn, site_id=site_id, event=webhook_rules.REJECTED, comment_id=target.id, now=now
        )
    _fire(db, events, COMMENT_DELETED, target.id, target.article_id)
    return Outcome(target.id, "reject", Status.REJECTED, f"Rejected comment {target.id}.")


def edit(
    db: Database,
    events: Events,
    *,
    site_id: int,
    comment_id: int,
    actor: Actor,
    body: str,
    note: str,
    limits: Limits,
    now: datetime,
) -> Outcome:
    """A moderator changes a comment's text; the original is kept in the audit entry."""
    note = _note(note)
    clean = check_body(body, limits)
    body_html = render_comment(clean)
    with db.write() as conn:
        target = _target(conn, site_id, comment_id)
        if target.status not in (Status.HELD, Status.PUBLISHED):
            raise _handled(target, "its text can no longer be edited")
        if clean == target.body:
            raise Invalid("body", "The text is the same as before; nothing was changed.")
        comment_store.update_body(conn, target.id, clean, body_html, now)
        article_store.touch_article(conn, target.article_id, 0, now)
        _audit(
            conn,
            actor,
            "edit",
            target,
            now,
            before=None,
            after=None,
            note=note,
            personal=_person(target, before=target.body, after=clean),
        )
    _fire(db, events, COMMENT_EDITED, target.id, target.article_id)
    return Outcome(target.id, "edit", target.status, f"Edited comment {target.id}.")


def feature(
    db: Database,
    events: Events,
    *,
    site_id: int,
    comment_id: int,
    actor: Actor,
    featured: bool,
    note: str,
    now: datetime,
) -> Outcome:
    """Mark a published comment featured (a badge readers see), or take the mark away."""
    note = _note(note)
    action = "feature" if featured else "unfeature"
    with db.write() as conn:
        target = _target(conn, site_id, comment_id)
        if featured and target.status != Status.PUBLISHED:
            raise Conflict(
                f"Comment {target.id} is {target.status}: only a published one can be featured."
            )
        if not desk_store.set_featured(conn, target.id, featured):
            state = "featured" if featured else "not featured"
            raise Conflict(f"Comment {target.id} is already {state}.")
        article_store.touch_article(conn, target.article_id, 0, now)
        _audit(
            conn,
            actor,
            action,
            target,
            now,
            before=str(target.featured).lower(),
            after=str(featured).lower(),
            note=note,
        )
    _fire(db, events, COMMENT_EDITED, target.id, target.article_id)
    done = "Featured" if featured else "Unfeatured"
    return Outcome(target.id, action, target.status, f"{done} comment {target.id}.")


def pin(
    db: Database,
    events: Events,
    *,
    site_id: int,
    comment_id: int,
    actor: Actor,
    pinned: bool,
    note: str,
    now: datetime,
) -> Outcome:
    """Put a published top-level comment first in its thread, or back in its place."""
    note = _note(note)
    action = "pin" if pinned else "unpin"
    with db.write() as conn:
        target = _target(conn, site_id, comment_id)
        if pinned and target.status != Status.PUBLISHED:
            raise Conflict(
                f"Comment {target.id} is {target.status}: only a published one can be pinned."
            )
        if pinned and target.parent_id is not None:
            raise Conflict(f"Comment {target.id} is a reply: only a top-level one can be pinned.")
        if not desk_store.set_pinned(conn, target.id, pinned):
            state = "pinned" if pinned else "not pinned"
            raise Conflict(f"Comment {target.id} is already {state}.")
        article_store.touch_article(conn, target.article_id, 0, now)
        _audit(
            conn,
            actor,
            action,
            target,
            now,
            before=str(target.pinned).lower(),
            after=str(pinned).lower(),
            note=note,
        )
    _fire(db, events, COMMENT_EDITED, target.id, target.article_id)
    done = "Pinned" if pinned else "Unpinned"
    return Outcome(target.id, action, target.status, f"{done} comment {target.id}.")


@dataclass(frozen=True)
class Discussion:
    """An article's discussion as the desk shows it: open, or closed and by which rule."""

    article: Article
    state: rules.Openness
    close_after_days: int | None

    @property
    def why_closed(self) -> str:
        if self.state.is_open:
            return ""
        return str(self.state.notice(self.close_after_days))


def list_discussions(
    db: Database, *, site_id: int, now: datetime, limit: int = 50
) -> list[Discussion]:
    """The site's latest articles, each with whether its discussion is open now."""
    with db.read() as conn:
        days = close_after_days_in(conn, site_id)
        found = article_store.list_articles(conn, site_id, limit=limit)
    return [Discussion(a, rules.of_article(a, days, now), days) for a in found]


def set_discussion_open(
    db: Database,
    events: Events,
    *,
    site_id: int,
    slug: str,
    is_open: bool,
    actor: Actor,
    note: str,
    now: datetime,
) -> Discussion:
    """Close an article's discussion, or reopen it (which restarts the site's close-after-
    days count: `core.discussion`). Conflict when it is already so; audited."""
    note = _note(note)
    with db.write() as conn:
        article = article_store.get_article(conn, site_id, slug)
        if article is None:
            raise NotFound("There is no such article.")
        days = close_after_days_in(conn, site_id)
        before = rules.of_article(article, days, now)
        if not is_open and not article.comments_open:
            raise Conflict(f"Comments on {slug!r} are already closed.")
        if is_open and before.is_open:
            raise Conflict(f"Comments on {slug!r} are already open.")
        article_store.set_comments_open(conn, article.id, is_open, now)
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor.kind,
            actor=actor.name,
            action="reopen" if is_open else "close",
            site_id=site_id,
            before=before.closed_by.value if before.closed_by else "open",
            after="open" if is_open else "closed",
            note=note,
            data={"article": slug, "article_id": article.id},
        )
        changed = article_store.get_article_by_id(conn, article.id)
    assert changed is not None
    events.fire(DISCUSSION_CHANGED, article=changed)
    return Discussion(changed, rules.of_article(changed, days, now), days)


def ban(
    db: Database,
    *,
    site_id: int,
    comment_id: int,
    actor: Actor,
    kind: str,
    days: str,
    note: str,
    now: datetime,
) -> Outcome:
    """Ban the writer of a comment by email, email domain, address group or name, for a
    number of days or (with no days) for ever. Their next comment is refused."""
    note = _note(note)
    if kind not in BAN_KINDS:
        raise Invalid("kind", "Ban by email, email_domain, ip_group or name.")
    days = days.strip()
    until = None
    if days:
        # "²".isdigit() is True, and int() refuses 4,301 digits: the length is checked first.
        if len(days) > 5 or not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= 36500:
            raise Invalid("days", "Days is a whole number from 1 to 36500, or empty for ever.")
        until = now + timedelta(days=int(days))
    with db.write() as conn:
        target = _target(conn, site_id, comment_id)
        value = {
            "email": normal_address(target.author_email),
            "email_domain": normal_address(target.author_email).rpartition("@")[2],
            "ip_group": target.ip_group_hash or "",
            "name": target.author_name.strip(),
        }[kind]
        if not value:
            raise Invalid("kind", f"This comment has no {kind.replace('_', ' ')} to ban.")
        ban = Ban(kind=BAN_KINDS[kind], value=value, until=until)
        ban_id = moderation_store.add_ban(conn, site_id, ban, now, created_by=actor.name, note=note)
        shown = value[:12] + "…" if kind == "ip_group" else value
        _audit(
            conn,
            actor,
            "ban",
            target,
            now,
            before=None,
            after=None,
            note=note,
            data={"ban_id": ban_id, "kind": kind, "until": until.isoformat() if until else None},
            personal=_person(target, after=f"{kind}:{shown}", data={"value": value}),
        )
    how_long = f"for {int(days)} days" if until else "for ever"
    return Outcome(
        target.id, "ban", target.status, f"Banned {kind.replace('_', ' ')} {shown} {how_long}."
    )


def act(
    db: Database,
    events: Events,
    action: str,
    *,
    site_id: int,
    comment_id: int,
    actor: Actor,
    fields: dict[str, str],
    limits: Limits,
    now: datetime,
) -> Outcome:
    """Dispatch one named action with its form or JSON fields."""
    note = fields.get("note", "")
    common: dict[str, Any] = {
        "site_id": site_id,
        "comment_id": comment_id,
        "actor": actor,
        "note": note,
        "now": now,
    }
    if action == "approve":
        return approve(db, events, **common)
    if action == "reject":
        return reject(db, events, seen=fields.get("seen", ""), **common)
    if action == "edit":
        return edit(db, events, body=fields.get("body", ""), limits=limits, **common)
    if action in ("feature", "unfeature"):
        return feature(db, events, featured=action == "feature", **common)
    if action in ("pin", "unpin"):
        return pin(db, events, pinned=action == "pin", **common)
    if action == "ban":
        return ban(db, kind=fields.get("kind", ""), days=fields.get("days", ""), **common)
    raise NotFound("There is no such action.")


@dataclass(frozen=True)
class BulkResult:
    done: list[Outcome]
    failed: list[tuple[int, str]]  # id, why


def bulk(
    db: Database,
    events: Events,
    action: str,
    *,
    site_id: int,
    ids: list[int],
    actor: Actor,
    note: str,
    now: datetime,
    seen: str = "",
) -> BulkResult:
    """Approve or reject several comments, each in its own transaction: one already handled
    does not stop the others."""
    if action not in BULK_ACTIONS:
        raise Invalid("action", "Bulk actions are approve and reject.")
    if not ids:
        raise Invalid("ids", "Select at least one comment.")
    if len(ids) > 200:
        raise Invalid("ids", "Select at most 200 comments at once.")
    done: list[Outcome] = []
    failed: list[tuple[int, str]] = []
    for comment_id in sorted(set(ids)):  # parents (older) before their replies
        common: dict[str, Any] = {
            "site_id": site_id,
            "comment_id": comment_id,
            "actor": actor,
            "note": note,
            "now": now,
        }
        try:
            if action == "approve":
                done.append(approve(db, events, **common))
            else:
                done.append(reject(db, events, seen=seen, **common))
        except (Conflict, NotFound) as error:
            failed.append((comment_id, error.message))
    return BulkResult(done=done, failed=failed)
