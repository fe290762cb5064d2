"""Per-site model versions, and the moderators' decisions they are fitted on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, true, update

from rejoinder.core.models import Status
from rejoinder.store.schema import articles, audit_log, comments, site_models, sites

#: The desk's actions that say what a moderator thought of a comment, and the status it
#: must still have for that to stand (a later decision replaces an earlier one).
_DECISIONS = {"approve": Status.PUBLISHED.value, "reject": Status.REJECTED.value}
_PEOPLE = ("user", "token")


@dataclass(frozen=True)
class DeskDecision:
    """A moderator's last word on a comment: approved (label 0) or rejected (label 1)."""

    comment_id: int
    label: int
    text: str
    decided_at: datetime
    machine: dict[str, Any] = field(default_factory=dict)  # the pipeline's stored decision


@dataclass(frozen=True)
class SiteModel:
    id: int
    site_id: int
    version: int
    created_at: datetime
    active: bool
    metrics: dict[str, Any]


def _last_decisions(site_id: int) -> Any:
    """The id of each comment's latest approve or reject by a person or a token."""
    return (
        select(func.max(audit_log.c.id).label("id"))
        .where(
            audit_log.c.site_id == site_id,
            audit_log.c.action.in_(tuple(_DECISIONS)),
            audit_log.c.actor_kind.in_(_PEOPLE),
            audit_log.c.comment_id.is_not(None),
        )
        .group_by(audit_log.c.comment_id)
        .subquery()
    )


def _still_standing() -> Any:
    return ((audit_log.c.action == "approve") & (comments.c.status == _DECISIONS["approve"])) | (
        (audit_log.c.action == "reject") & (comments.c.status == _DECISIONS["reject"])
    )


def list_decisions(conn: Connection, site_id: int, limit: int) -> list[DeskDecision]:
    """The site's latest `limit` decisions that still stand, oldest first."""
    last = _last_decisions(site_id)
    rows = conn.execute(
        select(
            audit_log.c.comment_id,
            audit_log.c.action,
            audit_log.c.created_at,
            comments.c.body_markdown,
            comments.c.moderation,
        )
        .select_from(audit_log.join(last, last.c.id == audit_log.c.id))
        .join(comments, comments.c.id == audit_log.c.comment_id)
        .join(articles, and_(articles.c.id == comments.c.article_id, articles.c.site_id == site_id))
        .where(_still_standing())
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    ).all()
    out = []
    for comment_id, action, at, body, raw in reversed(rows):
        try:
            machine = json.loads(raw) if raw else {}
        except ValueError:
            machine = {}
        out.append(
            DeskDecision(
                comment_id=comment_id,
                label=1 if action == "reject" else 0,
                text=body,
                decided_at=at,
                machine=machine if isinstance(machine, dict) else {},
            )
        )
    return out


def count_decisions(conn: Connection, site_id: int) -> dict[int, int]:
    """How many decisions that still stand there are, per label."""
    last = _last_decisions(site_id)
    rows = conn.execute(
        select(audit_log.c.action, func.count())
        .select_from(audit_log.join(last, last.c.id == audit_log.c.id))
        .join(comments, comments.c.id == audit_log.c.comment_id)
        .join(articles, and_(articles.c.id == comments.c.article_id, articles.c.site_id == site_id))
        .where(_still_standing())
        .group_by(audit_log.c.action)
    ).all()
    counts = {0: 0, 1: 0}
    for action, n in rows:
        counts[1 if action == "reject" else 0] = int(n)
    return counts


def _model(row: Any) -> SiteModel:
    try:
        metrics = json.loads(row.metrics or "{}")
    except ValueError:
        metrics = {}
    return SiteModel(
        id=row.id,
        site_id=row.site_id,
        version=row.version,
        created_at=row.created_at,
        active=bool(row.active),
        metrics=metrics if isinstance(metrics, dict) else {},
    )


_LISTED = (
    site_models.c.id,
    site_models.c.site_id,
    site_models.c.version,
    site_models.c.created_at,
    site_models.c.active,
    site_models.c.metrics,
)


def list_models(conn: Connection, site_id: int) -> list[SiteModel]:
    """The site's versions, newest first (without their weights)."""
    rows = conn.execute(
        select(*_LISTED)
        .where(site_models.c.site_id == site_id)
        .order_by(site_models.c.version.desc())
    )
    return [_model(row) for row in rows]


def get_model(conn: Connection, site_id: int, version: int) -> SiteModel | None:
    row = conn.execute(
        select(*_LISTED).where(site_models.c.site_id == site_id, site_models.c.version == version)
    ).first()
    return _model(row) if row else None


# Read for every comment judged: built once (building a statement costs more than running it).
# "= true" (not "IS true") so that SQLite uses the partial index.
_ACTIVE = select(site_models.c.id, site_models.c.version).where(
    site_models.c.site_id == bindparam("b_site"), site_models.c.active == true()
)


def get_active(conn: Connection, site_id: int) -> tuple[int, int] | None:
    """The active version's row id and number, or None when the site uses the shipped model
    (one lookup by the partial unique index, made for every comment judged)."""
    row = conn.execute(_ACTIVE, {"b_site": site_id}).first()
    return (int(row.id), int(row.version)) if row else None


def get_heads(conn: Connection, model_id: int) -> bytes | None:
    raw = conn.execute(
        select(site_models.c.heads).where(site_models.c.id == model_id)
    ).scalar_one_or_none()
    return bytes(raw) if raw is not None else None


def lock_site(conn: Connection, site_id: int) -> None:
    """Serialise version changes of one site (on SQLite, BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(sites.c.id).where(sites.c.id == site_id).with_for_update())


def add_model(
    conn: Connection, site_id: int, heads: bytes, metrics: dict[str, Any], now: datetime
) -> int:
    """Store a new, inactive version; its number is one more than the site's last."""
    lock_site(conn, site_id)
    last = conn.execute(
        select(func.max(site_models.c.version)).where(site_models.c.site_id == site_id)
    ).scalar_one_or_none()
    version = int(last or 0) + 1
    conn.execute(
        insert(site_models).values(
            site_id=site_id,
            version=version,
            created_at=now,
            active=False,
            heads=heads,
            metrics=json.dumps(metrics),
        )
    )
    return version


def set_active(conn: Connection, site_id: int, version: int | None) -> None:
    """Make `version` the site's active one, or none (the shipped model)."""
    conn.execute(
        update(site_models)
        .where(site_models.c.site_id == site_id, site_models.c.active.is_(True))
        .values(active=False)
    )
    if version is not None:
        conn.execute(
            update(site_models)
            .where(site_models.c.site_id == site_id, site_models.c.version == version)
            .values(active=True)
        )
