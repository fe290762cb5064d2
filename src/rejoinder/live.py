"""Live updates: numbered events per topic, kept in a short ring and fanned out to open streams.

A topic is what a stream follows: `article:<id>` (a discussion's readers) or `desk:<site id>`
(its moderators). `publish` may be called from any thread (use cases run in the thread pool);
streams live on the event loop. Each event gets the next id of its topic, and the topic's ring
keeps the last `RING_SIZE` events for `RING_SECONDS`, so a client that reconnects with
`Last-Event-ID` gets what it missed, or a `reset` when the gap is older than the ring.

Two hubs, chosen by `make_hub`:

- `LocalHub`: ids, rings and fan-out in this process (one worker, or no Redis). Ids start at
  the hub's start time in milliseconds, so an id from before a restart is older than any ring
  and earns a `reset` rather than a wrong replay.
- `RedisHub`: one Lua script takes the id (INCR), appends to the ring (a capped list) and
  PUBLISHes, atomically, so every worker and host sees a topic's events in id order; each
  worker subscribes once, for every topic, and replays from the shared ring.

Memory is bounded: a stream holds at most `PENDING_MAX` unsent events (a client that falls
further behind is closed and reconnects with its last id); the local hub keeps at most
`TOPICS_MAX` rings, least recently used dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

log = logging.getLogger("rejoinder.live")

RING_SIZE = 200
RING_SECONDS = 600
PENDING_MAX = 256  # frames are shared bytes: a queue is pointers to them
TOPICS_MAX = 2000
HEARTBEAT_SECONDS = 15.0
# How long a local topic is still published to after its last stream left: a page that
# reconnects within it (after a network blip, a proxy's restart) gets what it missed.
LISTENED_GRACE_SECONDS = 120.0
HEARTBEAT = b": keep-alive\n\n"


def article_topic(article_id: int) -> str:
    return f"article:{article_id}"


def desk_topic(site_id: int) -> str:
    return f"desk:{site_id}"


def frame(event_id: int | None, kind: str, data: Mapping[str, Any]) -> bytes:
    """One event as a stream sends it (JSON has no raw newline: one `data:` line)."""
    head = b"id: %d\n" % event_id if event_id is not None else b""
    return head + b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: float  # time.time() when published
    data: bytes  # the encoded frame


class Subscription:
    """One open stream's queue: frames not yet sent, bounded; woken when one arrives. (Kept
    small, a list and a bare future: a worker holds a thousand of them.)"""

    __slots__ = ("_frames", "_held", "_waiter", "closed", "floor", "gone", "overflowed", "topic")

    def __init__(self, topic: str, floor: int, *, held: bool = False) -> None:
        self.topic = topic
        self.floor = floor  # the last id this stream has (or will have from its replay)
        self._frames: list[bytes] = []
        # Events that arrive while the ring is read wait here until `release`.
        self._held: list[Event] | None = [] if held else None
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.closed = False
        self.gone = False  # the client left: nothing more can be sent

    def push(self, event: Event) -> None:
        if self._held is not None:
            if len(self._held) < PENDING_MAX:
                self._held.append(event)
            else:
                self.overflowed = True
            return
        if event.id <= self.floor:  # already sent in its replay
            return
        self.floor = event.id
        self.put(event.data)

    def release(self, floor: int) -> None:
        """The ring has been read up to `floor`: send what arrived meanwhile, past it."""
        held, self._held = self._held or [], None
        self.floor = max(self.floor, floor)
        for event in held:
            self.push(event)

    def put(self, data: bytes) -> None:
        if len(self._frames) >= PENDING_MAX:
            self.overflowed = True
        else:
            self._frames.append(data)
        self._wake()

    def close(self, *, gone: bool = False) -> None:
        self.closed = True
        self.gone = self.gone or gone
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self) -> bytes | None:
        """What to send next, waiting for it; None when the stream should end."""
        while not self._frames and not self.closed and not self.overflowed:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.closed or self.overflowed:
            return None
        chunk = b"".join(self._frames)
        self._frames.clear()
        return chunk


@dataclass(frozen=True)
class Opened:
    """A new stream: its subscription, the frames it starts with, and whether it must reset."""

    subscription: Subscription
    replay: list[bytes]
    reset: bool
    head: int  # the topic's last id when the stream opened


def replay(
    events: list[Event], head: int, last: int | None, since: float
) -> tuple[list[Event], bool]:
    """What a client that has `last` missed, from a ring holding `events` (ids consecutive,
    oldest first; those before `since` too old to count) with `head` the newest id:
    (the events to send again, whether the client must reset instead)."""
    if last is None or last == head:
        return [], False
    if last > head:
        return [], True  # an id from another epoch (a restart, a flushed Redis)
    fresh = [e for e in events if e.at >= since]
    if not fresh or fresh[0].id > last + 1:
        return [], True  # the gap goes back further than the ring
    return [e for e in fresh if e.id > last], False


class Hub:
    """The fan-out on the event loop, shared by both hubs; subclasses number and carry."""

    def __init__(self) -> None:
        self._streams: dict[str, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._beat: asyncio.Task[None] | None = None
        self.count = 0  # open streams in this worker

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._beat = asyncio.create_task(self._heartbeat())

    async def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        for streams in list(self._streams.values()):
            for subscription in list(streams):
                subscription.close()

    async def _heartbeat(self) -> None:
        """A comment line on every stream now and then: proxies and clients see it alive."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            for streams in list(self._streams.values()):
                for subscription in streams:
                    subscription.put(HEARTBEAT)

    def _deliver(self, topic: str, event: Event) -> None:
        for subscription in self._streams.get(topic, ()):
            subscription.push(event)

    def _register(self, topic: str, floor: int, *, held: bool = False) -> Subscription:
        subscription = Subscription(topic, floor, held=held)
        self._streams.setdefault(topic, set()).add(subscription)
        self.count += 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        streams = self._streams.get(subscription.topic)
        if streams is not None and subscription in streams:
            streams.discard(subscription)
            self.count -= 1
            if not streams:
                del self._streams[subscription.topic]

    def publish(self, topic: str, kind: str, data: Mapping[str, Any]) -> int:
        """Number the event, keep it in the topic's ring and send it to every stream of the
        topic, on every worker; from any thread. Returns its id."""
        raise NotImplementedError

    def wanted(self, topic: str) -> bool:
        """Whether an event of `topic` may reach anyone, so that it is worth making (reading
        and rendering it costs a post more than the rest of its live update); from any
        thread. Where it says no, the event is skipped as if published and missed: a stream
        that later asks to replay past it is told to reset. Every hub but the local one
        says yes: streams on other workers and hosts cannot be seen from here."""
        return True

    async def subscribe(self, topic: str, last: int | None) -> Opened:
        """Open a stream of `topic` for a client that has everything up to `last`."""
        raise NotImplementedError


class LocalHub(Hub):
    """Ids, rings and fan-out in this process."""

    def __init__(self, ring_size: int = RING_SIZE) -> None:
        super().__init__()
        self._ring_size = ring_size
        self._lock = threading.Lock()
        self._epoch = int(time.time() * 1000)
        self._heads: OrderedDict[str, int] = OrderedDict()
        self._rings: dict[str, deque[Event]] = {}
        self._left: OrderedDict[str, float] = OrderedDict()  # topic -> when its last stream left

    def _head(self, topic: str) -> int:
        return self._heads.get(topic, self._epoch)

    def _advance(self, topic: str) -> int:
        """The topic's next id, now its head (under the lock)."""
        event_id = self._head(topic) + 1
        self._heads[topic] = event_id
        self._heads.move_to_end(topic)
        while len(self._heads) > TOPICS_MAX:
            # A topic forgotten starts again at the epoch: its old ids earn a reset.
            old, _ = self._heads.popitem(last=False)
            self._rings.pop(old, None)
        return event_id

    def publish(self, topic: str, kind: str, data: Mapping[str, Any]) -> int:
        with self._lock:
            event_id = self._advance(topic)
            event = Event(event_id, time.time(), frame(event_id, kind, data))
            self._rings.setdefault(topic, deque(maxlen=self._ring_size)).append(event)
            loop = self._loop
            # Inside the lock, so the loop receives a topic's events in id order.
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._deliver, topic, event)
        return event_id

    def wanted(self, topic: str) -> bool:
        """Yes while a stream of this worker follows `topic`, or left it less than
        `LISTENED_GRACE_SECONDS` ago (it may come back for what it missed); else the event
        is skipped: the topic's id moves on and its ring is emptied, so a stream that comes
        back with an older id resets (reloads) rather than replays with a hole in it."""
        with self._lock:
            if self._streams.get(topic):
                return True
            left = self._left.get(topic)
            if left is not None and time.monotonic() - left < LISTENED_GRACE_SECONDS:
                return True
            self._left.pop(topic, None)
            self._advance(topic)
            self._rings.pop(topic, None)
            return False

    async def subscribe(self, topic: str, last: int | None) -> Opened:
        # Registered under the lock: `wanted`, in another thread, sees either this stream or
        # the head it opens at, never neither.
        with self._lock:
            head = self._head(topic)
            events = list(self._rings.get(topic, ()))
            subscription = self._register(topic, head)
        missed, reset = replay(events, head, last, time.time() - RING_SECONDS)
        return Opened(subscription, [e.data for e in missed], reset, head)

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            super().unsubscribe(subscription)
            if subscription.topic not in self._streams:
                self._left[subscription.topic] = time.monotonic()
                self._left.move_to_end(subscription.topic)
                while len(self._left) > TOPICS_MAX:
                    self._left.popitem(last=False)


# KEYS: sequence, ring. ARGV: channel, topic, the frame after its id line, ring size, ring
# seconds, time. A ring entry is "<id>\n<time>\n<frame>"; a message is "<topic>\n" + entry.
_PUBLISH = """
local id = redis.call('INCR', KEYS[1])
local entry = id .. '\\n' .. ARGV[6] .. '\\nid: ' .. id .. '\\n' .. ARGV[3]
redis.call('RPUSH', KEYS[2], entry)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\\n' .. entry)
return id
"""


def _parse(entry: bytes) -> Event:
    """ "<id>\\n<time>\\n<frame>" back into an event."""
    raw_id, at, data = entry.split(b"\n", 2)
    return Event(int(raw_id), float(at), data)


class RedisHub(Hub):
    """Ids and rings in Redis, fan-out through one pub/sub subscription per worker.

    `namespace` keeps deployments that share a Redis apart (it is derived from the secret
    key, which every worker of a deployment shares).
    """

    def __init__(self, url: str, namespace: str) -> None:
        import redis

        super().__init__()
        self._url = url
        self._prefix = f"rejoinder:live:{namespace}:"
        self._channel = self._prefix + "events"
        self._redis: Any = redis.Redis.from_url(url)
        self._script: Any = self._redis.register_script(_PUBLISH)
        self._async: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def _keys(self, topic: str) -> tuple[str, str]:
        return self._prefix + "seq:" + topic, self._prefix + "ring:" + topic

    def publish(self, topic: str, kind: str, data: Mapping[str, Any]) -> int:
        body = b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
        return int(
            self._script(
                keys=list(self._keys(topic)),
                args=[self._channel, topic, body, RING_SIZE, RING_SECONDS, repr(time.time())],
            )
        )

    async def start(self) -> None:
        import redis.asyncio

        await super().start()
        self._async = redis.asyncio.Redis.from_url(self._url)
        self._listener = asyncio.create_task(self._listen())
        try:  # streams opened before the subscription is live would miss events
            await asyncio.wait_for(self._ready.wait(), 5)
        except TimeoutError:
            log.warning("the Redis live feed is not subscribed yet")

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
        if self._async is not None:
            await self._async.aclose()
        self._redis.close()

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._async.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(self._channel)
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._received(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("Redis live feed lost; resubscribing", exc_info=True)
                # Streams may have missed events: they reconnect with their last id and replay.
                for streams in list(self._streams.values()):
                    for subscription in list(streams):
                        subscription.close()
                await asyncio.sleep(0.5)

    def _received(self, message: bytes) -> None:
        try:
            topic, rest = message.split(b"\n", 1)
            self._deliver(topic.decode(), _parse(rest))
        except ValueError:
            log.warning("a live message that does not parse was skipped")

    async def subscribe(self, topic: str, last: int | None) -> Opened:
        # Registered first: an event published while the ring is read is then either in
        # the ring or delivered, and `floor` drops the copy.
        subscription = self._register(topic, 0, held=True)
        try:
            seq, ring = self._keys(topic)
            pipe = self._async.pipeline()
            pipe.get(seq)
            pipe.lrange(ring, 0, -1)
            raw_head, entries = await pipe.execute()
        except BaseException:
            self.unsubscribe(subscription)
            raise
        head = int(raw_head or 0)
        events = [_parse(entry) for entry in entries]
        missed, reset = replay(events, head, last, time.time() - RING_SECONDS)
        subscription.release(head)
        return Opened(subscription, [e.data for e in missed], reset, head)


def make_hub(redis_url: str | None, secret: str) -> Hub:
    if redis_url:
        namespace = hmac.new(secret.encode(), b"rejoinder.live", hashlib.sha256).hexdigest()[:16]
        return RedisHub(redis_url, namespace)
    return LocalHub()
