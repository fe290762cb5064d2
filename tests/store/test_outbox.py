"""The outbox's sender on a real database: two senders (two workers, or two hosts) racing
for the same messages deliver each once; a message that keeps failing is retried with a
growing pause, then marked failed with its last error."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from rejoinder.core.outbox import OutboxMessage, retry_delay
from rejoinder.store import outbox as outbox_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade
from rejoinder.usecases.outbox import Sender, outbox_counts, outbox_messages


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _queue(db: Database, count: int, now: datetime) -> None:
    with db.write() as conn:
        for n in range(count):
            outbox_store.add(
                conn,
                message_id=f"<m{n}@test>",
                kind="mail",
                recipient=f"r{n}@example.org",
                payload={"to": f"r{n}@example.org"},
                now=now,
            )


def test_two_senders_racing_deliver_each_message_once(db_url: str) -> None:
    db = Database(db_url, pool_size=4)
    clock = Clock()
    try:
        upgrade(db)
        _queue(db, 30, clock.now)
        delivered: Counter[str] = Counter()

        async def deliver(message: OutboxMessage) -> None:
            await asyncio.sleep(0.01)  # a conversation's length: the other sender runs meanwhile
            delivered[message.message_id] += 1

        def sender() -> Sender:
            return Sender(db, {"mail": deliver}, clock=clock, attempts=3, lease_seconds=60)

        async def race() -> None:
            first, second = sender(), sender()
            for _ in range(3):
                await asyncio.gather(first.send_due(), second.send_due())

        asyncio.run(race())
        assert len(delivered) == 30
        assert set(delivered.values()) == {1}
        assert outbox_counts(db)["sent"] == 30
    finally:
        db.dispose()


def test_a_failing_message_is_retried_later_then_marked_failed(db_url: str) -> None:
    db = Database(db_url, pool_size=2)
    clock = Clock()
    try:
        upgrade(db)
        _queue(db, 1, clock.now)
        tries = 0

        async def refuse(message: OutboxMessage) -> None:
            nonlocal tries
            tries += 1
            raise ConnectionRefusedError("Connection refused\r\nby 127.0.0.1")

        sender = Sender(db, {"mail": refuse}, clock=clock, attempts=3, lease_seconds=60)
        assert asyncio.run(sender.send_due()) == 1
        [row] = outbox_messages(db)
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.last_error == "ConnectionRefusedError: Connection refused  by 127.0.0.1"
        # Not due again at once, but within the first pause's bounds.
        assert clock.now + retry_delay(1, 0.0) <= row.next_attempt_at
        assert row.next_attempt_at <= clock.now + retry_delay(1, 1.0)
        assert asyncio.run(sender.send_due()) == 0
        for _ in range(2):
            clock.now += timedelta(hours=2)
            assert asyncio.run(sender.send_due()) == 1
        [row] = outbox_messages(db)
        assert (row.state, row.attempts, tries) == ("failed", 3, 3)
        clock.now += timedelta(days=1)
        assert asyncio.run(sender.send_due()) == 0  # failed stays failed
    finally:
        db.dispose()


def test_a_message_held_by_a_dead_sender_is_taken_back_after_its_lease(db_url: str) -> None:
    db = Database(db_url, pool_size=2)
    clock = Clock()
    try:
        upgrade(db)
        _queue(db, 1, clock.now)
        with db.write() as conn:
            held = outbox_store.claim(
                conn, 1, claim="dead", now=clock.now, lease_until=clock.now + timedelta(seconds=60)
            )
        assert held is not None
        delivered: list[str] = []

        async def deliver(message: OutboxMessage) -> None:
            delivered.append(message.message_id)

        sender = Sender(db, {"mail": deliver}, clock=clock, attempts=3, lease_seconds=60)
        assert asyncio.run(sender.send_due()) == 0  # still leased
        clock.now += timedelta(seconds=61)
        assert asyncio.run(sender.send_due()) == 1
        assert delivered == ["<m0@test>"]
        with db.write() as conn:  # the dead sender's claim is no longer its to mark
            assert not outbox_store.mark_sent(conn, 1, claim="dead", now=clock.now)
        [row] = outbox_messages(db)
        assert (row.state, row.attempts) == ("sent", 2)
    finally:
        db.dispose()


def test_retry_delays_grow_and_stop_growing() -> None:
    delays = [retry_delay(n, 1.0) for n in range(1, 20)]
    assert delays == sorted(delays)
    assert delays[0] < delays[1] < delays[2]
    assert delays[-1] == delays[-2]  # capped
    assert retry_delay(3, 0.0) * 2 == retry_delay(3, 1.0)  # jitter spans half to whole
