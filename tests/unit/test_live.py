"""The in-process hub: ids, the ring and what a reconnect gets, bounded queues."""

from __future__ import annotations

import asyncio
import threading

import pytest

from rejoinder import live
from rejoinder.live import PENDING_MAX, Event, LocalHub, replay


def _events(first: int, last: int, at: float = 100.0) -> list[Event]:
    return [Event(i, at, b"") for i in range(first, last + 1)]


def test_a_reconnect_gets_what_it_missed_from_the_ring() -> None:
    ring = _events(11, 20)
    missed, reset = replay(ring, 20, 15, since=0)
    assert [e.id for e in missed] == [16, 17, 18, 19, 20] and not reset
    assert replay(ring, 20, 10, since=0) == (ring, False)  # the ring starts right after it


def test_a_gap_older_than_the_ring_or_its_time_is_a_reset() -> None:
    ring = _events(11, 20)
    assert replay(ring, 20, 9, since=0) == ([], True)
    assert replay(ring, 20, 15, since=101.0) == ([], True)  # every event too old
    assert replay(ring, 20, 21, since=0) == ([], True)  # from another epoch
    assert replay([], 20, 19, since=0) == ([], True)


def test_nothing_missed_is_nothing_sent() -> None:
    assert replay(_events(1, 5), 5, 5, since=0) == ([], False)
    assert replay(_events(1, 5), 5, None, since=0) == ([], False)


def test_streams_get_events_published_from_other_threads_in_order() -> None:
    async def scenario() -> list[bytes]:
        hub = LocalHub(ring_size=3)
        await hub.start()
        opened = await hub.subscribe("article:1", None)
        threads = [
            threading.Thread(target=hub.publish, args=("article:1", "count", {"n": n}))
            for n in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        hub.publish("article:2", "count", {"n": 99})  # another topic: not this stream's
        got = b""
        while got.count(b"event: count") < 5:
            chunk = await asyncio.wait_for(opened.subscription.next(), 5)
            assert chunk is not None
            got += chunk
        ids = [int(line[4:]) for line in got.split(b"\n") if line.startswith(b"id: ")]
        assert ids == sorted(ids) and len(ids) == 5
        # Three kept: a client that has the first two gets the other three again, one that
        # has only the first must reload.
        again = await hub.subscribe("article:1", ids[1])
        assert len(again.replay) == 3 and not again.reset
        gap = await hub.subscribe("article:1", ids[0])
        assert gap.replay == [] and gap.reset
        assert hub.count == 3
        for each in (opened, again, gap):
            hub.unsubscribe(each.subscription)
        assert hub.count == 0
        await hub.close()
        return [got]

    assert b'"n":99' not in asyncio.run(scenario())[0]


def test_a_client_that_stops_reading_is_dropped_not_buffered() -> None:
    async def scenario() -> None:
        hub = LocalHub()
        await hub.start()
        opened = await hub.subscribe("article:1", None)
        for n in range(PENDING_MAX + 10):
            hub.publish("article:1", "count", {"n": n})
        await asyncio.sleep(0.1)  # the loop delivers
        assert opened.subscription.overflowed
        assert await opened.subscription.next() is None  # the stream ends; the client
        await hub.close()  # reconnects with its last id

    asyncio.run(scenario())


def test_an_id_from_before_a_restart_earns_a_reset() -> None:
    async def scenario() -> None:
        before = LocalHub()
        event_id = before.publish("article:1", "count", {})
        await asyncio.sleep(0.01)
        after = LocalHub()  # a new process: a later epoch
        await after.start()
        opened = await after.subscribe("article:1", event_id)
        assert opened.reset
        await after.close()

    asyncio.run(scenario())


def test_an_event_no_stream_follows_is_skipped_and_a_replay_across_it_resets() -> None:
    async def scenario() -> None:
        hub = LocalHub()
        await hub.start()
        assert not hub.wanted("article:1")  # nobody follows it: nothing to make
        opened = await hub.subscribe("article:1", None)
        assert hub.wanted("article:1")
        first = hub.publish("article:1", "count", {"n": 1})
        assert hub.wanted("article:2") is False  # another topic is still nobody's
        hub.unsubscribe(opened.subscription)
        # Just left: a page that reconnects soon gets what it missed, so events are made.
        assert hub.wanted("article:1")
        second = hub.publish("article:1", "count", {"n": 2})
        back = await hub.subscribe("article:1", first)
        assert [b'"n":2' in frame for frame in back.replay] == [True] and not back.reset
        hub.unsubscribe(back.subscription)
        await hub.close()
        assert second == first + 1

    asyncio.run(scenario())


def test_after_the_grace_a_skipped_event_makes_a_returning_stream_reset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        hub = LocalHub()
        await hub.start()
        opened = await hub.subscribe("article:1", None)
        last = hub.publish("article:1", "count", {"n": 1})
        hub.unsubscribe(opened.subscription)
        monkeypatch.setattr(live, "LISTENED_GRACE_SECONDS", 0.0)
        assert not hub.wanted("article:1")  # the comment it stands for is not sent
        back = await hub.subscribe("article:1", last)
        assert back.reset and back.replay == []  # the page reloads rather than miss it
        assert back.head > last
        hub.unsubscribe(back.subscription)
        # A stream that opened after the skip, with nothing to replay, follows on normally.
        again = await hub.subscribe("article:1", back.head)
        assert not again.reset and hub.wanted("article:1")
        hub.unsubscribe(again.subscription)
        await hub.close()

    asyncio.run(scenario())
