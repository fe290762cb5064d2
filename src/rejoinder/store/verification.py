"""Verified addresses, by their normal form (`core.emails.normal_address`), and the comments
that wait for their address to be confirmed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rejoinder.core.emails import normal_address
from rejoinder.core.models import Status
from rejoinder.store.schema import articles, comments, verified_addresses


def is_verified(conn: Connection, address: str) -> bool:
    query = select(verified_addresses.c.address).where(
        verified_addresses.c.address == normal_address(address)
    )
    return conn.execute(query).first() is not None


def verified_among(conn: Connection, addresses: Iterable[str]) -> set[str]:
    """The normal forms of those of `addresses` that are verified."""
    wanted = sorted({normal_address(a) for a in addresses if a})
    if not wanted:
        return set()
    query = select(verified_addresses.c.address).where(verified_addresses.c.address.in_(wanted))
    return set(conn.execute(query).scalars())


def mark_verified(conn: Connection, address: str, now: datetime) -> bool:
    """Record the address as verified; False when it already was."""
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    # Two clicks at once both succeed: the second finds the row and adds nothing.
    added = conn.execute(
        insert_(verified_addresses)
        .values(address=normal_address(address), verified_at=now)
        .on_conflict_do_nothing(index_elements=[verified_addresses.c.address])
    )
    return added.rowcount == 1


@dataclass(frozen=True)
class Awaiting:
    """A comment held until its writer confirms the address, with the verdict it had."""

    id: int
    article_id: int
    parent_id: int | None
    verdict: str


def awaiting_comments(conn: Connection, site_id: int, address: str) -> list[Awaiting]:
    """The site's comments that wait for `address` to be confirmed, oldest first (a reply
    after the comment it answers)."""
    query = (
        select(comments.c.id, comments.c.article_id, comments.c.parent_id, comments.c.moderation)
        .where(
            comments.c.email_key == normal_address(address),
            comments.c.status == Status.HELD.value,
            comments.c.awaiting_address.is_(True),
            comments.c.article_id.in_(select(articles.c.id).where(articles.c.site_id == site_id)),
        )
        .order_by(comments.c.id)
    )
    found = []
    for row in conn.execute(query):
        record = json.loads(row.moderation) if row.moderation else {}
        verdict = record.get("verdict") if isinstance(record, dict) else None
        found.append(Awaiting(row.id, row.article_id, row.parent_id, str(verdict or "hold")))
    return found


def publish_awaiting(conn: Connection, comment_id: int, number: int) -> bool:
    """Publish a waiting comment at `number`; False if it no longer waits."""
    done = conn.execute(
        update(comments)
        .where(_waiting(comment_id))
        .values(status=Status.PUBLISHED.value, number=number, awaiting_address=False)
    )
    return done.rowcount == 1


def hand_to_desk(conn: Connection, comment_id: int) -> bool:
    """A waiting comment that moderation held joins the desk's queue."""
    done = conn.execute(update(comments).where(_waiting(comment_id)).values(awaiting_address=False))
    return done.rowcount == 1


def _waiting(comment_id: int) -> Any:
    return and_(
        comments.c.id == comment_id,
        comments.c.status == Status.HELD.value,
        comments.c.awaiting_address.is_(True),
    )


def awaiting_among(conn: Connection, comment_ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(comment_ids))
    if not wanted:
        return set()
    query = select(comments.c.id).where(
        comments.c.id.in_(wanted),
        comments.c.status == Status.HELD.value,
        comments.c.awaiting_address.is_(True),
    )
    return {int(i) for i in conn.execute(query).scalars()}
