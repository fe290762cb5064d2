"""`rejoinder import`: threads read from another system's export stored as the discussions
of the site's pages, whole threads to a transaction, so a thread is whole or absent and a
broken import resumes where it stopped (comments already brought in are known by their
source id and skipped).

A thread's discussion is the one the embed widget finds for the page (by page id, else by
URL), made here when the site has none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rejoinder.core.embed import PageRef, page_draft, page_ref, page_slug
from rejoinder.core.errors import Invalid, RejoinderError
from rejoinder.core.imports.isso import read_isso
from rejoinder.core.imports.plan import PlannedComment, plan_thread, rewrite_url
from rejoinder.core.imports.records import Problem, ThreadBatch
from rejoinder.core.models import Article, Comment, Status
from rejoinder.core.moderation import Verdict
from rejoinder.core.text import render_comment, sanitise_comment_html
from rejoinder.core.validation import clean_line, clean_text
from rejoinder.events import ARTICLE_PUBLISHED, Events
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store
from rejoinder.store import imports as import_store
from rejoinder.store.database import Database
from rejoinder.usecases.moderation import Judgement, Moderator
from rejoinder.usecases.publishing import audit_import_verdict

if TYPE_CHECKING:
    from sqlalchemy import Connection

ANONYMOUS = "Anonymous"


@dataclass(frozen=True, slots=True)
class Options:
    source: str  # the format's name: wordpress, disqus, json, isso, remark42, commento
    with_pingbacks: bool = False
    rewrites: tuple[tuple[str, str], ...] = ()
    dry_run: bool = False


@dataclass(slots=True)
class Summary:
    """What an import did (or, dry, would do)."""

    threads: int = 0
    comments: int = 0
    already: int = 0
    held_by_moderation: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ThreadOutcome:
    title: str
    slug: str | None
    comments: int
    already: int
    warnings: tuple[Problem, ...]


def _ref(batch: ThreadBatch, options: Options) -> PageRef:
    thread = batch.thread
    return page_ref(thread.page_id, thread.title, rewrite_url(thread.url, options.rewrites))


def isso_threads(path: Path) -> Iterator[ThreadBatch | Problem]:
    """The threads of Isso's SQLite database, one at a time (Isso has no export file)."""
    return read_isso(import_store.read_isso_rows(path))


def _website(value: str | None) -> str | None:
    if not value:
        return None
    url = clean_line(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        return None
    return url


def _body(planned: PlannedComment) -> tuple[str, str]:
    """The stored text and its HTML: sanitised HTML both, for an HTML source."""
    source = planned.source
    if source.body_format == "html":
        html = sanitise_comment_html(clean_text(source.body))
        return html, html
    text = clean_text(source.body).strip()
    return text, render_comment(text) if text else ""


@dataclass(frozen=True, slots=True)
class _Ready:
    """A thread planned, its bodies rendered and its comments judged: what a write needs."""

    ref: PageRef
    plan: list[PlannedComment]
    bodies: dict[str, tuple[str, str]]
    judgements: dict[str, Judgement]


@dataclass(frozen=True, slots=True)
class _Stored:
    article: Article
    made: bool
    added: int
    already: int
    held_by_moderation: int


# A write takes threads until it holds this many comments or threads: a commit per thread
# cost more than the thread itself where threads are short, and a write this size keeps
# the database's lock for a fraction of a second only.
GROUP_COMMENTS = 1000
GROUP_THREADS = 200


class Importer:
    """Stores the threads it is given (or, dry, counts what would be stored). Threads are
    written in groups, each group in one transaction, so a thread is whole or absent; a
    group a write refuses is written again a thread at a time, so the threads before the
    refused one are stored, as they would be one by one. `flush` writes what is waiting:
    call it at the end, and when the file breaks off."""

    def __init__(
        self,
        db: Database,
        events: Events,
        site_id: int,
        options: Options,
        summary: Summary,
        clock: Callable[[], datetime],
        *,
        moderator: Moderator | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.site_id = site_id
        self.options = options
        self.summary = summary
        self.clock = clock
        self.moderator = moderator
        self.waiting: list[_Ready] = []
        self.waiting_comments = 0

    def add(self, batch: ThreadBatch) -> ThreadOutcome | None:
        """Take one thread; dry, what would be stored of it (None when nothing would)."""
        ready = self._prepare(batch)
        if ready is None or isinstance(ready, ThreadOutcome):
            return ready
        self.waiting.append(ready)
        self.waiting_comments += len(ready.plan)
        if self.waiting_comments >= GROUP_COMMENTS or len(self.waiting) >= GROUP_THREADS:
            self.flush()
        return None

    def flush(self) -> None:
        waiting, self.waiting, self.waiting_comments = self.waiting, [], 0
        if not waiting:
            return
        try:
            self._write(waiting)
        except RejoinderError:
            if len(waiting) == 1:
                raise
            for ready in waiting:  # up to the refused one, whose error goes on up
                self._write([ready])

    def _prepare(self, batch: ThreadBatch) -> _Ready | ThreadOutcome | None:
        options, summary, site_id = self.options, self.summary, self.site_id
        plan = plan_thread(batch, with_pingbacks=options.with_pingbacks)
        summary.skipped.update(plan.skipped)
        warnings = list(plan.warnings)
        try:
            ref = _ref(batch, options)
        except Invalid as error:
            line = f" (line {batch.thread.line})" if batch.thread.line else ""
            warnings.append(
                Problem(
                    f"thread {batch.thread.title!r}{line}: {error.message.rstrip('.')}; skipped"
                )
            )
            summary.skipped["thread without page id or URL"] += len(plan.comments)
            summary.warnings.extend(warnings)
            return None
        summary.warnings.extend(warnings)
        if not plan.comments:
            return None
        article: Article | None = None
        known: dict[str, Comment] = {}
        if options.dry_run or self.moderator is not None:  # what is new, to count or judge
            with self.db.read() as conn:
                article = article_store.get_article_by_page(conn, site_id, ref.page_id)
                if article is not None:
                    known = import_store.find_imported(
                        conn,
                        article.id,
                        options.source,
                        [p.source.source_id for p in plan.comments],
                    )
        new = [p for p in plan.comments if p.source.source_id not in known]
        if options.dry_run:
            summary.already += len(plan.comments) - len(new)
            summary.comments += len(new)
            summary.threads += 1 if new else 0
            slug = article.slug if article else page_slug(ref)
            return ThreadOutcome(ref.title, slug, len(new), len(plan.comments) - len(new), ())
        bodies = {p.source.source_id: _body(p) for p in new}  # rendered once, judged and stored
        judgements: dict[str, Judgement] = {}
        if self.moderator is not None:
            now = self.clock()
            for planned in new:
                if planned.status is Status.PUBLISHED:
                    judgements[planned.source.source_id] = self.moderator.check(
                        site_id=site_id,
                        text=bodies[planned.source.source_id][0],
                        name=planned.source.name,
                        email=planned.source.email,
                        website=planned.source.website or "",
                        now=now,
                    )
        return _Ready(ref, plan.comments, bodies, judgements)

    def _write(self, group: list[_Ready]) -> None:
        now = self.clock()
        with self.db.write() as conn:
            stored = [self._store(conn, ready, now) for ready in group]
        summary = self.summary
        for result in stored:
            if result.made:
                self.events.fire(ARTICLE_PUBLISHED, article=result.article)
            summary.threads += 1 if result.added else 0
            summary.comments += result.added
            summary.already += result.already
            summary.held_by_moderation += result.held_by_moderation

    def _store(self, conn: Connection, ready: _Ready, now: datetime) -> _Stored:
        site_id, source = self.site_id, self.options.source
        article, made = article_store.add_page_article(
            conn, site_id, page_draft(ready.ref, now), now
        )
        stored: dict[str, Comment] = {}
        last: dict[int | None, int] = {}
        if not made:  # numbers are counted on from the discussion's, which a post could move
            article_store.lock_article(conn, site_id, article.slug)
            stored = import_store.find_imported(
                conn, article.id, source, [p.source.source_id for p in ready.plan]
            )
            last = comment_store.last_numbers(conn, article.id)
        rows = _rows(ready.plan, stored, last, ready.bodies, ready.judgements, article)
        added = comment_store.add_comments(conn, article.id, [r.comment for r in rows])
        held = 0
        for comment, row in zip(added, rows, strict=True):
            if row.judgement is not None:  # audited as a posted comment's verdict is
                outcome = Verdict.HOLD if comment.status is Status.HELD else Verdict.PUBLISH
                audit_import_verdict(conn, site_id, comment, row.judgement, outcome, now)
                if comment.status is Status.HELD:
                    held += row.judgement.decision.verdict is not Verdict.PUBLISH
        import_store.record_imported(
            conn, site_id, source, [(c, r.source_id) for c, r in zip(added, rows, strict=True)]
        )
        if added:
            shown = sum(c.status is Status.PUBLISHED for c in added)
            article_store.touch_article(conn, article.id, shown, now)
        return _Stored(article, made, len(added), len(ready.plan) - len(added), held)


@dataclass(frozen=True, slots=True)
class _Row:
    """A comment of the thread ready to store (its parent a stored comment or the index of
    an earlier row, stored in the same statement), with its source id and verdict."""

    source_id: str
    comment: comment_store.NewComment
    judgement: Judgement | None


def _rows(
    planned_comments: list[PlannedComment],
    stored: dict[str, Comment],
    last_numbers: dict[int | None, int],
    bodies: dict[str, tuple[str, str]],
    judgements: dict[str, Judgement],
    article: Article,
) -> list[_Row]:
    """The thread's comments not stored yet, in the plan's order (each after its parent),
    with their statuses (held where moderation would not publish them or their parent
    waits; a "[deleted]" place holder keeps nothing of its writer) and their numbers among
    their siblings, counted on from `last_numbers` (the discussion's, by parent id)."""
    rows: list[_Row] = []
    index: dict[str, int] = {}
    last: dict[int | tuple[str, int] | None, int] = {k: n for k, n in last_numbers.items()}
    status_of: dict[str, Status] = {key: c.status for key, c in stored.items()}
    for planned in planned_comments:
        source = planned.source
        source_id = source.source_id
        if source_id in stored:
            continue
        parent: Comment | int | None = None
        if planned.parent_id is not None:
            parent = stored.get(planned.parent_id) or index.get(planned.parent_id)
        parent_status = status_of.get(planned.parent_id) if planned.parent_id else None
        judgement = judgements.get(source_id)
        status = planned.status
        if status is Status.PUBLISHED and (
            (judgement is not None and judgement.decision.verdict is not Verdict.PUBLISH)
            or parent_status in (Status.HELD, Status.REJECTED)
        ):
            status = Status.HELD
        status_of[source_id] = status
        if status is Status.DELETED:
            name, email, website, text, html = "", "", None, "", ""
        else:
            name = clean_line(source.name)[:100] or ANONYMOUS
            email = clean_line(source.email)[:254]
            website = _website(source.website)
            text, html = bodies.get(source_id) or _body(planned)
        number = 0
        if status in (Status.PUBLISHED, Status.DELETED):
            key = ("new", parent) if isinstance(parent, int) else parent.id if parent else None
            number = last[key] = last.get(key, 0) + 1
        comment = comment_store.NewComment(
            parent=parent,
            number=number,
            name=name,
            email=email,
            website=website,
            body_markdown=text,
            body_html=html,
            status=status,
            created_at=source.created_at or article.published_at,
            imported=True,
            fingerprint=judgement.fingerprint if judgement else None,
            moderation=judgement.record() if judgement else None,
        )
        index[source_id] = len(rows)
        rows.append(_Row(source_id, comment, judgement))
    return rows
