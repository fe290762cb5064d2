"""Frozen values the whole program passes around: sites, articles, comments, thread pages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Status(enum.StrEnum):
    """Where a comment stands. Only PUBLISHED is shown to readers and counted."""

    PUBLISHED = "published"
    HELD = "held"  # waits for a moderator
    REJECTED = "rejected"  # a moderator said no; kept for the audit
    DELETED = "deleted"  # removed by its writer after replies came: "[deleted]" holds its place
    WITHDRAWN = "withdrawn"  # removed by its writer before any reply: not shown at all
    # Refused by the moderation pipeline: a submission kept in `refused` for the retention
    # period, never stored as a comment (the desk's Refused queue lists them).
    REFUSED = "refused"


def counts_on_page(status: Status, hidden: bool = False) -> bool:
    """Whether a comment is shown to readers and counted in its article's `comment_count`:
    published, and not hidden by readers' reports. Every transition that can change it
    (approve, reject, edit, delete, reports) moves the count by `count_change`."""
    return status is Status.PUBLISHED and not hidden


def count_change(before: tuple[Status, bool], after: tuple[Status, bool]) -> int:
    """What a transition from (status, hidden) to (status, hidden) does to the count."""
    return int(counts_on_page(*after)) - int(counts_on_page(*before))


class Sort(enum.StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    name: str
    title: str
    domain: str | None
    base_url: str | None = None  # its public address; None: the server's base URL
    origins: tuple[str, ...] = ()  # the origins allowed to embed its discussions
    language: str = "en"  # the default language of its reader-facing text


def site_url(site: Site, path: str, server_base_url: str) -> str:
    """The public address of `path` on `site`: under the site's own base URL, or the server's
    when the site has none. Every absolute link a site gives out (pages, canonical URLs, feed
    ids, API `url`s, mail) is made here."""
    base = (site.base_url or server_base_url).rstrip("/")
    return base + (path if path.startswith("/") else "/" + path)


@dataclass(frozen=True, slots=True)
class Article:
    id: int
    site_id: int
    slug: str
    title: str
    dek: str
    author: str
    body_markdown: str
    body_html: str
    published_at: datetime
    comments_open: bool
    source_name: str | None
    source_url: str | None
    comment_count: int
    version: int
    page_id: str | None = None  # set for a discussion of a page hosted elsewhere
    page_url: str | None = None
    # When staff last reopened its discussion: close_after_days counts from then
    # (`core.discussion.openness`).
    reopened_at: datetime | None = None

    @property
    def is_embedded(self) -> bool:
        return self.page_id is not None

    @property
    def is_syndicated(self) -> bool:
        return self.source_name is not None


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """An article as written, before it is stored."""

    slug: str
    title: str
    dek: str
    author: str
    body_markdown: str
    published_at: datetime
    comments_open: bool = True
    source_name: str | None = None
    source_url: str | None = None
    page_id: str | None = None
    page_url: str | None = None


@dataclass(frozen=True, slots=True)
class PublicComment:
    """A comment as readers may see it. It has no email field at all, on purpose."""

    id: int
    article_id: int
    parent_id: int | None
    depth: int
    number: int
    author_name: str
    author_website: str | None
    body_html: str
    status: Status
    created_at: datetime
    edited_at: datetime | None
    imported: bool
    featured: bool = False  # marked by a moderator; readers see a badge
    pinned: bool = False  # a top-level comment a moderator put first in its thread

    @property
    def is_deleted(self) -> bool:
        """Shown only as a placeholder (and only while replies hang under it)."""
        return self.status in (Status.DELETED, Status.REJECTED)

    @property
    def placeholder(self) -> str:
        return "[removed by a moderator]" if self.status is Status.REJECTED else "[deleted]"


@dataclass(frozen=True, slots=True)
class Comment:
    """A stored comment with its private fields, for use cases and moderators only."""

    id: int
    article_id: int
    parent_id: int | None
    root_id: int | None
    depth: int
    number: int
    author_name: str
    author_email: str
    author_website: str | None
    body_markdown: str
    body_html: str
    status: Status
    created_at: datetime
    edited_at: datetime | None
    imported: bool
    notify_replies: bool


@dataclass(frozen=True, slots=True)
class CommentInput:
    """What a commenter submitted, raw, before validation."""

    body: str
    name: str
    email: str
    website: str = ""
    parent_id: int | None = None
    notify_replies: bool = False
    follow: bool = False  # mail about every new comment of the discussion


@dataclass(frozen=True, slots=True)
class CleanComment:
    """A submission that passed validation: normalised text and checked fields."""

    body: str
    name: str
    email: str
    website: str | None
    parent_id: int | None
    notify_replies: bool
    follow: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """The per-site limits that validation applies."""

    body_max: int = 5000
    name_max: int = 100
    email_max: int = 254
    website_max: int = 500


@dataclass(slots=True)
class ThreadNode:
    """One comment placed in the displayed tree."""

    comment: PublicComment
    level: int  # shown nesting level, capped
    in_reply_to: str | None = None  # set when the real parent is deeper than the cap
    children: list[ThreadNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ThreadPage:
    """One page of top-level comments, each with all its replies."""

    nodes: list[ThreadNode]
    next_cursor: int | None
    top_level_total: int


class Role(enum.StrEnum):
    """What a desk account may do: moderators act on comments; admins also manage users,
    sites' policies and word lists."""

    ADMIN = "admin"
    MODERATOR = "moderator"


@dataclass(frozen=True, slots=True)
class User:
    """A desk account (never a commenter: commenters have no accounts)."""

    id: int
    name: str
    role: Role
    disabled: bool
    # The sites this account may act on; empty: every site (`staff_sites` has no rows).
    site_ids: frozenset[int] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_limited(self) -> bool:
        return bool(self.site_ids)

    def can_act_on(self, site_id: int) -> bool:
        return not self.site_ids or site_id in self.site_ids


# The desk's queues, in the order of its tabs.
QUEUE_TABS = ("held", "reported", "published", "refused", "all")


@dataclass(frozen=True)
class QueueFilters:
    """The All tab's search and filters; every field optional."""

    q: str = ""
    email: str = ""
    article: str = ""  # slug
    group: str = ""  # the hashed address group, or its prefix
    status: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def active(self) -> bool:
        return any((self.q, self.email, self.article, self.group, self.status)) or bool(
            self.since or self.until
        )


ERASED = "[erased]"  # what an audit entry shows where its personal part was


@dataclass(frozen=True)
class BanRecord:
    """A ban as staff list it: what it bans, who made it and when, why (`note`), until when
    (`until` None: for good). `value` is an address, a domain, a name, or for an address
    group a keyed hash (`shown` cuts that short)."""

    id: int
    site_id: int
    kind: str
    value: str
    until: datetime | None
    reason: str
    created_at: datetime
    created_by: str | None
    note: str = ""  # staff's own, never said to the writer

    @property
    def why(self) -> str:
        return self.note or self.reason

    @property
    def shown(self) -> str:
        return self.value[:12] + "…" if self.kind == "ip_group" else self.value

    def is_active(self, now: datetime) -> bool:
        return self.until is None or self.until > now


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: datetime
    site_id: int | None
    comment_id: int | None
    actor_kind: str  # machine, user, token, system
    actor: str
    action: str
    before: str | None
    after: str | None
    note: str
    data: dict[str, Any]
    # Its personal part (a text, a name, an address) was erased: the fields that held it say
    # ERASED, and the entry still says what happened.
    erased: bool = False

    def to_dict(self, timespec: str = "microseconds") -> dict[str, Any]:
        """The entry as plain JSON-ready values (the export and the admin API share it)."""
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(timespec=timespec).replace("+00:00", "Z"),
            "site_id": self.site_id,
            "comment_id": self.comment_id,
            "actor_kind": self.actor_kind,
            "actor": self.actor,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "note": self.note,
            "data": self.data,
        }
