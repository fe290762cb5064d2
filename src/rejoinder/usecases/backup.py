"""`rejoinder backup` and `rejoinder restore`: a consistent copy of a live SQLite database, and
putting one back. PostgreSQL has its own tools for both (pg_dump, pg_restore); the refusal
says so and where the commands are written down."""

from __future__ import annotations

from pathlib import Path

from rejoinder.core.errors import Invalid
from rejoinder.store import backup as backup_store
from rejoinder.store.backup import Copied

__all__ = ["Copied", "backup_database", "restore_database"]

NOT_SQLITE = (
    "rejoinder backup and restore work on a SQLite database only. For PostgreSQL use "
    "pg_dump and pg_restore: docs/OPERATIONS.md, section Backups, gives the commands."
)


def _file_of(database_url: str) -> Path:
    path = backup_store.sqlite_path(database_url)
    if path is None:
        raise Invalid("database", NOT_SQLITE)
    return path


def backup_database(database_url: str, target: Path) -> Copied:
    """Copy the configured SQLite database to `target` while servers keep writing to it."""
    return backup_store.backup(_file_of(database_url), target)


def restore_database(database_url: str, file: Path, *, force: bool = False) -> Copied:
    """Put the backup `file` in place of the configured SQLite database (one that holds data
    only with `force`)."""
    return backup_store.restore(file, _file_of(database_url), force=force)
