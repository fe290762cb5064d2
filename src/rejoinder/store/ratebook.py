"""Recent posting times in Redis, shared by every worker and host, for the rate phases.

Without Redis the same times come from the comments table (`store.moderation`). With it,
each accepted comment adds its time to four sorted sets (by address hash, by the hash of
the address's network group, by email hash, by site) that expire after an hour, and the
rate phases read them from there: no query on the comments table for the busiest check.
Keys hold only HMACs, never an email or address.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from rejoinder.core.emails import normal_address
from rejoinder.core.moderation import RecentActivity

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

    def _keys(self, site_id: int, ip_hash: str, group_hash: str, email: str) -> list[str]:
        keys = [self._key("site", str(site_id))]
        keys += [self._key("ip", ip_hash)] if ip_hash else []
        keys += [self._key("group", group_hash)] if group_hash else []
        keys += [self._key("email", normal_address(email))] if email else []
        return keys

    def record(
        self,
        site_id: int,
        ip_hash: str,
        email: str,
        at: datetime,
        member: str,
        *,
        group_hash: str = "",
    ) -> None:
        """Note an accepted comment (`member` makes each entry unique, e.g. the comment id)."""
        pipe = self._redis.pipeline()
        for key in self._keys(site_id, ip_hash, group_hash, email):
            pipe.zadd(key, {member: at.timestamp()})
            pipe.zremrangebyscore(key, "-inf", at.timestamp() - WINDOW)
            pipe.expire(key, WINDOW)
        pipe.execute()

    def recent(
        self, site_id: int, ip_hash: str, email: str, now: datetime, *, group_hash: str = ""
    ) -> RecentActivity:
        """The times by address, by group and by email, and the site-wide count in the last
        minute (the rest of `RecentActivity` is left empty: the comments table has it)."""
        since = now.timestamp() - WINDOW
        pipe = self._redis.pipeline()
        pipe.zrangebyscore(self._key("ip", ip_hash), since, "+inf", withscores=True)
        pipe.zrangebyscore(self._key("group", group_hash), since, "+inf", withscores=True)
        pipe.zrangebyscore(
            self._key("email", normal_address(email)), since, "+inf", withscores=True
        )
        pipe.zcount(self._key("site", str(site_id)), now.timestamp() - 60, "+inf")
        by_ip, by_group, by_email, site_minute = pipe.execute()

        def times(rows: list[tuple[bytes, float]]) -> tuple[datetime, ...]:
            return tuple(datetime.fromtimestamp(score, UTC) for _member, score in rows)

        return RecentActivity(
            by_ip=times(by_ip) if ip_hash else (),
            by_group=times(by_group) if group_hash else (),
            by_email=times(by_email) if email else (),
            site_last_minute=int(site_minute),
        )

    def close(self) -> None:
        self._redis.close()
