"""The engine and the two ways in: a read, and a write of one transaction."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:  # not on Windows: there SQLite's own lock is the only turn-taking
    fcntl = None  # type: ignore[assignment]


class Database:
    """One engine per process. SQLite runs in WAL mode with foreign keys on; a write on
    SQLite takes the lock at BEGIN (BEGIN IMMEDIATE) so two writers never deadlock.

    `sqlite_synchronous` is SQLite's synchronous pragma in WAL mode: "normal" (a commit survives
    the process being killed, not a power cut) or "full" (it survives both; each commit waits
    for the disk)."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        sqlite_synchronous: Literal["normal", "full"] = "normal",
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._write_lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        )
        self._file_lock: _FileLock | None = None
        if self.is_sqlite:
            path = self.url.database or ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._file_lock = _FileLock(Path(path + "-writer"))
            self.engine: Engine = create_engine(url, pool_size=pool_size, max_overflow=8)
            _configure_sqlite(self.engine, sqlite_synchronous)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=8, pool_pre_ping=True
            )
            _configure_postgresql(self.engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        On SQLite the threads of one process take turns here: SQLite allows one writer at a
        time anyway, and a thread that waits on SQLite's own lock sleeps in growing steps
        (up to 100 ms), which under load costs more than the writes themselves. The workers of
        one server take turns the same way, through an advisory lock on a file beside the
        database (`<file>-writer`): the kernel wakes the next writer the moment the lock is
        let go, where SQLite's sleeps make two workers posting at once wait far longer
        (bench/moderation.py shows the p99). A writer that does not take it (another program)
        is still kept out by SQLite.
        """
        with self._write_lock, _held(self._file_lock), self.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read (one transaction, never committed)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


class _FileLock:
    """An exclusive advisory lock (flock) on a file, opened once per process (a worker
    forked from the parent must not share the parent's open file, or the lock)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> None:
        if fcntl is None:
            return
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


@contextmanager
def _held(lock: _FileLock | None) -> Iterator[None]:
    if lock is None:
        yield
        return
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


_SYNCHRONOUS = {"normal": "PRAGMA synchronous=NORMAL", "full": "PRAGMA synchronous=FULL"}


def _configure_sqlite(engine: Engine, synchronous: Literal["normal", "full"]) -> None:
    pragma = _SYNCHRONOUS[synchronous]  # a KeyError here, not an unknown pragma later

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling defers it).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        # What a delete or an update removes is overwritten in the file, not left in free
        # space: an erased person's address and texts (and every older version of a text an
        # edit replaced) are gone from the file's bytes (docs/PRIVACY.md).
        cursor.execute("PRAGMA secure_delete=ON")
        # NORMAL in WAL mode: a commit survives the process being killed; only a power cut
        # can lose the last transactions. FULL syncs the log at every commit.
        cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class SqliteChangeCounter:
    """`PRAGMA data_version` on a connection of its own: it changes whenever any other
    connection, in any process, commits to the file. Reading it costs microseconds, so a
    reader can check it on every request and revalidate its cache only after a write."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    def token(self) -> int:
        with self._lock:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._conn.close()


def _configure_postgresql(engine: Engine) -> None:
    """PostgreSQL's text cannot hold a NUL, and refuses one even as a query parameter, where
    SQLite takes it: a NUL that reached a lookup (a desk filter, a site name in a form) was a
    500 on PostgreSQL alone. Every string parameter goes as text with NUL made U+FFFD: no
    stored text holds a NUL (what is written is cleaned first), so a lookup with one matches
    nothing either way, and a NUL that slipped past cleaning is kept visibly, not a crash."""
    from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

    class NulFreeText(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\0", "\ufffd") if "\0" in obj else obj)

    class NulFreeBinary(StrBinaryDumper):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\0", "\ufffd") if "\0" in obj else obj)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        adapters = getattr(dbapi_conn, "adapters", None)
        if adapters is None:  # not psycopg 3
            return
        # binary first, text last: the one registered last is what PyFormat.AUTO takes, and
        # text with an unknown type is psycopg's own default (PostgreSQL infers the type)
        adapters.register_dumper(str, NulFreeBinary)
        adapters.register_dumper(str, NulFreeText)
