"""`rejoinder serve` delivers the outbox from one sender process per host, not from its
workers; a sender that dies is started again, and what was pending still arrives once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from rejoinder.core import webhooks as rules
from rejoinder.store.database import Database
from rejoinder.usecases.outbox import outbox_messages
from rejoinder.usecases.webhooks import WEBHOOK
from tests import post
from tests.conftest import Databases, Server, add_staff, add_token
from tests.prometheus import samples, value
from tests.receiver import PATIENCE, Receiver

SENDER_MODULE = "rejoinder.web.sender"


def _senders(server: Server) -> list[int]:
    """The ids of the server's processes (its process group) that run the outbox sender."""
    assert server.process is not None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            group = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        if group == server.process.pid and SENDER_MODULE.encode() in command:
            found.append(int(entry.name))
    return sorted(found)


def _one_sender(server: Server, other_than: int | None = None) -> int:
    """Wait for exactly one sender process (a new one, when `other_than` is named)."""
    deadline = time.monotonic() + PATIENCE
    while True:
        senders = _senders(server)
        if len(senders) == 1 and senders[0] != other_than:
            return senders[0]
        assert time.monotonic() < deadline, senders
        time.sleep(0.1)


def _all_sent(db_url: str) -> None:
    db = Database(db_url, pool_size=1)
    try:
        deadline = time.monotonic() + PATIENCE
        while not all(row.state == "sent" for row in outbox_messages(db)):
            assert time.monotonic() < deadline, outbox_messages(db)
            time.sleep(0.05)
    finally:
        db.dispose()


def test_one_sender_process_delivers_and_comes_back_when_killed(
    databases: Databases, tmp_path: Path
) -> None:
    db_url = databases.new()
    add_staff(db_url, "boss", role="admin")
    api = {"Authorization": f"Bearer {add_token(db_url, 'boss', 'hooks')}"}
    env = {"REJOINDER_WEBHOOKS_ALLOW_PRIVATE": "true", "REJOINDER_WEBHOOKS_TIMEOUT": "2"}
    log = tmp_path / "server.log"
    with Receiver() as receiver:
        server = Server(db_url, workers=2, env=env, log=log).start()
        try:
            made = server.post(
                "/api/v1/admin/webhooks",
                json={"url": receiver.url, "events": [rules.PUBLISHED]},
                headers=api,
            )
            assert made.status_code == 201, made.text
            slug = server.publish()["slug"]
            sender = _one_sender(server)  # one for the host, though there are two workers

            # The sender paused: the workers only queue, nothing is delivered.
            os.kill(sender, signal.SIGSTOP)
            with server.client() as http:
                first = post(http, slug, body="While the sender is stopped.")["id"]
            time.sleep(1.5)
            assert receiver.received == []
            os.kill(sender, signal.SIGCONT)
            receiver.wait_for(lambda r: len(r) == 1, "the delivery once the sender resumed")
            _all_sent(db_url)  # settled, before the sender is stopped again

            # The sender killed with deliveries pending: another starts and sends them.
            os.kill(sender, signal.SIGSTOP)
            with server.client() as http:
                pending = [post(http, slug, body=f"Pending {n}.")["id"] for n in range(3)]
            os.kill(sender, signal.SIGKILL)
            restarted = _one_sender(server, other_than=sender)
            receiver.wait_for(lambda r: len(r) >= 4, "the pending deliveries after a restart")
            _all_sent(db_url)
            time.sleep(1.5)  # a sender's next round, should it wrongly send one again
            assert _senders(server) == [restarted]
            # The sender processes' counts reach the workers' /metrics (one metrics folder).
            with server.client() as http:
                scraped = http.get("/metrics")
            assert scraped.status_code == 200, scraped.text
            sent = value(
                samples(scraped.text),
                "rejoinder_outbox_deliveries_total",
                kind=WEBHOOK,
                result="sent",
            )
            assert sent == 4
        finally:
            server.stop()
    got = [each.json for each in receiver.received]
    assert sorted(each["data"]["comment"]["id"] for each in got) == sorted([first, *pending])
    assert len({each["id"] for each in got}) == len(got)  # each message once
    assert f"outbox sender (process {sender}) ended" in log.read_text()
    # The server's stop ended its sender too: nothing of the process group is left.
    assert _senders(server) == []


def test_a_server_stopped_alone_stops_its_sender(databases: Databases) -> None:
    """SIGTERM to `rejoinder serve` only (as a service manager may send it), not its group:
    serve ends its sender before it exits itself."""
    server = Server(databases.new()).start()
    try:
        sender = _one_sender(server)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=PATIENCE)
        # Already ended and reaped by serve, not left to notice its parent's end later.
        assert not _running(sender)
    finally:
        server.stop()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
