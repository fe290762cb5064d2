"""What readers read, kept per worker and revalidated only when something was written.

Each entry remembers the article version it was built from and the change token under which
it was last checked. While the token is unchanged, nothing has been written anywhere and the
entry is served as it is; after a write, one small query compares versions, and only an
entry whose article changed is built again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from rejoinder.changes import ChangeCounter
from rejoinder.metrics import CACHE_LOOKUPS

T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    version: int
    token: int
    value: T


class ReadCache(Generic[T]):
    def __init__(self, changes: ChangeCounter, *, name: str, max_entries: int = 256) -> None:
        """`name` labels this cache's hits and misses in `/metrics`."""
        self._changes = changes
        self._entries: OrderedDict[Hashable, Entry[T]] = OrderedDict()
        self._max = max_entries
        self._hits = CACHE_LOOKUPS.labels(cache=name, result="hit")
        self._misses = CACHE_LOOKUPS.labels(cache=name, result="miss")

    async def get(
        self,
        key: Hashable,
        current_version: Callable[[], int | None],
        build: Callable[[], tuple[int, T]],
        *,
        revalidate: bool = False,
    ) -> tuple[int, T]:
        """The value for `key` as (version, value); `build` reads both in one transaction.

        `revalidate` skips the token shortcut: a writer reading right after their own post
        must see it even if the signal from Redis has not reached this worker yet.
        """
        token = self._changes.token()  # read first: a write after this moves the next token
        entry = self._entries.get(key)
        if entry is not None:
            if entry.token == token and not revalidate:
                self._entries.move_to_end(key)
                self._hits.inc()
                return entry.version, entry.value
            current = await run_in_threadpool(current_version)
            if current == entry.version:
                entry.token = token
                self._entries.move_to_end(key)
                self._hits.inc()
                return entry.version, entry.value
        self._misses.inc()
        version, value = await run_in_threadpool(build)
        self._entries[key] = Entry(version=version, token=token, value=value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return version, value
