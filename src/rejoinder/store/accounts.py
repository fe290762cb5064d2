"""Desk accounts, their sessions and API tokens, and failed login attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from rejoinder.core.models import Role, User
from rejoinder.store.schema import api_tokens, login_attempts, sessions, staff_sites, users

_USER = (users.c.id, users.c.name, users.c.role, users.c.disabled)


def _user(row: RowMapping) -> User:
    return User(id=row["id"], name=row["name"], role=Role(row["role"]), disabled=row["disabled"])


def add_user(conn: Connection, name: str, role: Role, password_hash: str, now: datetime) -> User:
    user_id = conn.execute(
        insert(users)
        .values(
            name=name, role=role.value, password_hash=password_hash, created_at=now, updated_at=now
        )
        .returning(users.c.id)
    ).scalar_one()
    return User(id=user_id, name=name, role=role, disabled=False)


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(*_USER).where(users.c.name == name)).mappings().first()
    return _user(row) if row else None


def get_password_hash(conn: Connection, name: str) -> tuple[User, str] | None:
    row = (
        conn.execute(select(*_USER, users.c.password_hash).where(users.c.name == name))
        .mappings()
        .first()
    )
    return (_user(row), row["password_hash"]) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(row) for row in conn.execute(select(*_USER).order_by(users.c.name)).mappings()]


def list_staff_site_ids(conn: Connection, user_id: int) -> frozenset[int]:
    """The sites an account is limited to; empty: it acts on every site."""
    query = select(staff_sites.c.site_id).where(staff_sites.c.user_id == user_id)
    return frozenset(int(site_id) for site_id in conn.execute(query).scalars())


def list_all_staff_site_ids(conn: Connection) -> dict[int, frozenset[int]]:
    """Every limited account's sites, by user id."""
    found: dict[int, set[int]] = {}
    for user_id, site_id in conn.execute(select(staff_sites.c.user_id, staff_sites.c.site_id)):
        found.setdefault(int(user_id), set()).add(int(site_id))
    return {user_id: frozenset(ids) for user_id, ids in found.items()}


def set_staff_sites(conn: Connection, user_id: int, site_ids: frozenset[int]) -> None:
    conn.execute(delete(staff_sites).where(staff_sites.c.user_id == user_id))
    if site_ids:
        conn.execute(
            insert(staff_sites), [{"user_id": user_id, "site_id": s} for s in sorted(site_ids)]
        )


def update_user(conn: Connection, user_id: int, now: datetime, **values: object) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(updated_at=now, **values))


def add_session(
    conn: Connection, session_id: str, user_id: int, csrf: str, now: datetime, expires: datetime
) -> None:
    conn.execute(
        insert(sessions).values(
            id=session_id, user_id=user_id, csrf=csrf, created_at=now, expires_at=expires
        )
    )


def get_session(conn: Connection, session_id: str, now: datetime) -> tuple[User, str] | None:
    """The live session's user and CSRF token; expired sessions and disabled users get none."""
    row = (
        conn.execute(
            select(*_USER, sessions.c.csrf)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id == session_id, sessions.c.expires_at > now)
        )
        .mappings()
        .first()
    )
    if row is None or row["disabled"]:
        return None
    return _user(row), row["csrf"]


def delete_session(conn: Connection, session_id: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id == session_id))


def delete_user_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def add_token(conn: Connection, user_id: int, name: str, token_hash: str, now: datetime) -> int:
    return int(
        conn.execute(
            insert(api_tokens)
            .values(user_id=user_id, name=name, token_hash=token_hash, created_at=now)
            .returning(api_tokens.c.id)
        ).scalar_one()
    )


def get_token_user(conn: Connection, token_hash: str, now: datetime) -> User | None:
    row = (
        conn.execute(
            select(*_USER, api_tokens.c.id.label("token_id"))
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked.is_(False))
        )
        .mappings()
        .first()
    )
    if row is None or row["disabled"]:
        return None
    conn.execute(
        update(api_tokens).where(api_tokens.c.id == row["token_id"]).values(last_used_at=now)
    )
    return _user(row)


_LOGIN_LOCK = 7270702  # PostgreSQL advisory lock: login attempts are counted one at a time


def lock_login_attempts(conn: Connection) -> None:
    """Until the transaction ends, no other login attempt counts or adds rows: counting and
    adding then act as one step. (On SQLite, BEGIN IMMEDIATE already takes turns.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_LOGIN_LOCK)))


def add_login_attempts(conn: Connection, keys: list[str], now: datetime) -> list[int]:
    """One row per key; their ids, to take them back if the attempt succeeds."""
    rows = conn.execute(
        insert(login_attempts).returning(login_attempts.c.id),
        [{"key": key, "created_at": now} for key in keys],
    )
    return [int(row_id) for row_id in rows.scalars()]


def purge_login_attempts(conn: Connection, before: datetime, at_most: int) -> int:
    """Delete attempts older than `before` among the `at_most` oldest rows (by id, which is
    the order they were added in): bounded work whatever the table holds. Returns how many
    went."""
    oldest = select(login_attempts.c.id).order_by(login_attempts.c.id).limit(at_most)
    result = conn.execute(
        delete(login_attempts).where(
            login_attempts.c.id.in_(oldest.scalar_subquery()),
            login_attempts.c.created_at < before,
        )
    )
    return int(result.rowcount or 0)


def delete_login_attempts(conn: Connection, ids: list[int]) -> None:
    conn.execute(delete(login_attempts).where(login_attempts.c.id.in_(ids)))


def count_login_attempts(conn: Connection, keys: list[str], since: datetime) -> dict[str, int]:
    """Attempts per key since `since` (keys without any are absent)."""
    query = (
        select(login_attempts.c.key, func.count())
        .where(login_attempts.c.key.in_(keys), login_attempts.c.created_at > since)
        .group_by(login_attempts.c.key)
    )
    return {key: int(count) for key, count in conn.execute(query)}
