"""Every phrase pattern is ready when a worker first answers: a fresh process, since the
phrasebooks are kept for the life of the process."""

from __future__ import annotations

import uuid

import pytest

from tests import MODERATION_ON
from tests.conftest import Databases, Server

pytestmark = pytest.mark.one_backend


def test_a_server_has_every_phrase_pattern_ready_when_it_first_answers(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A worker builds the threat, insult and group-attack phrasebooks before it serves, so
    its first threatening comment waits for none of them."""
    from rejoinder.core.moderation.matching.phrasebook import phrasebook

    expected = sum(len(phrasebook(name).patterns) for name in ("threats", "insults", "identity"))
    folder = tmp_path_factory.mktemp("warm")
    # An empty cache folder: the first start compiles the patterns and keeps them there, the
    # second takes them; both have every pattern ready when they first answer.
    env = {**MODERATION_ON, "REJOINDER_CACHE_DIR": str(folder / "cache")}
    db_url = databases.new()
    kept = []
    for start in range(2):
        server = Server(db_url, env=env, log=folder / f"server-{start}.log").start()
        try:
            health = server.get("/healthz").json()
        finally:
            server.stop()
        assert health == {"status": "ok", "patterns_ready": expected, "patterns_total": expected}
        [path] = (folder / "cache").glob("phrasebooks-*.pickle")
        kept.append((path, path.stat().st_ino, path.stat().st_mtime_ns))
    assert kept[0] == kept[1]  # the second start read the file and did not write it again
    server = Server(db_url, env=env, log=folder / "server.log").start()
    try:
        slug = str(server.publish()["slug"])
        response = server.post(
            f"/api/v1/articles/{slug}/comments",
            timeout=30,
            json={
                "body": "Someone should shoot him.",
                "name": "T",
                "email": f"t-{uuid.uuid4().hex[:6]}@example.org",
            },
        )
        assert response.status_code == 202, response.text
    finally:
        server.stop()
