"""The posting budget of a network group, over HTTP: many addresses of one IPv4 /24 or one IPv6
/48 share GROUP_FACTOR times the per-address limit, while the next network keeps its own.

The app sees each client's own address (the transport's peer), so every post here comes from
an address the test chooses. With Redis configured (the PostgreSQL run), the times are read
from Redis, so both stores of posting times are exercised.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from rejoinder.core.moderation.phases.rates import GROUP_FACTOR
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from tests import MODERATION_ON, RELAXED
from tests.conftest import App, Databases

PER_MINUTE = 1  # one comment a minute per address: the group may post GROUP_FACTOR
BUDGET = PER_MINUTE * GROUP_FACTOR


@pytest.fixture(scope="module")
def app(databases: Databases) -> Iterator[App]:
    db_url = databases.new()
    running = App(db_url, env=MODERATION_ON).start()
    db = Database(db_url, pool_size=1)
    try:
        with db.write() as conn:  # the default site, read afresh on every post
            site_store.update_site_settings(
                conn, 1, {"policy": {**RELAXED, "per_minute": PER_MINUTE}}
            )
        yield running
    finally:
        db.dispose()
        running.stop()


def _post(app: App, slug: str, address: str) -> httpx.Response:
    """One comment from `address`, by a writer of its own (so only addresses are shared)."""
    tag = uuid.uuid4().hex[:8]
    with app.client(address=address) as http:
        return http.post(
            f"/api/v1/articles/{slug}/comments",
            json={
                "body": f"My own view on the ferry timetable, {tag}.",
                "name": f"Writer {tag}",
                "email": f"w-{tag}@example.org",
            },
        )


def _slug(app: App) -> str:
    return str(app.publish(title=f"Groups {uuid.uuid4().hex[:8]}", body="Text.")["slug"])


def test_addresses_of_one_ipv4_24_share_the_group_budget(app: App) -> None:
    slug = _slug(app)
    net = f"198.51.{uuid.uuid4().int % 200}"
    for host in range(1, BUDGET + 1):
        posted = _post(app, slug, f"{net}.{host}")
        assert posted.status_code == 201, posted.text
    refused = _post(app, slug, f"{net}.{BUDGET + 1}")  # a fresh address of a spent /24
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "refused"
    assert "from your network" in refused.json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    neighbour = _post(app, slug, f"{net.rsplit('.', 1)[0]}.{int(net.rsplit('.', 1)[1]) + 1}.7")
    assert neighbour.status_code == 201, neighbour.text  # the next /24 has its own budget


def test_addresses_of_one_ipv6_48_share_the_group_budget(app: App) -> None:
    slug = _slug(app)
    site = f"2001:db8:{uuid.uuid4().int % 0xFFF0:x}"
    # Each post from a /64 of its own (another subscriber), all in one /48.
    for line in range(1, BUDGET + 1):
        posted = _post(app, slug, f"{site}:{line:x}::1")
        assert posted.status_code == 201, posted.text
    refused = _post(app, slug, f"{site}:ff::1")
    assert refused.status_code == 429, refused.text
    assert "from your network" in refused.json()["message"]
    prefix, last = site.rsplit(":", 1)
    other = f"{prefix}:{int(last, 16) + 1:x}:1::1"  # the next /48
    assert _post(app, slug, other).status_code == 201
