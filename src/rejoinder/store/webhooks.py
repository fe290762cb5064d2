"""Webhook endpoints and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, insert, select, update

from rejoinder.core.webhooks import Delivery, Endpoint
from rejoinder.store.schema import webhook_deliveries, webhooks


def _endpoint(row: RowMapping) -> Endpoint:
    fields = dict(row)
    fields["events"] = tuple(name for name in str(fields["events"]).split(",") if name)
    return Endpoint(**{name: fields[name] for name in Endpoint.__dataclass_fields__})


def add_endpoint(
    conn: Connection,
    *,
    site_id: int,
    url: str,
    events: tuple[str, ...],
    secret: str,
    notify: str | None,
    now: datetime,
) -> Endpoint:
    result = conn.execute(
        insert(webhooks).values(
            site_id=site_id,
            url=url,
            events=",".join(events),
            secret=secret,
            active=True,
            notify=notify,
            failures=0,
            created_at=now,
            updated_at=now,
        )
    )
    assert result.inserted_primary_key is not None
    found = get_endpoint(conn, int(result.inserted_primary_key[0]))
    assert found is not None
    return found


def get_endpoint(conn: Connection, webhook_id: int, *, lock: bool = False) -> Endpoint | None:
    query = select(webhooks).where(webhooks.c.id == webhook_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().one_or_none()
    return _endpoint(row) if row else None


def list_endpoints(conn: Connection, site_id: int) -> list[Endpoint]:
    query = select(webhooks).where(webhooks.c.site_id == site_id).order_by(webhooks.c.id)
    return [_endpoint(row) for row in conn.execute(query).mappings()]


# On the posting path: built once.
_SUBSCRIBED = select(webhooks.c.id, webhooks.c.events).where(
    webhooks.c.site_id == bindparam("site_id"), webhooks.c.active.is_(True)
)


def subscribed_ids(conn: Connection, site_id: int, event: str) -> list[int]:
    """The active endpoints of the site that chose `event`."""
    rows = conn.execute(_SUBSCRIBED, {"site_id": site_id})
    return [int(row.id) for row in rows if event in str(row.events).split(",")]


def update_endpoint(conn: Connection, webhook_id: int, now: datetime, **values: Any) -> bool:
    done = conn.execute(
        update(webhooks).where(webhooks.c.id == webhook_id).values(updated_at=now, **values)
    )
    return done.rowcount == 1


def delete_endpoint(conn: Connection, webhook_id: int) -> bool:
    conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id))
    return conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id)).rowcount == 1


# Each round of the outbox's sender runs these: built once.
_ENDPOINTS = select(webhooks).where(webhooks.c.id.in_(bindparam("ids", expanding=True)))
_ENDPOINTS_LOCKED = _ENDPOINTS.with_for_update()


def get_endpoints(
    conn: Connection, webhook_ids: list[int], *, lock: bool = True
) -> dict[int, Endpoint]:
    """Several endpoints by id, in one query (locked on PostgreSQL unless `lock` is off)."""
    if not webhook_ids:
        return {}
    query = _ENDPOINTS_LOCKED if lock and conn.dialect.name == "postgresql" else _ENDPOINTS
    found = conn.execute(query, {"ids": list(webhook_ids)}).mappings()
    return {int(row["id"]): _endpoint(row) for row in found}


def delete_site_endpoints(conn: Connection, site_id: int) -> None:
    """A removed site's endpoints and their logs."""
    ids = select(webhooks.c.id).where(webhooks.c.site_id == site_id).scalar_subquery()
    conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id.in_(ids)))
    conn.execute(delete(webhooks).where(webhooks.c.site_id == site_id))


_LOG = insert(webhook_deliveries)
# When fewer than `keep` are logged, the subquery is NULL and "id < NULL" deletes nothing.
_OLDEST_KEPT = (
    select(webhook_deliveries.c.id)
    .where(webhook_deliveries.c.webhook_id == bindparam("webhook_id"))
    .order_by(webhook_deliveries.c.id.desc())
    .offset(bindparam("skip"))
    .limit(1)
    .scalar_subquery()
)
_PRUNE = delete(webhook_deliveries).where(
    webhook_deliveries.c.webhook_id == bindparam("webhook_id"),
    webhook_deliveries.c.id < _OLDEST_KEPT,
)


def add_deliveries(conn: Connection, rows: list[dict[str, Any]], *, keep: int) -> None:
    """Log several tries in one statement (each row: webhook_id, message_id, event, attempt,
    status_code, ok, error, at), then forget all but each endpoint's latest `keep`."""
    if not rows:
        return
    conn.execute(_LOG, rows)
    for webhook_id in sorted({int(row["webhook_id"]) for row in rows}):
        conn.execute(_PRUNE, {"webhook_id": webhook_id, "skip": keep - 1})


def list_deliveries(conn: Connection, webhook_id: int, limit: int) -> list[Delivery]:
    query = (
        select(webhook_deliveries)
        .where(webhook_deliveries.c.webhook_id == webhook_id)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
    )
    return [
        Delivery(**{name: row[name] for name in Delivery.__dataclass_fields__})
        for row in conn.execute(query).mappings()
    ]
