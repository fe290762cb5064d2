"""Recent posting times in Redis, shared by every worker and host, for the rate phases.

Without Redis the same times come from the comments table (`store.moderation`). With it,
each accepted comment adds its time to three sorted sets (by address hash, by email hash,
by site) that expire after an hour, and the rate phases read them from there: no query on
the comments table for the busiest check. Keys hold only HMACs, never an email or address.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

WINDOW = 3600  # seconds of history the rate phases look at


class RedisRates:
    def __init__(self, url: str, secret: str, prefix: str = "rj:rate:") -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url)
        self._secret = secret.encode()
        self._prefix = prefix

    def _key(self, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{self._prefix}{kind}:{digest[:32]}"

    def _keys(self, site_id: int, ip_hash: str, email: str) -> list[str]:
        keys = [self._key("site", str(site_id))]
        keys += [self._key("ip", ip_hash)] if ip_hash else []
        keys += [self._key("email", email.lower())] if email else []
        return keys

    def record(self, site_id: int, ip_hash: str, email: str, at: datetime, member: str) -> None:
        """Note an accepted comment (`member` makes each entry unique, e.g. the comment id)."""
        pipe = self._redis.pipeline()
        for key in self._keys(site_id, ip_hash, email):
            pipe.zadd(key, {member: at.timestamp()})
            pipe.zremrangebyscore(key, "-inf", at.timestamp() - WINDOW)
            pipe.expire(key, WINDOW)
        pipe.execute()

    def recent(
        self, site_id: int, ip_hash: str, email: str, now: datetime
    ) -> tuple[tuple[datetime, ...], tuple[datetime, ...], int]:
        """(times by address, times by email, site-wide count in the last minute)."""
        since = now.timestamp() - WINDOW
        pipe = self._redis.pipeline()
        pipe.zrangebyscore(self._key("ip", ip_hash), since, "+inf", withscores=True)
        pipe.zrangebyscore(self._key("email", email.lower()), since, "+inf", withscores=True)
        pipe.zcount(self._key("site", str(site_id)), now.timestamp() - 60, "+inf")
        by_ip, by_email, site_minute = pipe.execute()

        def times(rows: list[tuple[bytes, float]]) -> tuple[datetime, ...]:
            return tuple(datetime.fromtimestamp(score, UTC) for _member, score in rows)

        return (
            times(by_ip) if ip_hash else (),
            times(by_email) if email else (),
            int(site_minute),
        )

    def close(self) -> None:
        self._redis.close()
