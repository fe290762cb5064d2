"""Comments: add with their number, find, change, and load a page of a thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    bindparam,
    exists,
    func,
    insert,
    select,
    text,
    union_all,
    update,
)

from rejoinder.core.emails import normal_address
from rejoinder.core.models import Comment, PublicComment, Sort, Status
from rejoinder.store.schema import comments

# What readers may see: the email column is simply not selected.
_PUBLIC = (
    comments.c.id,
    comments.c.article_id,
    comments.c.parent_id,
    comments.c.depth,
    comments.c.number,
    comments.c.author_name,
    comments.c.author_website,
    comments.c.body_html,
    comments.c.status,
    comments.c.created_at,
    comments.c.edited_at,
    comments.c.imported,
    comments.c.featured,
    comments.c.pinned,
)
# A stored comment's fields (the Comment model), without what only moderation reads.
_PRIVATE = (
    *_PUBLIC[:5],
    comments.c.root_id,
    comments.c.author_name,
    comments.c.author_email,
    comments.c.author_website,
    comments.c.body_markdown,
    comments.c.body_html,
    comments.c.status,
    comments.c.created_at,
    comments.c.edited_at,
    comments.c.imported,
    comments.c.notify_replies,
)
# Deleted and rejected comments are read too: they hold their place while replies hang under
# them (core.threads drops those with none), and their text is never shown.
_SHOWN = (Status.PUBLISHED.value, Status.DELETED.value, Status.REJECTED.value)


def _public(row: RowMapping) -> PublicComment:
    values = dict(row)
    values["status"] = Status(values["status"])
    return PublicComment(**values)


def _comment(row: RowMapping) -> Comment:
    values = dict(row)
    values["status"] = Status(values["status"])
    return Comment(**values)


_LAST_NUMBER = select(func.coalesce(func.max(comments.c.number), 0)).where(
    comments.c.article_id == bindparam("b_article")
)
# depth = 0 is what lets the (article_id, depth, number) index answer at once: with only
# "parent_id IS NULL" SQLite reads every comment of the article, inside the write lock; a
# top-level comment is the one at depth 0.
_LAST_TOP_NUMBER = _LAST_NUMBER.where(comments.c.depth == 0, comments.c.parent_id.is_(None))
_LAST_REPLY_NUMBER = _LAST_NUMBER.where(comments.c.parent_id == bindparam("b_parent"))
_ADD_COMMENT = insert(comments).returning(comments.c.id)


def next_number(conn: Connection, article_id: int, parent_id: int | None) -> int:
    """The next number among siblings; the caller holds the article's lock."""
    if parent_id is None:
        last = conn.execute(_LAST_TOP_NUMBER, {"b_article": article_id})
    else:
        last = conn.execute(_LAST_REPLY_NUMBER, {"b_article": article_id, "b_parent": parent_id})
    return int(last.scalar_one()) + 1


def add_comment(
    conn: Connection,
    *,
    article_id: int,
    parent: Comment | None,
    number: int,
    name: str,
    email: str,
    website: str | None,
    body_markdown: str,
    body_html: str,
    status: Status,
    created_at: datetime,
    imported: bool = False,
    notify_replies: bool = False,
    ip_hash: str | None = None,
    ip_group_hash: str | None = None,
    fingerprint: str | None = None,
    moderation: str | None = None,
    awaiting_address: bool = False,
) -> Comment:
    comment = _placed(
        parent,
        id=0,  # the database gives it
        article_id=article_id,
        number=number,
        author_name=name,
        author_email=email,
        author_website=website,
        body_markdown=body_markdown,
        body_html=body_html,
        status=status,
        created_at=created_at,
        edited_at=None,
        imported=imported,
        notify_replies=notify_replies,
    )
    row = _row(comment, fingerprint, moderation, awaiting_address)
    del row["id"]
    row.update(ip_hash=ip_hash, ip_group_hash=ip_group_hash)
    # Built from what was written rather than read back: one query less on every post.
    return replace(comment, id=conn.execute(_ADD_COMMENT, row).scalar_one())


def _placed(parent: Comment | None, **fields: Any) -> Comment:
    """A comment with its place in the thread (parent, root and depth) taken from `parent`."""
    return Comment(
        parent_id=None if parent is None else parent.id,
        root_id=None if parent is None else (parent.root_id or parent.id),
        depth=0 if parent is None else parent.depth + 1,
        **fields,
    )


def _row(
    c: Comment, fingerprint: str | None, moderation: str | None, awaiting_address: bool
) -> dict[str, Any]:
    """The comments table's row for `c` (with what the model does not carry)."""
    return dict(
        id=c.id,
        article_id=c.article_id,
        parent_id=c.parent_id,
        root_id=c.root_id,
        depth=c.depth,
        number=c.number,
        author_name=c.author_name,
        author_email=c.author_email,
        email_key=normal_address(c.author_email),
        author_website=c.author_website,
        body_markdown=c.body_markdown,
        body_html=c.body_html,
        status=c.status.value,
        created_at=c.created_at,
        imported=c.imported,
        notify_replies=c.notify_replies,
        fingerprint=fingerprint,
        moderation=moderation,
        awaiting_address=awaiting_address,
    )


@dataclass(frozen=True, slots=True)
class NewComment:
    """A comment to add with others in one statement (`add_comments`). Its parent is a
    stored comment, or the index of an earlier comment of the same list."""

    parent: Comment | int | None
    number: int
    name: str
    email: str
    website: str | None
    body_markdown: str
    body_html: str
    status: Status
    created_at: datetime
    imported: bool = False
    fingerprint: str | None = None
    moderation: str | None = None


_ADD_MANY = insert(comments)
_TOP_ID = select(func.coalesce(func.max(comments.c.id), 0))
_PG_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, :n)"
)


def _reserve_ids(conn: Connection, count: int) -> list[int]:
    """`count` new comment ids, ascending. On SQLite the writer holds the database's lock
    (BEGIN IMMEDIATE), so the ids after the highest are free, as SQLite itself would give
    them; on PostgreSQL the sequence hands them out."""
    if conn.dialect.name == "sqlite":
        top = int(conn.execute(_TOP_ID).scalar_one())
        return list(range(top + 1, top + 1 + count))
    return sorted(int(row[0]) for row in conn.execute(_PG_IDS, {"n": count}))


def add_comments(conn: Connection, article_id: int, new: Sequence[NewComment]) -> list[Comment]:
    """Add the comments in list order (their ids follow it) in one statement, where one
    statement per comment costs more than the row it writes: the ids are taken first, so a
    reply to a comment of the same list is written with its parent's id."""
    if not new:
        return []
    ids = _reserve_ids(conn, len(new))
    added: list[Comment] = []
    for index, item in enumerate(new):
        parent = item.parent
        if isinstance(parent, int):
            if not 0 <= parent < index:
                raise ValueError(f"comment {index}'s parent {parent} is not an earlier one")
            parent = added[parent]
        added.append(
            _placed(
                parent,
                id=ids[index],
                article_id=article_id,
                number=item.number,
                author_name=item.name,
                author_email=item.email,
                author_website=item.website,
                body_markdown=item.body_markdown,
                body_html=item.body_html,
                status=item.status,
                created_at=item.created_at,
                edited_at=None,
                imported=item.imported,
                notify_replies=False,
            )
        )
    conn.execute(
        _ADD_MANY,
        [
            _row(c, item.fingerprint, item.moderation, False)
            for c, item in zip(added, new, strict=True)
        ],
    )
    return added


_LAST_NUMBERS = (
    select(comments.c.parent_id, func.max(comments.c.number))
    .where(comments.c.article_id == bindparam("b_article"))
    .group_by(comments.c.parent_id)
)


def last_numbers(conn: Connection, article_id: int) -> dict[int | None, int]:
    """The highest number among each set of siblings of the discussion, by parent id (None:
    the top level), in one query: what `next_number` gives one at a time."""
    rows = conn.execute(_LAST_NUMBERS, {"b_article": article_id})
    return {row[0]: int(row[1] or 0) for row in rows}


# Ids come from URLs and forms; one the id column cannot hold (INTEGER is 32-bit on
# PostgreSQL; SQLite overflows past 64) names no comment, rather than failing the query.
_MAX_ID = 2**31 - 1


def get_comment(conn: Connection, comment_id: int) -> Comment | None:
    if not 0 < comment_id <= _MAX_ID:
        return None
    row = conn.execute(select(*_PRIVATE).where(comments.c.id == comment_id)).mappings().first()
    return _comment(row) if row else None


def get_comments_by_ids(conn: Connection, comment_ids: Sequence[int]) -> list[Comment]:
    """Several comments at once (at most a few hundred ids: the caller chunks)."""
    if not comment_ids:
        return []
    rows = conn.execute(select(*_PRIVATE).where(comments.c.id.in_(list(comment_ids))))
    return [_comment(row) for row in rows.mappings()]


def get_public_comment(conn: Connection, comment_id: int) -> PublicComment | None:
    if not 0 < comment_id <= _MAX_ID:
        return None
    row = conn.execute(select(*_PUBLIC).where(comments.c.id == comment_id)).mappings().first()
    return _public(row) if row else None


def has_shown_replies(conn: Connection, comment_id: int) -> bool:
    query = select(
        exists().where(comments.c.parent_id == comment_id, comments.c.status.in_(_SHOWN))
    )
    return bool(conn.execute(query).scalar_one())


def update_body(
    conn: Connection,
    comment_id: int,
    body_markdown: str,
    body_html: str,
    now: datetime,
    *,
    status: Status | None = None,
    moderation: str | None = None,
) -> None:
    """The writer's new text; with `status` and `moderation`, the pipeline's verdict on it."""
    values: dict[str, object] = {
        "body_markdown": body_markdown,
        "body_html": body_html,
        "edited_at": now,
    }
    if status is not None:
        values["status"] = status.value
    if moderation is not None:
        values["moderation"] = moderation
    conn.execute(update(comments).where(comments.c.id == comment_id).values(values))


def update_status(conn: Connection, comment_id: int, status: Status) -> None:
    conn.execute(update(comments).where(comments.c.id == comment_id).values(status=status.value))


def erase_comment(conn: Connection, comment_id: int, status: Status, now: datetime) -> None:
    """Remove what the writer wrote and who they are; the row stays for the thread's shape."""
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(
            status=status.value,
            author_name="",
            author_email="",
            author_website=None,
            body_markdown="",
            body_html="",
            edited_at=now,
        )
    )


def _top_level(article_id: int, *, pinned: bool) -> Select[Any]:
    query = select(*_PUBLIC).where(
        comments.c.article_id == article_id,
        comments.c.status.in_(_SHOWN),
        comments.c.hidden.is_(False),  # hidden by readers' reports until reviewed
        comments.c.pinned.is_(pinned),
    )
    # Only a top-level comment is ever pinned: the pinned ones are found through their own
    # small index (ix_comments_pinned), the others through the thread's.
    return query if pinned else query.where(comments.c.depth == 0)


def list_top_level(
    conn: Connection,
    article_id: int,
    *,
    sort: Sort,
    after: int | None,
    limit: int,
    pinned_limit: int = 0,
) -> tuple[list[PublicComment], list[PublicComment]]:
    """(the pinned top-level comments, at most `pinned_limit`, oldest first; up to `limit`
    of the others readers may see, from the cursor on), in one statement."""
    query = _top_level(article_id, pinned=False)
    if sort is Sort.OLDEST:
        if after is not None:
            query = query.where(comments.c.number > after)
        query = query.order_by(comments.c.number.asc())
    else:
        if after is not None:
            query = query.where(comments.c.number < after)
        query = query.order_by(comments.c.number.desc())
    pinned = _top_level(article_id, pinned=True).order_by(comments.c.number).limit(pinned_limit)
    # Each part limited on its own, then one round trip; the order is put back here.
    both = union_all(select(pinned.subquery()), select(query.limit(limit).subquery()))
    rows = [_public(row) for row in conn.execute(both).mappings()]
    first = sorted((c for c in rows if c.pinned), key=lambda c: c.number)
    others = sorted(
        (c for c in rows if not c.pinned), key=lambda c: c.number, reverse=sort is Sort.NEWEST
    )
    return first, others


def list_replies(conn: Connection, root_ids: Sequence[int]) -> list[PublicComment]:
    """Every shown reply, at any depth, under the given top-level comments."""
    if not root_ids:
        return []
    query = select(*_PUBLIC).where(
        comments.c.root_id.in_(list(root_ids)),
        comments.c.status.in_(_SHOWN),
        comments.c.hidden.is_(False),  # its replies go too: build_tree drops orphans
    )
    return [_public(row) for row in conn.execute(query).mappings()]


def count_top_level(conn: Connection, article_id: int) -> int:
    query = select(func.count()).where(
        comments.c.article_id == article_id,
        comments.c.depth == 0,
        comments.c.status.in_(_SHOWN),
        comments.c.hidden.is_(False),  # hidden by readers' reports until reviewed
    )
    return int(conn.execute(query).scalar_one())


def list_recent_public(conn: Connection, article_id: int, limit: int) -> list[PublicComment]:
    """The newest published comments of an article, for its feed."""
    query = (
        select(*_PUBLIC)
        .where(
            comments.c.article_id == article_id,
            comments.c.status == Status.PUBLISHED.value,
            comments.c.hidden.is_(False),
        )
        .order_by(comments.c.created_at.desc(), comments.c.id.desc())
        .limit(limit)
    )
    return [_public(row) for row in conn.execute(query).mappings()]


def count_published(conn: Connection, article_id: int) -> int:
    query = select(func.count()).where(
        comments.c.article_id == article_id,
        comments.c.status == Status.PUBLISHED.value,
        comments.c.hidden.is_(False),  # what comment_count counts: hiding takes one off
    )
    return int(conn.execute(query).scalar_one())


def list_held_among(conn: Connection, article_id: int, ids: Sequence[int]) -> list[PublicComment]:
    """Those of `ids` that are held on this article, oldest first."""
    if not ids:
        return []
    query = (
        select(*_PUBLIC)
        .where(
            comments.c.id.in_(list(ids)),
            comments.c.article_id == article_id,
            comments.c.status == Status.HELD.value,
        )
        .order_by(comments.c.created_at)
    )
    return [_public(row) for row in conn.execute(query).mappings()]
