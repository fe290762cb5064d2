"""A small per-worker limit for the moderation check endpoint (it stores nothing to count)."""

from __future__ import annotations

from collections import deque


class CheckLimiter:
    """At most `limit` checks per address in any `window` seconds, counted in this worker."""

    def __init__(self, limit: int = 30, window: float = 60.0, max_keys: int = 10_000) -> None:
        self._limit = limit
        self._window = window
        self._max_keys = max_keys
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> int:
        """0 if this check may run (and count it), else the seconds to wait."""
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._limit:
            return max(1, int(times[0] + self._window - now + 0.999))
        times.append(now)
        if len(self._seen) > self._max_keys:  # forget idle addresses rather than grow forever
            for stale in [k for k, v in self._seen.items() if not v or v[-1] <= now - self._window]:
                del self._seen[stale]
        return 0
