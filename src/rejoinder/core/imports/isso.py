"""Isso's database (its SQLite file: Isso has no export of its own), as rows of comments
joined to their thread, in thread order: the store reads the file, this turns the rows into
threads, one at a time.

A thread is `threads(id, uri, title)`: `uri` is what the page's embed named, its path
("/2020/hello/") unless the page set `data-isso-id`. A path is the page's URL less its
origin (`--rewrite-url /=https://example.com/` makes it whole); a full http(s) URL is the
URL; anything else is the page id.

A comment is `comments(tid, id, parent, created, modified, mode, remote_addr, text, author,
email, website, likes, dislikes, voters, notification)`: `created` is Unix time (UTC),
`text` is Markdown as written, `mode` 1 is accepted, 2 waits for a moderator, 4 is deleted
(Isso keeps the row only when replies hang under it, its text and author emptied).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from rejoinder.core.imports.records import (
    ImportFileError,
    Problem,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)

_MODES = {1: SourceStatus.APPROVED, 2: SourceStatus.PENDING, 4: SourceStatus.DELETED}
Text = str | bytes | None


@dataclass(frozen=True, slots=True)
class IssoRow:
    """One comment with its thread, as the file holds it: text columns may be bytes (the
    store reads them undecoded, so a bad encoding is named here, by comment)."""

    tid: int
    uri: Text
    title: Text
    id: int
    parent: int | None
    created: float | None
    mode: int | None
    text: Text
    author: Text
    email: Text
    website: Text


def _decode(value: Text, column: str, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{where}: its {column} is not UTF-8 (byte {error.start + 1})"
        ) from None


def _date(value: float | None) -> datetime | None:
    if not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _thread(row: IssoRow) -> SourceThread:
    where = f"thread {row.tid}"
    uri = _decode(row.uri, "uri", where).strip()
    title = _decode(row.title, "title", where)
    if uri.startswith(("http://", "https://", "/")):
        return SourceThread(page_id=None, url=uri, title=title)
    return SourceThread(page_id=uri or None, url=None, title=title)


def _comment(row: IssoRow) -> SourceComment:
    where = f"comment {row.id} (thread {row.tid})"
    status = _MODES.get(row.mode or 0)
    if status is None:
        raise ImportFileError(f"{where}: mode {row.mode!r} is not 1, 2 or 4")
    return SourceComment(
        source_id=str(row.id),
        parent_id=str(row.parent) if row.parent is not None else None,
        name=_decode(row.author, "author", where),
        email=_decode(row.email, "email", where),
        website=_decode(row.website, "website", where) or None,
        created_at=_date(row.created),
        status=status,
        body=_decode(row.text, "text", where),
        body_format="markdown",
    )


def read_isso(rows: Iterable[IssoRow]) -> Iterator[ThreadBatch | Problem]:
    """The threads of the rows, which come ordered by thread: each is yielded whole, once
    the next thread's first row (or the end) is read, and only when every row of it reads.
    Comments of a thread the threads table lacks are skipped with a warning."""
    current: IssoRow | None = None
    comments: list[SourceComment] = []

    def close(row: IssoRow) -> ThreadBatch | Problem:
        if row.uri is None:
            return Problem(
                f"{len(comments)} comment(s) of thread {row.tid}, which the threads table"
                " does not have; skipped"
            )
        return ThreadBatch(_thread(row), tuple(comments))

    for row in rows:
        if current is not None and row.tid != current.tid:
            yield close(current)
            comments = []
        if current is None or row.tid != current.tid:
            current = row
        comments.append(_comment(row))
    if current is not None:
        yield close(current)
