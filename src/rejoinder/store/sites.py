"""Sites and the server's own secrets."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, insert, select, update

from rejoinder.core.models import Site
from rejoinder.store.schema import (
    articles,
    bans,
    notify_optouts,
    refused,
    server_secrets,
    site_models,
    sites,
    staff_alerts,
    staff_sites,
)

DEFAULT_SITE = "default"
_FIRST_START_LOCK = 7270701  # PostgreSQL advisory lock: one worker makes the first rows


def _one_at_a_time(conn: Connection) -> None:
    """Workers starting together on a new PostgreSQL database would each insert the default
    site and the secret, and all but one would die on the unique key: they take turns, until
    the transaction ends. (On SQLite, BEGIN IMMEDIATE already makes them take turns.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_FIRST_START_LOCK)))


_COLUMNS = (
    sites.c.id,
    sites.c.name,
    sites.c.title,
    sites.c.domain,
    sites.c.base_url,
    sites.c.origins,
    sites.c.language,
)


def _origins(raw: str | None) -> tuple[str, ...]:
    value = json.loads(raw) if raw else []
    return tuple(str(origin) for origin in value) if isinstance(value, list) else ()


def _site(row: RowMapping) -> Site:
    return Site(
        id=row["id"],
        name=row["name"],
        title=row["title"],
        domain=row["domain"],
        base_url=row["base_url"],
        origins=_origins(row["origins"]),
        language=row["language"],
    )


def get_site(conn: Connection, name: str) -> Site | None:
    row = conn.execute(select(*_COLUMNS).where(sites.c.name == name)).mappings().first()
    return _site(row) if row else None


def get_site_for_host(conn: Connection, host: str) -> Site | None:
    row = conn.execute(select(*_COLUMNS).where(sites.c.domain == host)).mappings().first()
    return _site(row) if row else None


def list_sites(conn: Connection) -> list[Site]:
    rows = conn.execute(select(*_COLUMNS).order_by(sites.c.id))
    return [_site(row) for row in rows.mappings()]


def add_site(
    conn: Connection,
    name: str,
    title: str,
    now: datetime,
    domain: str | None = None,
    *,
    base_url: str | None = None,
    origins: tuple[str, ...] = (),
    language: str = "en",
) -> Site:
    site_id = conn.execute(
        insert(sites)
        .values(
            name=name,
            title=title,
            domain=domain,
            base_url=base_url,
            origins=json.dumps(list(origins)),
            language=language,
            settings="{}",
            created_at=now,
        )
        .returning(sites.c.id)
    ).scalar_one()
    return Site(
        id=site_id,
        name=name,
        title=title,
        domain=domain,
        base_url=base_url,
        origins=origins,
        language=language,
    )


def update_site(conn: Connection, site: Site) -> None:
    """Store the site's name, title, domain, base URL, origins and language as given."""
    conn.execute(
        update(sites)
        .where(sites.c.id == site.id)
        .values(
            name=site.name,
            title=site.title,
            domain=site.domain,
            base_url=site.base_url,
            origins=json.dumps(list(site.origins)),
            language=site.language,
        )
    )


def count_site_articles(conn: Connection, site_id: int) -> int:
    query = select(func.count()).select_from(articles).where(articles.c.site_id == site_id)
    return int(conn.execute(query).scalar_one())


def delete_site(conn: Connection, site_id: int) -> None:
    """Remove a site that has no articles, with what hangs on it alone: its staff limits,
    bans, refused submissions, learnt models, staff members' alert choices and readers'
    unsubscriptions. (Its audit entries stay: the log is never changed.)"""
    for table in (staff_sites, bans, refused, site_models, staff_alerts, notify_optouts):
        conn.execute(delete(table).where(table.c.site_id == site_id))
    conn.execute(delete(sites).where(sites.c.id == site_id))


def set_site_origins(conn: Connection, site_id: int, origins: Sequence[str]) -> None:
    """The origins allowed to embed the site's discussions (a list, stored as JSON)."""
    conn.execute(
        update(sites).where(sites.c.id == site_id).values(origins=json.dumps(list(origins)))
    )


def ensure_default_site(conn: Connection, title: str, now: datetime) -> Site:
    site = get_site(conn, DEFAULT_SITE)
    if site is None:
        _one_at_a_time(conn)  # then look again: another worker may have just made it
        site = get_site(conn, DEFAULT_SITE) or add_site(conn, DEFAULT_SITE, title, now)
    return site


def get_or_add_secret(conn: Connection, name: str, make: Callable[[], str]) -> str:
    """The named secret, created on first use and shared by every worker from then on."""
    value = get_secret(conn, name)
    if value is None:
        _one_at_a_time(conn)
        value = get_secret(conn, name)  # another worker may have just made it
    if value is None:
        value = make()
        conn.execute(insert(server_secrets).values(name=name, value=value))
    return value


def get_secret(conn: Connection, name: str) -> str | None:
    """The named secret, or None where none is made yet (`get_or_add_secret` makes it)."""
    value = conn.execute(
        select(server_secrets.c.value).where(server_secrets.c.name == name)
    ).scalar_one_or_none()
    return None if value is None else str(value)


_SETTINGS = select(sites.c.settings).where(sites.c.id == bindparam("b_site"))


def get_site_settings(conn: Connection, site_id: int) -> dict[str, Any]:
    """The site's own settings (its moderation policy among them), as stored JSON."""
    raw = conn.execute(_SETTINGS, {"b_site": site_id}).scalar_one_or_none()
    value = json.loads(raw) if raw else {}
    return value if isinstance(value, dict) else {}


def update_site_settings(conn: Connection, site_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(sites).where(sites.c.id == site_id).values(settings=json.dumps(values)))
