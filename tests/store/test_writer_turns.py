"""Writers of one SQLite file take turns through a lock file beside it, across processes."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from pathlib import Path

from sqlalchemy import text

from rejoinder.store.database import Database


def test_a_write_waits_while_another_process_holds_the_writer_lock(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'turns.db'}")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    lock_file = tmp_path / "turns.db-writer"
    assert lock_file.exists()
    # another worker's open file: flock conflicts between two opens, even in one process
    other = os.open(lock_file, os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    done = threading.Event()

    def write() -> None:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not done.wait(0.5), "the write went ahead while another held the lock"
    finally:
        released = time.monotonic()
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    assert done.wait(5)
    assert time.monotonic() - released < 1  # woken when the lock is let go, no long sleep
    writer.join()
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    db.dispose()


def test_a_forked_worker_opens_the_lock_file_again(tmp_path: Path) -> None:
    """A child sharing the parent's open file would share its lock: a worker forked while
    the parent holds its turn must wait for it like any other."""
    db = Database(f"sqlite:///{tmp_path / 'fork.db'}")
    lock = db._file_lock
    assert lock is not None
    lock.acquire()  # the parent's turn, its file opened before the fork
    read, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)

            def waited(*_: object) -> None:
                os.write(write_end, b"waited")
                os._exit(0)

            signal.signal(signal.SIGALRM, waited)
            signal.alarm(1)
            lock.acquire()
            os.write(write_end, b"shared")
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    lock.release()
    assert os.read(read, 16) == b"waited"
    db.dispose()
