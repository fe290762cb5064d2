"""Every phrase pattern is ready when a worker first answers: a fresh process, since the
phrasebooks are kept for the life of the process."""

from __future__ import annotations

import uuid

import pytest

from tests import MODERATION_ON
from tests.conftest import Databases, Server


def test_a_server_has_every_phrase_pattern_ready_when_it_first_answers(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A worker builds the threat, insult and group-attack phrasebooks before it serves, so
    its first threatening comment waits for none of them."""
    from rejoinder.core.moderation.matching.phrasebook import phrasebook

    expected = sum(len(phrasebook(name).patterns) for name in ("threats", "insults", "identity"))
    log = tmp_path_factory.mktemp("warm") / "server.log"
    server = Server(databases.new(), env=MODERATION_ON, log=log).start()
    try:
        health = server.get("/healthz").json()
        assert health == {"status": "ok", "patterns_ready": expected, "patterns_total": expected}
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
