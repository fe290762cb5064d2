"""What `rejoinder import` brought in: the comments it stored, by their id in the source;
and the rows of an Isso database, the one source that is itself SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from sqlalchemy import Connection, bindparam, create_engine, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from rejoinder.core.imports.isso import IssoRow
from rejoinder.core.imports.records import ImportFileError
from rejoinder.core.models import Comment
from rejoinder.store.comments import get_comments_by_ids
from rejoinder.store.schema import imported_comments

_CHUNK = 500  # ids per query: well under every backend's parameter limit
_FIND = select(imported_comments.c.source_id, imported_comments.c.comment_id).where(
    imported_comments.c.article_id == bindparam("b_article"),
    imported_comments.c.source == bindparam("b_source"),
    imported_comments.c.source_id.in_(bindparam("b_ids", expanding=True)),
)


def find_imported(
    conn: Connection, article_id: int, source: str, source_ids: Collection[str]
) -> dict[str, Comment]:
    """The comments of the discussion already imported from these source ids, by source id."""
    ids = list(source_ids)
    found: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            _FIND,
            {"b_article": article_id, "b_source": source, "b_ids": ids[start : start + _CHUNK]},
        )
        chunk = {row.comment_id: row.source_id for row in rows}
        found.update(chunk)
    comments = [
        comment
        for start in range(0, len(found), _CHUNK)
        for comment in get_comments_by_ids(conn, list(found)[start : start + _CHUNK])
    ]
    return {found[c.id]: c for c in comments}


_RECORD = insert(imported_comments)


def record_imported(
    conn: Connection, site_id: int, source: str, stored: Sequence[tuple[Comment, str]]
) -> None:
    """Record the comments just stored with their source ids, in one statement: one
    insert per comment costs more than storing the comment."""
    if stored:
        conn.execute(
            _RECORD,
            [
                {
                    "article_id": comment.article_id,
                    "source": source,
                    "source_id": source_id,
                    "site_id": site_id,
                    "comment_id": comment.id,
                }
                for comment, source_id in stored
            ],
        )


_ISSO_ROWS = text(
    "SELECT c.tid, t.uri, t.title, c.id, c.parent, c.created, c.mode, c.text, c.author,"
    " c.email, c.website FROM comments AS c LEFT JOIN threads AS t ON t.id = c.tid"
    " ORDER BY c.tid, c.id"
)


def read_isso_rows(path: Path) -> Iterator[IssoRow]:
    """The comments of Isso's SQLite database with their threads, thread by thread, read
    only (the file is never written) and as a stream. Text comes undecoded, so a bad byte
    is named by its comment; a file that is not Isso's, or is damaged, raises
    ImportFileError."""
    uri = f"{path.resolve().as_uri()}?mode=ro"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True)
        connection.text_factory = bytes
        return connection

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    count = 0
    try:
        with engine.connect() as conn:
            names = {
                row[0].decode() if isinstance(row[0], bytes) else row[0]
                for row in conn.execute(text("SELECT name FROM sqlite_master"))
            }
            if not {"threads", "comments"} <= names:
                raise ImportFileError(
                    "this is not Isso's database: it has no 'threads' and 'comments' tables"
                )
            for row in conn.execution_options(yield_per=500).execute(_ISSO_ROWS):
                count += 1
                yield IssoRow(*row)
    except DBAPIError as error:
        where = f" after {count} comments" if count else ""
        reason = str(error.orig).strip() or type(error.orig).__name__
        raise ImportFileError(
            f"the SQLite file cannot be read{where} ({reason}): not Isso's database, or"
            " damaged or cut short?"
        ) from None
    finally:
        engine.dispose()
