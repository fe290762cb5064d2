"""Where the counts of the request limits live: Redis, shared by every worker and host, or
this process's memory when no Redis is configured.

A limit is a set of `Charge`s, each "at most `limit` in any `window` seconds" on one key; a
request takes one from each of its charges at once, or from none if any is spent (so a
refused request costs nothing and does not push its own wait further). Both backends keep a
sliding log of times per key, bounded: a key never holds more than its limit, Redis expires
idle keys after their window, and the memory backend forgets idle keys, then the oldest,
past `max_keys`. Keys hold only what the caller gives them: HMACs, never an address.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Charge:
    key: str
    limit: int
    window: float  # seconds


class Budgets(Protocol):
    def take(self, charges: list[Charge], now: float) -> float:
        """0 if every charge had room (each is now counted), else the seconds until all do
        (and nothing is counted)."""
        ...

    def close(self) -> None: ...


class MemoryBudgets:
    """Per process: with several workers, each counts its own requests."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._max_keys = max_keys
        self._lock = threading.Lock()  # routes run in a thread pool
        self._seen: dict[str, tuple[float, deque[float]]] = {}

    def take(self, charges: list[Charge], now: float) -> float:
        with self._lock:
            wait = 0.0
            logs = []
            for charge in charges:
                _window, times = self._seen.setdefault(charge.key, (charge.window, deque()))
                while times and times[0] <= now - charge.window:
                    times.popleft()
                if len(times) >= charge.limit:
                    wait = max(wait, times[len(times) - charge.limit] + charge.window - now)
                logs.append(times)
            if wait > 0:
                return wait
            for times in logs:
                times.append(now)
            if len(self._seen) > self._max_keys:
                self._forget(now)
            return 0.0

    def _forget(self, now: float) -> None:
        for key in [k for k, (w, t) in self._seen.items() if not t or t[-1] <= now - w]:
            del self._seen[key]
        # Still too many live keys: forget the longest known, so memory stays bounded.
        for key in list(self._seen)[: max(0, len(self._seen) - self._max_keys)]:
            del self._seen[key]

    def close(self) -> None:
        pass


# KEYS: the charges' keys; ARGV: now, a member unique to this request, then per key its
# limit and window. Atomic in Redis: no other request sees a half-taken set of charges.
_TAKE = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local edge = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local left = tonumber(edge[2]) + window - now
    if left > wait then wait = left end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i]) * 1000))
end
return '0'
"""


class RedisBudgets:
    """Shared by every worker and host that uses the same Redis."""

    def __init__(self, url: str, prefix: str = "rj:limit:") -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url)
        self._take: Any = self._redis.register_script(_TAKE)
        self._prefix = prefix

    def take(self, charges: list[Charge], now: float) -> float:
        if not charges:
            return 0.0
        args: list[Any] = [repr(now), uuid.uuid4().hex]
        for charge in charges:
            args += [charge.limit, repr(float(charge.window))]
        keys = [self._prefix + charge.key for charge in charges]
        return float(self._take(keys=keys, args=args))

    def close(self) -> None:
        self._redis.close()
