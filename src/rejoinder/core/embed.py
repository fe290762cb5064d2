"""Discussions of pages hosted elsewhere: the page's key, its title and URL as the embedding
tag gives them, the slug its discussion gets, and the origins allowed to embed a site.

Everything here is checked as untrusted input (it comes from a tag on someone's page), and
each refusal names the field of the tag it comes from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from rejoinder.core.errors import Invalid
from rejoinder.core.models import ArticleDraft
from rejoinder.core.validation import clean_line, slugify

PAGE_ID_MAX = 300  # the column's length
PAGE_URL_MAX = 1000
TITLE_MAX = 300


@dataclass(frozen=True, slots=True)
class PageRef:
    """A page as its embedding tag names it: the key its discussion is found by."""

    page_id: str
    title: str
    url: str | None


def _http_url(value: str, field: str) -> str:
    try:
        parts = urlsplit(value)
        port_ok = parts.port != 0
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise Invalid(field, "The page's address must be a full http or https URL.")
    # The fragment names a place on the page, not the page.
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def page_ref(page_id: str | None, title: str | None, url: str | None) -> PageRef:
    """The page an embedding tag names: by its id, or by its canonical URL when it gives none."""
    clean_url = None
    if url and url.strip():
        clean_url = _http_url(clean_line(url), "url")
        if len(clean_url) > PAGE_URL_MAX:
            raise Invalid("url", f"The page's address is longer than {PAGE_URL_MAX} characters.")
    key = clean_line(page_id or "")
    if not key:
        if clean_url is None:
            raise Invalid("page_id", "Name the page: give its page id or its URL.")
        key = clean_url
        if len(key) > PAGE_ID_MAX:  # a long address is known by its hash
            key = "url:" + hashlib.sha256(key.encode()).hexdigest()
    if len(key) > PAGE_ID_MAX:
        raise Invalid("page_id", f"A page id is at most {PAGE_ID_MAX} characters long.")
    name = clean_line(title or "")[:TITLE_MAX] or (clean_url or key)[:TITLE_MAX]
    return PageRef(page_id=key, title=name, url=clean_url)


def page_slug(ref: PageRef) -> str:
    """The slug of a page's discussion: readable from its title, unique by its key's hash."""
    digest = hashlib.blake2b(ref.page_id.encode(), digest_size=5).hexdigest()
    words = slugify(ref.title)[:60].strip("-")
    return f"{words}-{digest}" if words != "article" else f"page-{digest}"


def page_draft(ref: PageRef, now: datetime) -> ArticleDraft:
    """The discussion of a page Rejoinder does not host, as an article with no text of its own."""
    return ArticleDraft(
        slug=page_slug(ref),
        title=ref.title,
        dek="",
        author="",
        body_markdown="",
        published_at=now,
        page_id=ref.page_id,
        page_url=ref.url,
    )


def origin_of(value: str) -> str | None:
    """An origin as browsers send it (scheme://host[:port], lowercase, no default port), or
    None for anything that is not an http(s) origin (including the "null" origin)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def is_allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a request's Origin is one a site lets embed it."""
    if not origin:
        return False
    given = origin_of(origin)
    return given is not None and any(origin_of(a) == given for a in allowed)
