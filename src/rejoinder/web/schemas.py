"""The API's request and response models; the OpenAPI schema is built from them.

The public comment model has no email field at all: an email cannot leak from a model that
cannot hold it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rejoinder.core.articlefile import ARTICLE_BODY_MAX, LONGEST
from rejoinder.core.models import Article, Limits, PublicComment, ThreadNode, ThreadPage
from rejoinder.usecases.sites import LANGUAGES, SiteFields

# What validation refuses, declared in the schema so that a client (or schemathesis) knows it.
# The checks and their messages stay where they are (core/validation.py, core/articlefile.py):
# pydantic would answer them in its own words. Lengths that a site sets are left out.
_LIMITS = Limits()
# Some character that is neither white space nor one of the controls validation removes.
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
EMAIL = r"^[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]{2,}$"
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _written(max_length: int | None = None) -> dict[str, Any]:
    """A field that must hold something visible once cleaned."""
    extra: dict[str, Any] = {"minLength": 1, "pattern": VISIBLE}
    return extra if max_length is None else {**extra, "maxLength": max_length}


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    body: str = Field(
        description="The comment: plain text or the Markdown subset.",
        json_schema_extra=_written(),
    )
    name: str = Field(
        description="Shown as the comment's author.", json_schema_extra=_written(_LIMITS.name_max)
    )
    email: str = Field(
        description="Never published; used for replies and moderation.",
        json_schema_extra={"pattern": EMAIL, "maxLength": _LIMITS.email_max},
    )
    website: str = Field(
        "",
        description="Optional http(s) address; the name links to it.",
        json_schema_extra={"maxLength": _LIMITS.website_max - len("https://")},
    )
    parent_id: int | None = Field(None, description="The comment this one replies to.")
    notify_replies: bool = Field(
        False,
        description="Email me when someone replies. Ignored when the server sends no mail "
        "(no SMTP host set); otherwise the address is first sent a link to confirm it.",
    )
    follow_discussion: bool = Field(
        False,
        description="Email me about every new comment in this discussion. As notify_replies: "
        "ignored without mail, and the address is first asked to confirm itself.",
    )
    form_token: str | None = Field(
        None,
        description="The signed token of the form or widget this was written in. Without it "
        "(or an API token), a post is judged as one sent too fast after its form was opened.",
    )
    homepage: str = Field("", description="The form's hidden field people leave empty.")


class CommentEdit(BaseModel):
    body: str = Field(description="The new text of the comment.", json_schema_extra=_written())


class AuthorOut(BaseModel):
    name: str
    website: str | None


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    number: int = Field(description="Position among its siblings: 1, 2, 3...")
    depth: int = Field(description="Stored depth: 0 for a top-level comment.")
    level: int = Field(description="Displayed level, capped; deeper replies carry in_reply_to.")
    in_reply_to: str | None
    author: AuthorOut
    body_html: str = Field(description="Sanitised HTML, rendered when the comment was written.")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    imported: bool
    status: str = Field(description="published, or held: waiting for a moderator (writer only).")
    featured: bool = Field(description="Marked by a moderator as worth reading.")
    pinned: bool = Field(description="Put first in its thread by a moderator (top level only).")
    permalink: str
    replies: list[CommentOut]


class ArticleSummary(BaseModel):
    slug: str
    title: str
    comment_count: int
    comments_open: bool = Field(
        description="Whether it takes comments now: its own flag, and the site's close_after_days."
    )


class ThreadOut(BaseModel):
    article: ArticleSummary
    sort: str
    comments: list[CommentOut]
    next_cursor: int | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )
    top_level_total: int


class SourceOut(BaseModel):
    name: str
    url: str | None


class ArticleOut(BaseModel):
    slug: str
    title: str
    dek: str
    author: str
    url: str
    published_at: datetime
    comments_open: bool = Field(
        description="Whether it takes comments now: its own flag, and the site's close_after_days."
    )
    comment_count: int
    source: SourceOut | None = Field(description="For a syndicated piece: where it first ran.")
    body_html: str


class ArticleList(BaseModel):
    articles: list[ArticleOut]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(json_schema_extra=_written(LONGEST["title"]))
    body: str = Field(description="Markdown.", json_schema_extra=_written(ARTICLE_BODY_MAX))
    slug: str | None = Field(
        None,
        description="Made from the title when left out.",
        json_schema_extra={"pattern": SLUG, "maxLength": 120},
    )
    dek: str = Field("", json_schema_extra={"maxLength": LONGEST["dek"]})
    author: str = Field("", json_schema_extra={"maxLength": LONGEST["author"]})
    published_at: datetime | None = None
    comments_open: bool = True
    source_name: str | None = Field(None, json_schema_extra={"maxLength": LONGEST["source_name"]})
    source_url: str | None = Field(
        None, json_schema_extra={"pattern": "^https?://[^/]", "maxLength": LONGEST["source_url"]}
    )


class ArticleEditIn(BaseModel):
    """An edit of an article: only the fields given change (the slug never does)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, json_schema_extra={"maxLength": LONGEST["title"]})
    body: str | None = Field(None, description="Markdown.")
    dek: str | None = Field(None, json_schema_extra={"maxLength": LONGEST["dek"]})
    author: str | None = Field(None, json_schema_extra={"maxLength": LONGEST["author"]})
    published: str | None = Field(None, description="ISO 8601.")
    source_name: str | None = Field(None, json_schema_extra={"maxLength": LONGEST["source_name"]})
    source_url: str | None = Field(None, json_schema_extra={"maxLength": LONGEST["source_url"]})
    note: str = Field("", description="Why, for the audit log (optional).")


class BanShortenIn(BaseModel):
    """When a ban ends instead: give days or until."""

    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(None, ge=1, le=36500, description="Whole days from now.")
    until: str | None = Field(None, description="A date or time, ISO 8601 (UTC unless given).")
    note: str = Field("", description="Why, for the audit log (optional).")


class Counts(BaseModel):
    counts: dict[str, int] = Field(
        description="Published comments per slug; unknown slugs left out."
    )
    pages: dict[str, int] = Field(
        description="Published comments per page id of a page hosted elsewhere; pages "
        "without a discussion left out."
    )


class ErrorOut(BaseModel):
    error: str
    field: str | None
    message: str


def comment_out(node: ThreadNode, slug: str) -> dict[str, Any]:
    c: PublicComment = node.comment
    return {
        "id": c.id,
        "parent_id": c.parent_id,
        "number": c.number,
        "depth": c.depth,
        "level": node.level,
        "in_reply_to": node.in_reply_to,
        "author": {
            "name": c.author_name if not c.is_deleted else c.placeholder,
            "website": None if c.is_deleted else c.author_website,
        },
        "body_html": "" if c.is_deleted else c.body_html,  # a removed text never leaves
        "created_at": c.created_at,
        "edited_at": c.edited_at,
        "deleted": c.is_deleted,
        "imported": c.imported,
        "status": "deleted" if c.is_deleted else c.status.value,
        "featured": c.featured and not c.is_deleted,
        "pinned": c.pinned and c.depth == 0,
        "permalink": f"/articles/{slug}#comment-{c.id}",
        "replies": [comment_out(child, slug) for child in node.children],
    }


def thread_out(article: Article, page: ThreadPage, sort: str) -> dict[str, Any]:
    return {
        "article": {
            "slug": article.slug,
            "title": article.title,
            "comment_count": article.comment_count,
            "comments_open": article.comments_open,
        },
        "sort": sort,
        "comments": [comment_out(node, article.slug) for node in page.nodes],
        "next_cursor": page.next_cursor,
        "top_level_total": page.top_level_total,
    }


def article_out(article: Article, url: str) -> dict[str, Any]:
    """`url`: the article's public address on its site (`Runtime.site_url`)."""
    return {
        "slug": article.slug,
        "title": article.title,
        "dek": article.dek,
        "author": article.author,
        "url": url,
        "published_at": article.published_at,
        "comments_open": article.comments_open,
        "comment_count": article.comment_count,
        "source": {"name": article.source_name, "url": article.source_url}
        if article.source_name
        else None,
        "body_html": article.body_html,
    }


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(description="The comment as it would be posted.")
    name: str = ""
    email: str = ""
    website: str = ""


class ReasonSpan(BaseModel):
    start: int
    end: int
    text: str
    field: str = Field(description="text, name or website: where start and end point.")


class ReasonOut(BaseModel):
    code: str
    message: str = Field(description="Reads after 'because': names the words or the rule.")
    spans: list[ReasonSpan]


class CheckOut(BaseModel):
    verdict: str = Field(description="publish, hold or refuse")
    reasons: list[ReasonOut]
    scores: dict[str, float] = Field(description="The local model's score per category.")


# Bodies of the admin calls that read their JSON themselves, to answer in their own words: these
# models only describe them in the OpenAPI document (see `json_body`).


class BulkIn(BaseModel):
    ids: list[int] = Field(min_length=1, description="The comments to act on.")
    action: str = Field(json_schema_extra={"enum": ["approve", "reject"]})
    note: str = ""
    seen: str = Field("", description="The status the moderator saw; a change meanwhile is 409.")


class ActionIn(BaseModel):
    note: str = ""
    body: str = Field("", description="edit: the new text.")
    kind: str = Field("", description="ban: email, email_domain, ip_group or name.")
    days: str | int = Field("", description="ban: how many days; empty for ever.")
    seen: str = Field("", description="The status the moderator saw; a change meanwhile is 409.")


class NoteIn(BaseModel):
    note: str = Field("", description="Why, for the audit log (optional).")


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown setting is refused

    policy: dict[str, Any] = Field(
        default_factory=dict, description="The settings as GET answers them; those left out reset."
    )
    reports_to_queue: int = Field(3, ge=1, le=1000)
    hide_reported: bool = False
    note: str = ""


class ModelSwitchIn(BaseModel):
    version: int | None = Field(
        ge=1, lt=2**31, description="A version of the site's model; null for the shipped one."
    )
    note: str = ""


class SiteIn(SiteFields):
    """A new site's fields (validated by `usecases.sites.SiteFields`, in its own words)."""


class SitePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=200)
    domain: str | None = Field(None, max_length=253, description="null: no domain.")
    base_url: str | None = Field(None, max_length=500, description="null: the server's.")
    origins: list[str] | None = Field(None, description="Replaces the list; [] for none.")
    language: str | None = Field(None, json_schema_extra={"enum": list(LANGUAGES)})


class SiteOut(BaseModel):
    name: str
    title: str
    domain: str | None
    base_url: str | None = Field(description="null: links use the server's base URL.")
    origins: list[str]
    language: str


class SiteList(BaseModel):
    sites: list[SiteOut]


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """A route's `openapi_extra` that declares the JSON body it reads itself."""
    schema = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": required, "content": schema}}


class WebhookIn(BaseModel):
    """A new webhook (validated by `usecases.webhooks`, in its own words)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="http:// or https://; no private address.")
    events: list[str] = Field(
        description="Some of comment.published, comment.held, comment.approved, "
        "comment.rejected, comment.reported, comment.deleted."
    )
    notify: str | None = Field(
        None, max_length=254, description="An address mailed when the webhook is paused."
    )


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = None
    notify: str | None = Field(None, max_length=254, description='"" for none.')
    active: bool | None = Field(None, description="false pauses it; true resumes it.")
