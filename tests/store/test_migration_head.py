"""The revision the fast path trusts is the one Alembic computes from the shipped scripts."""

from __future__ import annotations

from rejoinder.store.database import Database
from rejoinder.store.migrate import HEAD, alembic_head, current, upgrade


def test_head_constant_matches_alembic_head() -> None:
    assert alembic_head() == HEAD


def test_upgrade_on_empty_database_reaches_head_and_then_skips_alembic(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert current(db) is None
        upgrade(db)
        assert current(db) == HEAD
        upgrade(db)  # the fast path: already at head
        assert current(db) == HEAD
    finally:
        db.dispose()
