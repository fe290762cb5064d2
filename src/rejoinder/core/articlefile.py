"""Read an article written as Markdown with a front matter block of `key: value` lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from rejoinder.core.errors import Invalid
from rejoinder.core.models import Article, ArticleDraft
from rejoinder.core.validation import check_slug, clean_line, clean_text, slugify

FIELDS = (
    "slug",
    "title",
    "dek",
    "author",
    "published",
    "comments_open",
    "source_name",
    "source_url",
)
# The store's column sizes: a longer value must be refused here, not fail in the database.
LONGEST = {"title": 300, "dek": 600, "author": 200, "source_name": 200, "source_url": 500}
#: the longest article body, in characters (a long feature is about 40,000)
ARTICLE_BODY_MAX = 100_000


def parse_article_file(text: str, *, default_published: datetime) -> ArticleDraft:
    """The article in `text`; `default_published` (the caller's clock) when none is given."""
    text = clean_text(text).lstrip("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise Invalid("front_matter", "The file must start with a '---' line and front matter.")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise Invalid("front_matter", "The front matter has no closing '---' line.") from None
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in FIELDS:
            raise Invalid("front_matter", f"Line {number}: expected one of {', '.join(FIELDS)}.")
        value = clean_line(value)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]  # a matching pair only: 'The word "yes"' keeps its quote
        fields[key] = value
    body = "\n".join(lines[end + 1 :]).strip()
    return draft_from_fields(fields, body, default_published=default_published)


def draft_from_fields(
    fields: dict[str, str], body: str, *, default_published: datetime
) -> ArticleDraft:
    """Check an article's fields (from a file or the API) and make the draft."""
    title = clean_line(fields.get("title", ""))
    if not title:
        raise Invalid("title", "An article needs a title.")
    if not body.strip():
        raise Invalid("body", "An article needs a body.")
    slug = check_slug(fields.get("slug") or slugify(title))
    published = default_published
    if fields.get("published"):
        try:
            published = datetime.fromisoformat(fields["published"].replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("published", "The published time must be ISO 8601.") from None
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
    open_value = fields.get("comments_open", "true").strip().lower()
    if open_value not in ("true", "false", "yes", "no", "1", "0"):
        raise Invalid("comments_open", "comments_open is true or false.")
    source_url = fields.get("source_url") or None
    if source_url and (
        not source_url.startswith(("http://", "https://")) or not source_url.split("/")[2]
    ):
        raise Invalid("source_url", "The source URL must be an http:// or https:// address.")
    draft = ArticleDraft(
        slug=slug,
        title=title,
        dek=clean_line(fields.get("dek", "")),
        author=clean_line(fields.get("author", "")),
        body_markdown=clean_text(body).strip(),
        published_at=published,
        comments_open=open_value in ("true", "yes", "1"),
        source_name=clean_line(fields.get("source_name", "")) or None,
        source_url=source_url,
    )
    if len(draft.body_markdown) > ARTICLE_BODY_MAX:
        raise Invalid(
            "body",
            f"The article is {len(draft.body_markdown):,} characters long; "
            f"the limit is {ARTICLE_BODY_MAX:,}.",
        )
    for key, most in LONGEST.items():
        if len(getattr(draft, key) or "") > most:
            raise Invalid(key, f"The {key.replace('_', ' ')} is too long (at most {most}).")
    return draft


#: what an article's edit may change (the slug is its address and stays)
EDITABLE = ("title", "dek", "author", "body", "source_name", "source_url", "published")


def edited_draft(article: Article, changes: Mapping[str, str]) -> ArticleDraft:
    """The article with `changes` applied, checked as a new one would be; Invalid naming the
    field for an unknown field, a bad value, or no change at all."""
    for key in changes:
        if key not in EDITABLE:
            raise Invalid(key, f"{key!r} cannot be changed; these can: {', '.join(EDITABLE)}.")
    fields = {
        "slug": article.slug,
        "title": article.title,
        "dek": article.dek,
        "author": article.author,
        "published": article.published_at.isoformat(),
        "comments_open": "true" if article.comments_open else "false",
        "source_name": article.source_name or "",
        "source_url": article.source_url or "",
    }
    fields.update({key: value for key, value in changes.items() if key != "body"})
    body = changes.get("body", article.body_markdown)
    # A discussion of a page hosted elsewhere has no body of its own: it keeps none.
    keeps_no_body = article.is_embedded and "body" not in changes
    draft = draft_from_fields(
        fields, "-" if keeps_no_body else body, default_published=article.published_at
    )
    draft = replace(
        draft,
        body_markdown="" if keeps_no_body else draft.body_markdown,
        page_id=article.page_id,
        page_url=article.page_url,
    )
    try:
        draft.published_at.astimezone(UTC)  # year 1 an hour east of UTC is year 0 in UTC
    except OverflowError:
        raise Invalid("published", "The published time is out of range.") from None
    if all(getattr(draft, name) == getattr(article, name) for name in _COMPARED):
        raise Invalid(next(iter(changes), "title"), "That changes nothing in the article.")
    return draft


_COMPARED = (
    "title",
    "dek",
    "author",
    "body_markdown",
    "published_at",
    "source_name",
    "source_url",
)


def changed_fields(article: Article, draft: ArticleDraft) -> list[str]:
    """The names (as `EDITABLE` spells them) of what `draft` changes in `article`."""
    names = {"body_markdown": "body", "published_at": "published"}
    return [
        names.get(name, name)
        for name in _COMPARED
        if getattr(draft, name) != getattr(article, name)
    ]
