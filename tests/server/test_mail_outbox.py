"""The outbox across a real `rejoinder serve` killed with SIGKILL: the messages it held, and
those it had claimed when it died, are all delivered after a restart, each once."""

from __future__ import annotations

import time
from pathlib import Path

from rejoinder.core.outbox import OutboxMessage
from rejoinder.store.database import Database
from rejoinder.usecases.outbox import outbox_messages
from tests import post
from tests.conftest import Databases, Server
from tests.smtp import PATIENCE, SmtpServer


def _outbox(db_url: str) -> list[OutboxMessage]:
    db = Database(db_url, pool_size=1)
    try:
        return outbox_messages(db)
    finally:
        db.dispose()


def test_a_killed_server_loses_no_mail_and_sends_none_twice(
    databases: Databases, tmp_path: Path
) -> None:
    smtp = SmtpServer()  # not started yet: every try fails until it is
    env = {
        **smtp.env,
        # A claim held by the killed process is taken back soon after the restart.
        "REJOINDER_OUTBOX_LEASE_SECONDS": "4",
        "REJOINDER_SMTP_TIMEOUT": "1",
    }
    db_url = databases.new()
    server = Server(db_url, env=env, log=tmp_path / "server.log").start()
    writers = [f"reader{n}@example.org" for n in range(6)]
    try:
        slug = server.publish()["slug"]
        with server.client() as http:
            for address in writers:
                post(http, slug, email=address, notify_replies=True)
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            rows = _outbox(db_url)
            if len(rows) == len(writers) and all(row.attempts >= 1 for row in rows):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the sender did not try every message: {_outbox(db_url)}")
        server.kill()
    finally:
        server.stop()
    assert all(row.state in ("pending", "sending") for row in _outbox(db_url))
    with smtp.start():
        restarted = Server(db_url, env=env, log=tmp_path / "server.log").start()
        try:
            smtp.wait_for(len(writers))
            deadline = time.monotonic() + PATIENCE
            while time.monotonic() < deadline:
                if all(row.state == "sent" for row in _outbox(db_url)):
                    break
                time.sleep(0.2)
            time.sleep(1.5)  # a sender's next round, should it wrongly send one again
        finally:
            restarted.stop()
        rows = _outbox(db_url)
        assert all(row.state == "sent" for row in rows), rows
        counts = smtp.ids()
        assert set(counts) == {row.message_id for row in rows}
        assert set(counts.values()) == {1}, counts
        assert sorted(rcpt[0] for rcpt in smtp.envelopes) == writers
