"""Copies of a SQLite database, made and put back with SQLite's online backup API.

A backup reads the live file in one step (`Connection.backup` with every page at once): in
WAL mode that is one read transaction, so writers go on while it runs and the copy is the
database as it was at one commit, never half of a write. The copy is written beside its
destination, checked, switched out of WAL mode (one self-contained file) and only then
renamed into place, so an interrupted backup leaves no file that looks whole.

A restore checks the file first (a SQLite database, with Rejoinder's migration table at a
revision this version knows, passing SQLite's quick check), then copies it into the
configured database with the same API, holding the writers' lock that the servers' writes
take (`store.database`), so no write of this machine lands half before and half after.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from rejoinder.core.errors import Conflict, Invalid, Unavailable
from rejoinder.store.database import _FileLock, _held
from rejoinder.store.migrate import known_revisions

_MIGRATION_TABLE = "alembic_version"
# The tables whose rows make a database worth keeping: a restore over one asks for --force.
_DATA_TABLES = ("articles", "comments", "users", "audit_log")


@dataclass(frozen=True)
class Copied:
    """What a backup or restore copied: the schema revision and how many articles and
    comments the copy holds (what the command reports)."""

    revision: str
    articles: int
    comments: int


def _connect_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(row[0]) for row in rows}


def _rejoinder_tables(conn: sqlite3.Connection, what: str) -> set[str]:
    """The tables of a Rejoinder database; Invalid, naming `what`, for anything else."""
    try:
        tables = _tables(conn)
    except sqlite3.DatabaseError as error:
        raise Invalid("file", f"{what} is not a SQLite database ({error}).") from None
    if _MIGRATION_TABLE not in tables:
        raise Invalid(
            "file", f"{what} is a SQLite database but not Rejoinder's: it has no migration table."
        )
    return tables


def _describe(conn: sqlite3.Connection, what: str, *, known_only: bool = True) -> Copied:
    """The revision and counts of a Rejoinder database; Invalid, naming `what`, otherwise
    (and, with `known_only`, for a revision this version does not know)."""
    tables = _rejoinder_tables(conn, what)
    found = conn.execute(f"SELECT version_num FROM {_MIGRATION_TABLE}").fetchall()
    revision = str(found[0][0]) if len(found) == 1 else ""
    known = known_revisions()
    if known_only and revision not in known:
        newest = max(known)
        raise Invalid(
            "file",
            f"{what} is at schema revision {revision or 'none'!r}, which this version of "
            f"Rejoinder does not know (it knows up to {newest}): restore it with the version "
            "that made it.",
        )
    checked = conn.execute("PRAGMA quick_check").fetchone()
    if not checked or checked[0] != "ok":
        raise Invalid("file", f"{what} is damaged: SQLite's quick check says {checked!r}.")
    missing = [name for name in ("articles", "comments") if name not in tables]
    if missing:
        raise Invalid("file", f"{what} lacks Rejoinder's tables ({', '.join(missing)}).")
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()
    comments = conn.execute("SELECT count(*) FROM comments").fetchone()
    return Copied(revision, int(articles[0]), int(comments[0]))


def backup(source: Path, target: Path) -> Copied:
    """Copy the live database at `source` to `target` (which must not exist yet)."""
    try:
        return _backup(source, target)
    except sqlite3.Error as error:
        raise Unavailable(f"SQLite could not copy {source}: {error}.") from None


def _backup(source: Path, target: Path) -> Copied:
    if not source.is_file():
        raise Invalid("database", f"There is no database at {source}.")
    if target.exists():
        raise Conflict(f"{target} exists already: name a new file, or remove it first.")
    if not target.parent.is_dir():
        raise Invalid("file", f"There is no folder {target.parent} to write the backup in.")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        with contextlib.closing(_connect_read_only(source)) as live:
            _rejoinder_tables(live, f"The database at {source}")
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                live.backup(copy)  # every page in one step: one snapshot, writers go on
                copy.execute("PRAGMA journal_mode=DELETE")
                copied = _describe(copy, "The backup", known_only=False)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return copied


def restore(file: Path, target: Path, *, force: bool) -> Copied:
    """Put the backup `file` in place of the database at `target`; a database there that
    holds data is replaced only with `force`."""
    try:
        return _restore(file, target, force=force)
    except sqlite3.Error as error:
        raise Unavailable(f"SQLite could not restore {file}: {error}.") from None


def _restore(file: Path, target: Path, *, force: bool) -> Copied:
    if not file.is_file():
        raise Invalid("file", f"No such file: {file}")
    if target.exists() and target.resolve() == file.resolve():
        raise Invalid("file", f"{file} is the configured database itself.")
    with contextlib.closing(_connect_read_only(file)) as backup_conn:
        _describe(backup_conn, str(file))
        target.parent.mkdir(parents=True, exist_ok=True)
        with _held(_FileLock(Path(f"{target}-writer"))):
            if target.exists() and not _is_database(target):
                if not force:
                    raise Conflict(
                        f"{target} exists and is not a SQLite database; restore with --force "
                        "to replace it."
                    )
                for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                    stale.unlink(missing_ok=True)
            with contextlib.closing(sqlite3.connect(target, timeout=15)) as live:
                if not force and _holds_data(live):
                    raise Conflict(
                        f"The database at {target} already holds data: stop the server and "
                        "restore with --force to replace it."
                    )
                backup_conn.backup(live)
                live.execute("PRAGMA journal_mode=WAL")
                return _describe(live, f"The restored database at {target}")


def _is_database(path: Path) -> bool:
    try:
        with contextlib.closing(_connect_read_only(path)) as conn:
            _tables(conn)
    except sqlite3.DatabaseError:
        return False
    return True


def _holds_data(conn: sqlite3.Connection) -> bool:
    tables = _tables(conn)
    for name in _DATA_TABLES:
        if name in tables and conn.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone():
            return True
    return False


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for another backend (or SQLite in memory)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)
