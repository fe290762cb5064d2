"""Compiling the phrase patterns at a worker's start: a fresh process each time, since compiled
patterns are kept for the life of the process."""

from __future__ import annotations

import uuid

import pytest

from tests import MODERATION_ON
from tests.conftest import Databases, Server


def email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:6]}@example.org"


def test_a_server_compiles_every_phrase_pattern_before_it_serves_unless_told_not_to(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """By default a worker compiles the threat, insult and identity patterns during start-up, so its
    first threatening comment does not pay for them; with the setting off it compiles none
    until a comment needs one."""
    from rejoinder.core.moderation.matching.phrasebook import phrasebook

    expected = len(
        {
            p.expression
            for name in ("threats", "insults", "identity")
            for p in phrasebook(name).patterns
        }
    )
    tmp = tmp_path_factory.mktemp("warm")
    for warm in ("true", "false"):
        env = {**MODERATION_ON, "REJOINDER_MODERATION_WARM": warm}
        server = Server(databases.new(), env=env, log=tmp / f"server-{warm}.log").start()
        try:
            health = server.get("/healthz").json()
            assert health["status"] == "ok"
            if warm == "true":
                assert health["patterns_compiled"] == expected
            else:
                # The word lists warm in the background; a pattern or two may compile there.
                assert health["patterns_compiled"] < 5, health
                slug = str(server.publish()["slug"])
                response = server.post(
                    f"/api/v1/articles/{slug}/comments",
                    timeout=30,
                    json={"body": "Someone should shoot him.", "name": "T", "email": email("t")},
                )
                assert response.status_code == 202, response.text
                after = server.get("/healthz").json()
                assert health["patterns_compiled"] < after["patterns_compiled"] < expected
        finally:
            server.stop()
