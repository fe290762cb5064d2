"""The reads behind a site's activity charts: four queries whatever the number of days, each
over a range of `created_at` (indexed: ix_comments_created, ix_audit_created, and
ix_comments_status_created for the held count). Days are bucketed by the pure core
(`core/activity.py`) from the rows, so SQLite and PostgreSQL answer alike."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from rejoinder.core.activity import HOLD, PUBLISH, REFUSE, Arrival, Decision
from rejoinder.core.models import Status
from rejoinder.store.schema import articles, audit_log, comments

DECISIONS = ("approve", "reject")  # the desk's actions that take a comment out of "held"


def _json(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _scores(record: dict[str, Any]) -> dict[str, float]:
    raw = record.get("scores")
    if not isinstance(raw, dict):
        return {}
    return {
        str(name): float(score)
        for name, score in raw.items()
        if isinstance(score, int | float) and not isinstance(score, bool)
    }


def _left_hold(row: Any) -> datetime | None:
    """When a held comment left the queue, as far as its row tells (the audit log's decision,
    when there is one, is more exact): never while held; a writer's withdrawal when erased."""
    status = row.status
    if status == Status.HELD:
        return None
    if status in (Status.WITHDRAWN, Status.DELETED):
        times = (row.edited_at, row.moderated_at, row.created_at)
    else:
        times = (row.moderated_at, row.edited_at, row.created_at)
    found: datetime | None = next((t for t in times if t is not None), None)
    return found


def arrivals(conn: Connection, site_id: int, since: datetime, until: datetime) -> list[Arrival]:
    """The site's comments posted in [since, until) (not imported), each with the verdict it
    got (from its moderation record; without one, from its status), and the refused
    submissions of those days (from the audit log, which keeps them after `refused` is
    purged)."""
    query = (
        select(
            comments.c.id,
            comments.c.status,
            comments.c.created_at,
            comments.c.moderated_at,
            comments.c.edited_at,
            comments.c.moderation,
        )
        .join(articles, articles.c.id == comments.c.article_id)
        .where(
            articles.c.site_id == site_id,
            comments.c.created_at >= since,
            comments.c.created_at < until,
            comments.c.imported.is_(False),
        )
    )
    found = []
    for row in conn.execute(query):
        record = _json(row.moderation)
        verdict = record.get("verdict")
        if verdict not in (PUBLISH, HOLD, REFUSE):
            verdict = HOLD if row.status == Status.HELD else PUBLISH
        found.append(
            Arrival(
                at=row.created_at,
                verdict=str(verdict),
                scores=_scores(record),
                comment_id=row.id,
                left_hold_at=_left_hold(row) if verdict == HOLD else None,
            )
        )
    refusals = select(audit_log.c.created_at, audit_log.c.data).where(
        audit_log.c.created_at >= since,
        audit_log.c.created_at < until,
        audit_log.c.site_id == site_id,
        audit_log.c.action == "verdict",
        audit_log.c.after == REFUSE,
        audit_log.c.comment_id.is_(None),  # a refused edit names its comment
    )
    for refusal in conn.execute(refusals):
        data = _json(refusal.data)
        if data.get("edit") or data.get("imported"):
            continue
        found.append(Arrival(at=refusal.created_at, verdict=REFUSE, scores=_scores(data)))
    return found


def decisions(conn: Connection, site_id: int, since: datetime, until: datetime) -> list[Decision]:
    """The desk's decisions on held comments made in [since, until), with each comment's
    posting time."""
    query = (
        select(audit_log.c.comment_id, comments.c.created_at, audit_log.c.created_at.label("at"))
        .join(comments, comments.c.id == audit_log.c.comment_id)
        .where(
            audit_log.c.created_at >= since,
            audit_log.c.created_at < until,
            audit_log.c.site_id == site_id,
            audit_log.c.action.in_(DECISIONS),
            audit_log.c.before == Status.HELD.value,
        )
    )
    return [
        Decision(comment_id=row.comment_id, posted_at=row.created_at, decided_at=row.at)
        for row in conn.execute(query)
    ]


def held_before(conn: Connection, site_id: int, since: datetime) -> int:
    """The site's comments posted before `since` and held still."""
    query = (
        select(func.count())
        .select_from(comments.join(articles, articles.c.id == comments.c.article_id))
        .where(
            comments.c.status == Status.HELD.value,
            comments.c.created_at < since,
            articles.c.site_id == site_id,
        )
    )
    return int(conn.execute(query).scalar_one())
