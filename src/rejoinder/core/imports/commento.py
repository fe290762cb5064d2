"""Commento's export and Comentario's, plain or gzip: one JSON document, told apart by its
`version`.

Version 1, Commento's (and the "commento" export of early Comentario): `{"version": 1,
"comments": [...], "commenters": [...]}`. A comment: `commentHex`, `parentHex` ("root" at
top level), `commenterHex` ("anonymous" for a guest), `domain` and `url` (the page's path),
`markdown` (and `html`, where given), `creationDate` (RFC 3339), `state` (`approved`,
`unapproved`, or `flagged`: caught by the spam filter and waiting for a moderator, so held
here too), `deleted` (or a text of "[deleted]", as Commento overwrites it). A commenter:
`commenterHex`, `name`, `email`, `link` (the website). Comentario's version 1 says `host`
and `path` for the page, `websiteUrl` for the website, and 64 zeros for the guest.

Version 3, Comentario's own: `{"version": 3, "pages": [...], "comments": [...],
"commenters": [...]}`. A page: `id`, `path`, `title`. A comment: `id`, `parentId` (null at
top level), `pageId`, `markdown` and `html`, `createdTime`, `isApproved`, `isPending`,
`isDeleted` (neither approved nor pending: a moderator rejected it), `userCreated` (the
commenter's `id`; null or the zero UUID for a guest), `authorName` (a guest's name), `url`
(the comment's address: the page's URL and a `#comentario-` fragment). A commenter: `id`,
`email`, `name`, `websiteUrl`.

The commenters come after the comments, and a page's comments may be anywhere in the list,
so the document is read twice as a stream (core.imports.jsonstream): the first pass checks
every comment, keeps the pages, the commenters and how many comments each page has; the
second yields a page's comments once its last one has come. Memory holds the pages and
commenters, and the comments of pages not yet complete, never the whole document. A
broken file is found in the first pass, so it imports nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rejoinder.core.imports import jsonstream
from rejoinder.core.imports.generic import gunzipped
from rejoinder.core.imports.records import (
    BodyFormat,
    ImportFileError,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)

VERSIONS = (1, 3)
ROOT = "root"
ANONYMOUS = ("anonymous", "0" * 64)  # Commento's guest, and Comentario's version 1
GUEST_V3 = "00000000-0000-0000-0000-000000000000"  # Comentario's anonymous user
DELETED = "[deleted]"  # what Commento writes over a deleted comment's text
_STATES = {
    "approved": SourceStatus.APPROVED,
    "unapproved": SourceStatus.PENDING,
    "flagged": SourceStatus.PENDING,
}
_STREAMED = {"comments", "commenters", "pages"}


def _string(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportFileError(f"{where}: {key!r} must be a string")
    return value


def _flag(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ImportFileError(f"{where}: {key!r} must be true or false")
    return value


def _date(value: str, key: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ImportFileError(f"{where}: {key!r} {value!r} is not an RFC 3339 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _page(domain: str, path: str) -> str:
    """The page's address: https, the domain, the path (Commento keeps no scheme)."""
    if path.startswith(("http://", "https://")):
        return path
    return f"https://{domain.strip('/')}/{path.lstrip('/')}"


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFileError(f"{where} must be an object")
    return value


@dataclass(slots=True)
class _Document:
    """What the first pass keeps: everything but the comments, and each page's count."""

    version: Any = None
    commenters: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # v3 id -> path, title
    urls: dict[str, str] = field(default_factory=dict)  # v3 page id -> URL from a comment
    counts: Counter[str] = field(default_factory=Counter)
    has_comments: bool = False


def _commenter(item: dict[str, Any], where: str) -> tuple[str, tuple[str, str, str]]:
    key = _string(item, "commenterHex", where) or _string(item, "id", where)
    website = _string(item, "link", where) or _string(item, "websiteUrl", where)
    return key, (_string(item, "name", where), _string(item, "email", where), website)


def _comment_v1(
    item: dict[str, Any], where: str, commenters: dict[str, tuple[str, str, str]]
) -> tuple[str, SourceComment]:
    source_id = _string(item, "commentHex", where)
    if source_id:
        where = f"{where} ({source_id})"
    state = _string(item, "state", where) or "approved"
    status = _STATES.get(state)
    if status is None:
        raise ImportFileError(f"{where}: 'state' {state!r} is not approved, unapproved or flagged")
    markdown = _string(item, "markdown", where)
    html = _string(item, "html", where)
    if item.get("deleted") is True or (markdown in ("", DELETED) and html in ("", DELETED)):
        status = SourceStatus.DELETED
    author = _string(item, "commenterHex", where)
    name, email, website = commenters.get(author, ("", "", ""))
    if author not in commenters and author not in ("", *ANONYMOUS):
        name = ""  # a commenter the export does not list: shown as a guest
    body_format: BodyFormat = "markdown" if markdown or not html else "html"
    parent = _string(item, "parentHex", where)
    page = _page(
        _string(item, "domain", where) or _string(item, "host", where),
        _string(item, "path", where) or _string(item, "url", where),
    )
    return page, SourceComment(
        source_id=source_id,
        parent_id=parent if parent and parent != ROOT else None,
        name=name,
        email=email,
        website=website or None,
        created_at=_date(_string(item, "creationDate", where), "creationDate", where),
        status=status,
        body=markdown or html,
        body_format=body_format,
    )


def _comment_v3(
    item: dict[str, Any], where: str, commenters: dict[str, tuple[str, str, str]]
) -> tuple[str, SourceComment]:
    source_id = _string(item, "id", where)
    if source_id:
        where = f"{where} ({source_id})"
    page_id = _string(item, "pageId", where)
    if not page_id:
        raise ImportFileError(f"{where}: 'pageId' is missing")
    markdown = _string(item, "markdown", where)
    html = _string(item, "html", where)
    if _flag(item, "isDeleted", where) or not (markdown or html):
        status = SourceStatus.DELETED
    elif _flag(item, "isPending", where):
        status = SourceStatus.PENDING
    elif _flag(item, "isApproved", where):
        status = SourceStatus.APPROVED
    else:
        status = SourceStatus.REJECTED
    author = _string(item, "userCreated", where)
    if author and author != GUEST_V3 and author in commenters:
        name, email, website = commenters[author]
    else:  # a guest, or a user the export does not list: the name they gave
        name, email, website = _string(item, "authorName", where), "", ""
    body_format: BodyFormat = "markdown" if markdown else "html"
    return page_id, SourceComment(
        source_id=source_id,
        parent_id=_string(item, "parentId", where) or None,
        name=name,
        email=email,
        website=website or None,
        created_at=_date(_string(item, "createdTime", where), "createdTime", where),
        status=status,
        body=markdown or html,
        body_format=body_format,
    )


def _v3_url(item: dict[str, Any]) -> str:
    """The page's URL from a version 3 comment's own: without its #comentario- fragment."""
    url = item.get("url")
    return url.partition("#")[0] if isinstance(url, str) else ""


def _check_version(version: Any) -> None:
    if version not in VERSIONS or isinstance(version, bool):
        raise ImportFileError(
            f"version {version!r} of the Commento or Comentario export is not known here"
            " (this Rejoinder reads versions 1, Commento's, and 3, Comentario's)"
        )


def _first_pass(chunks: Iterable[bytes]) -> _Document:
    document = _Document()
    for name, index, value in jsonstream.members(chunks, _STREAMED):
        where = f"{name}[{index}]"
        if name == "version":
            document.version = value
            _check_version(value)
        elif name == "commenters" and index is not None:
            key, commenter = _commenter(_object(value, where), where)
            document.commenters[key] = commenter
        elif name == "pages" and index is not None:
            entry = _object(value, where)
            document.pages[_string(entry, "id", where)] = (
                _string(entry, "path", where),
                _string(entry, "title", where),
            )
        elif name == "comments" and index is not None:
            document.has_comments = True
            item = _object(value, where)
            # Checked whole here, so a broken comment stops the import before anything is
            # stored. Real exports give the version first; where it comes later, a
            # version 3 comment is known by its pageId.
            v3 = document.version == 3 or (document.version is None and "pageId" in item)
            page, _ = (_comment_v3 if v3 else _comment_v1)(item, where, {})
            document.counts[page] += 1
            if v3 and page not in document.urls and (url := _v3_url(item)):
                document.urls[page] = url
        elif name in _STREAMED:
            if value is not None:
                raise ImportFileError(f"{name!r} must be a list")
            document.has_comments = document.has_comments or name == "comments"
    return document


def read_commento(open_chunks: Callable[[], Iterable[bytes]]) -> Iterator[ThreadBatch]:
    """The pages of the export with their comments, a page as soon as its last comment has
    been read. `open_chunks` gives the file's bytes from the start, once per pass."""
    document = _first_pass(gunzipped(open_chunks()))
    if not document.has_comments:
        raise ImportFileError(
            'this is not a Commento or Comentario export: it must be {"version": 1 or 3,'
            ' "comments": [...], "commenters": [...]}'
        )
    _check_version(document.version)
    read = _comment_v3 if document.version == 3 else _comment_v1
    counts = document.counts
    waiting: dict[str, list[SourceComment]] = {}
    for name, index, value in jsonstream.members(gunzipped(open_chunks()), {"comments"}):
        if name != "comments" or index is None:
            continue
        page, comment = read(value, f"comments[{index}]", document.commenters)
        comments = waiting.setdefault(page, [])
        comments.append(comment)
        if len(comments) >= counts[page]:
            del waiting[page]
            yield ThreadBatch(_thread(document, page), tuple(comments))
    for page, comments in waiting.items():  # only if the file changed between the passes
        yield ThreadBatch(_thread(document, page), tuple(comments))


def _thread(document: _Document, page: str) -> SourceThread:
    if document.version != 3:
        return SourceThread(None, page, "")
    path, title = document.pages.get(page, ("", ""))
    # The comment's URL gives the site's address; without it, the page's path, which
    # --rewrite-url makes a URL (as for Isso).
    return SourceThread(None, document.urls.get(page) or path or None, title)
