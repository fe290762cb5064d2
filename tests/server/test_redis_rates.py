"""Rate limits kept in Redis: shared by every worker, with only hashes in the keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import ADMIN_HEADERS
from tests.conftest import REDIS_URL, Databases, Server

pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason="REJOINDER_TEST_REDIS_URL is not set (scripts/test sets it on the PostgreSQL run)",
)


@pytest.fixture(scope="module")
def moderated(databases: Databases) -> Iterator[Server]:
    env = {
        "REJOINDER_MODERATION": "true",
        "REJOINDER_MODERATION_MODEL": "false",
        "REJOINDER_REDIS_URL": REDIS_URL or "",
    }
    running = Server(databases.new(), workers=2, env=env).start()
    try:
        yield running
    finally:
        running.stop()


def _publish(server: Server) -> str:
    return str(server.publish(title=f"Rates {uuid.uuid4().hex[:8]}", body="Text.")["slug"])


def test_flood_limit_holds_across_two_workers_through_redis(moderated: Server) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL or "")
    before = set(client.scan_iter("rj:rate:*"))
    slug = _publish(moderated)
    email = f"flood-{uuid.uuid4().hex[:6]}@example.org"
    url = f"{moderated.url}/api/v1/articles/{slug}/comments"
    # A script's token: the form's timing does not apply to it, the flood limit does.
    first = httpx.post(
        url, json={"body": "A first thought.", "name": "Fay", "email": email}, headers=ADMIN_HEADERS
    )
    assert first.status_code == 201, first.text
    # Separate connections, so the two workers both answer some of these.
    later = [
        httpx.post(
            url,
            json={"body": f"Another thought {i}.", "name": "Fay", "email": email},
            headers=ADMIN_HEADERS,
        )
        for i in range(6)
    ]
    assert {r.status_code for r in later} == {429}
    assert all(r.json()["error"] == "refused" and r.headers["retry-after"] for r in later)
    keys = set(client.scan_iter("rj:rate:*")) - before
    assert len(keys) >= 3  # the site, the address hash and the email hash
    for key in keys:
        name = key.decode()
        assert "127.0.0.1" not in name and "@" not in name and "flood" not in name
        assert 0 < client.ttl(key) <= 3600
    client.close()


def test_redis_rates_record_and_window() -> None:
    from rejoinder.store.ratebook import RedisRates

    rates = RedisRates(REDIS_URL or "", secret="test-secret", prefix=f"rj:test:{uuid.uuid4().hex}:")
    now = datetime.now(UTC)
    rates.record(7, "iphash", "a@example.org", now - timedelta(minutes=90), "old", group_hash="g")
    rates.record(7, "iphash", "a@example.org", now - timedelta(minutes=5), "c1", group_hash="g")
    rates.record(7, "otherip", "b@example.org", now - timedelta(seconds=20), "c2", group_hash="g")
    rates.record(7, "thirdip", "c@example.org", now - timedelta(seconds=10), "c3")
    found = rates.recent(7, "iphash", "A@example.org", now, group_hash="g")
    # the 90-minute-old entry is out of the window
    assert len(found.by_ip) == 1 and len(found.by_email) == 1
    assert abs((found.by_ip[0] - (now - timedelta(minutes=5))).total_seconds()) < 0.01
    assert len(found.by_group) == 2  # c1 and c2 share the group; c3 named none
    assert found.site_last_minute == 2  # c2 and c3 are within the last minute
    empty = rates.recent(8, "", "", now)  # another site, no writer: nothing
    assert (empty.by_ip, empty.by_group, empty.by_email, empty.site_last_minute) == ((), (), (), 0)
    rates.close()
