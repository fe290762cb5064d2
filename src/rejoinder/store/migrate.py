"""Apply the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from rejoinder.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction (PostgreSQL) or step by step (SQLite)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.write() as conn:
        if not db.is_sqlite:
            # Several workers or hosts may start at once: one migrates, the others wait.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7270700)")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
