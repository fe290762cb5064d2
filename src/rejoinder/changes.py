"""Tell every worker that something was written, so caches revalidate only after a write.

A change counter gives a token per request; while the token stays the same nothing was
written anywhere and a cached page is still right. Three kinds, chosen by `make_counter`:
SQLite's own data_version (free and exact across processes), Redis pub/sub (several workers
or hosts on PostgreSQL), and, with neither, a counter that changes on every call so each read
revalidates with one small query.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Protocol

log = logging.getLogger("rejoinder.changes")

CHANNEL = "rejoinder:changes"


class ChangeCounter(Protocol):
    def token(self) -> int: ...
    def announce(self) -> None: ...
    def close(self) -> None: ...


class AlwaysChanged:
    """No shared signal: every read revalidates."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def token(self) -> int:
        return next(self._counter)

    def announce(self) -> None:
        pass

    def close(self) -> None:
        pass


class SqliteChanges:
    """SQLite's data_version moves whenever any connection, in any process, commits."""

    def __init__(self, counter: object) -> None:
        from rejoinder.store.database import SqliteChangeCounter

        assert isinstance(counter, SqliteChangeCounter)
        self._counter = counter

    def token(self) -> int:
        return self._counter.token()

    def announce(self) -> None:
        pass  # the database itself tells the other processes

    def close(self) -> None:
        self._counter.close()


class RedisChanges:
    """Each write is published on a Redis channel; a thread counts what arrives.

    If the subscription drops, the counter moves on at once (a reader revalidates rather than
    trusting a cache that may have missed a message) and the thread reconnects.
    """

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._local = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="rejoinder-changes", daemon=True)
        self._url = url
        self._thread.start()

    def _bump(self) -> None:
        with self._lock:
            self._local += 1

    def token(self) -> int:
        return self._local

    def announce(self) -> None:
        self._bump()
        try:
            self._client.publish(CHANNEL, b"1")
        except Exception:
            log.warning("could not publish a change to Redis", exc_info=True)

    def _listen(self) -> None:
        import redis

        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self._url)
                pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call, unused-ignore]
                pubsub.subscribe(CHANNEL)
                self._bump()  # anything may have happened while we were not listening
                while not self._stop.is_set():
                    if pubsub.get_message(timeout=1.0) is not None:
                        self._bump()
                pubsub.close()
                client.close()
            except Exception:
                self._bump()
                log.warning("Redis change feed lost; retrying", exc_info=True)
                time.sleep(0.5)

    def close(self) -> None:
        self._stop.set()
        self._client.close()
