"""The smallest questions that show a backend answers: a trivial query, a Redis PING."""

from __future__ import annotations

from sqlalchemy import text

from rejoinder.store.database import Database

_ONE = text("SELECT 1")


def ping_database(db: Database) -> None:
    """Raises when the database does not answer a trivial query."""
    with db.read() as conn:
        conn.execute(_ONE).scalar_one()


def ping_redis(url: str, timeout: float) -> None:
    """Raises when Redis does not answer PING within `timeout` seconds (connecting included)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()
