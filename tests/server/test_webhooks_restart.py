"""Webhooks across a real `rejoinder serve` killed with SIGKILL while its deliveries are
pending (the receiver down): after a restart every one arrives once, and verifies."""

from __future__ import annotations

import time
from pathlib import Path

from rejoinder.core import webhooks as rules
from rejoinder.core.outbox import OutboxMessage
from rejoinder.store.database import Database
from rejoinder.usecases.outbox import outbox_messages
from tests import post
from tests.conftest import Databases, Server, add_staff, add_token, free_port
from tests.receiver import PATIENCE, Receiver

COMMENTS = 5


def _outbox(db_url: str) -> list[OutboxMessage]:
    db = Database(db_url, pool_size=1)
    try:
        return outbox_messages(db)
    finally:
        db.dispose()


def test_a_killed_server_delivers_every_webhook_once_after_a_restart(
    databases: Databases, tmp_path: Path
) -> None:
    db_url = databases.new()
    add_staff(db_url, "boss", role="admin")
    api = {"Authorization": f"Bearer {add_token(db_url, 'boss', 'hooks')}"}
    port = free_port()  # nothing listens there until the restart
    env = {
        "REJOINDER_WEBHOOKS_ALLOW_PRIVATE": "true",
        "REJOINDER_OUTBOX_LEASE_SECONDS": "4",  # a dead worker's claim comes back soon
        "REJOINDER_WEBHOOKS_TIMEOUT": "1",
    }
    server = Server(db_url, env=env, log=tmp_path / "server.log").start()
    try:
        made = server.post(
            "/api/v1/admin/webhooks",
            json={"url": f"http://127.0.0.1:{port}/hooks", "events": [rules.PUBLISHED]},
            headers=api,
        )
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        slug = server.publish()["slug"]
        with server.client() as http:
            posted = [post(http, slug, body=f"Comment {n}.")["id"] for n in range(COMMENTS)]
        deadline = time.monotonic() + PATIENCE
        while not all(row.attempts >= 1 for row in _outbox(db_url)):
            assert time.monotonic() < deadline, _outbox(db_url)
            time.sleep(0.1)
        server.kill()
    finally:
        server.stop()
    rows = _outbox(db_url)
    assert len(rows) == COMMENTS and all(row.state in ("pending", "sending") for row in rows)
    with Receiver(port=port) as receiver:
        restarted = Server(db_url, env=env, log=tmp_path / "server.log").start()
        try:
            receiver.wait_for(lambda r: len(r) >= COMMENTS, "every delivery", patience=30)
            deadline = time.monotonic() + PATIENCE
            while not all(row.state == "sent" for row in _outbox(db_url)):
                assert time.monotonic() < deadline, _outbox(db_url)
                time.sleep(0.1)
            time.sleep(1.5)  # a sender's next round, should it wrongly send one again
        finally:
            restarted.stop()
    got = receiver.received
    assert len(got) == COMMENTS
    assert sorted(r.json["data"]["comment"]["id"] for r in got) == sorted(posted)
    assert {r.json["id"] for r in got} == {row.message_id for row in rows}
    for each in got:
        header = {k.lower(): v for k, v in each.headers.items()}["x-rejoinder-signature"]
        assert rules.verify(secret, header, each.body, int(time.time()))
