"""Apply the Alembic migrations that ship inside the package.

Alembic itself is imported only when there is something to do: a server that starts on an
up-to-date database never loads it, which keeps every process smaller.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from rejoinder.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision in migrations/versions; a test checks it against Alembic's own head.
HEAD = "0013"


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction (PostgreSQL) or step by step (SQLite)."""
    if revision in ("head", HEAD) and current(db) == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.write() as conn:
        if not db.is_sqlite:
            # Several workers or hosts may start at once: one migrates, the others wait.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7270700)")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_head() -> str | None:
    """The head revision as Alembic computes it from the shipped scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def known_revisions() -> frozenset[str]:
    """Every revision the shipped scripts name (their files start with it: 0001_initial.py)."""
    return frozenset(
        path.name.partition("_")[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py")
    )
