"""Commento's export (also what Comentario's "commento" export writes), plain or gzip: one
JSON document, `{"version": 1, "comments": [...], "commenters": [...]}`.

A comment: `commentHex`, `parentHex` ("root" at top level), `commenterHex` ("anonymous"
for a guest), `domain` and `url` (the page's path), `markdown` (and `html`, where given),
`creationDate` (RFC 3339), `state` (`approved`, `unapproved`, or `flagged`: caught by the
spam filter and waiting for a moderator, so held here too), `deleted` (or a text of
"[deleted]", as Commento overwrites it). A commenter: `commenterHex`, `name`, `email`,
`link` (the website). Comentario's version 1 export says `host` and `path` for the page,
`websiteUrl` for the website, and 64 zeros for the guest.

The document is one value, and the commenters come after the comments: it is read whole
(Commento writes it in one piece, so its size is bounded by what Commento held in memory),
then yielded one page at a time, pages in the order of their first comment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from rejoinder.core.imports.generic import gunzipped
from rejoinder.core.imports.records import (
    BodyFormat,
    ImportFileError,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)

VERSION = 1
ROOT = "root"
ANONYMOUS = ("anonymous", "0" * 64)  # Commento's guest, and Comentario's
DELETED = "[deleted]"  # what Commento writes over a deleted comment's text
_STATES = {
    "approved": SourceStatus.APPROVED,
    "unapproved": SourceStatus.PENDING,
    "flagged": SourceStatus.PENDING,
}


def _string(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportFileError(f"{where}: {key!r} must be a string")
    return value


def _commenters(data: Any) -> dict[str, tuple[str, str, str]]:
    """commenterHex -> (name, email, website)."""
    if data is None:
        return {}
    if not isinstance(data, list):
        raise ImportFileError("'commenters' must be a list")
    found: dict[str, tuple[str, str, str]] = {}
    for index, item in enumerate(data):
        where = f"commenters[{index}]"
        if not isinstance(item, dict):
            raise ImportFileError(f"{where} must be an object")
        found[_string(item, "commenterHex", where)] = (
            _string(item, "name", where),
            _string(item, "email", where),
            _string(item, "link", where) or _string(item, "websiteUrl", where),
        )
    return found


def _date(value: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ImportFileError(
            f"{where}: 'creationDate' {value!r} is not an RFC 3339 time"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _page(domain: str, path: str) -> str:
    """The page's address: https, the domain, the path (Commento keeps no scheme)."""
    if path.startswith(("http://", "https://")):
        return path
    return f"https://{domain.strip('/')}/{path.lstrip('/')}"


def read_commento(chunks: Iterable[bytes]) -> Iterator[ThreadBatch]:
    raw = b"".join(gunzipped(chunks))
    if not raw.strip():
        raise ImportFileError("the file is empty")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportFileError(f"not UTF-8 (byte {error.start + 1} of the file)", line) from None
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"not JSON ({error.msg} at column {error.colno}): a truncated file?", error.lineno
        ) from None
    if not isinstance(document, dict) or "comments" not in document:
        raise ImportFileError(
            'this is not a Commento export: it must be {"version": 1, "comments": [...],'
            ' "commenters": [...]}'
        )
    if document.get("version") != VERSION:
        raise ImportFileError(
            f"version {document.get('version')!r} of Commento's export is not known here"
            f" (this Rejoinder reads version {VERSION})"
        )
    commenters = _commenters(document.get("commenters"))
    items = document["comments"]
    if not isinstance(items, list):
        raise ImportFileError("'comments' must be a list")
    threads: dict[str, list[SourceComment]] = {}
    for index, item in enumerate(items):
        where = f"comments[{index}]"
        if not isinstance(item, dict):
            raise ImportFileError(f"{where} must be an object")
        source_id = _string(item, "commentHex", where)
        if source_id:
            where = f"{where} ({source_id})"
        state = _string(item, "state", where) or "approved"
        status = _STATES.get(state)
        if status is None:
            raise ImportFileError(
                f"{where}: 'state' {state!r} is not approved, unapproved or flagged"
            )
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
        threads.setdefault(page, []).append(
            SourceComment(
                source_id=source_id,
                parent_id=parent if parent and parent != ROOT else None,
                name=name,
                email=email,
                website=website or None,
                created_at=_date(_string(item, "creationDate", where), where),
                status=status,
                body=markdown or html,
                body_format=body_format,
            )
        )
    for page, comments in threads.items():
        yield ThreadBatch(SourceThread(None, page, ""), tuple(comments))
