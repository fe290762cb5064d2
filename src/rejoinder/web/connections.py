"""uvicorn's HTTP protocol with read deadlines and a cap on each worker's open connections.

`rejoinder serve` names `GuardedHttpToolsProtocol` by path (uvicorn's `http=`), so every
worker imports it. A connection is in one of three states, and each has its own bound:

- waiting for a request (just opened, or between two requests): the header timeout for a new
  connection, uvicorn's keep-alive timeout after a response;
- sending a request's line and headers: the header timeout, counted from connecting or from
  the request's first byte, whichever is later;
- sending its body: the body timeout, counted from the end of its headers.

Nothing bounds the response: a long feed is written for as long as the client reads it (a
client that stops reading stalls only its own request, through the transport's flow control).

At `max_connections` a new connection closes another so that readers keep being served: the
one that has waited longest for a request, else the one that has spent longest on its headers.
When every connection is busy with a request, the new one is answered 503 and closed.
uvicorn's own `limit_concurrency` is not used: it counts idle connections too, so a few
hundred idle sockets would make every real request answer 503.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from rejoinder.settings import load_settings

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 19\r\n"
    b"retry-after: 1\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"Service Unavailable"
)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: int
    body_timeout: int
    keepalive_timeout: int
    max_connections: int


@functools.cache
def connection_limits() -> ConnectionLimits:
    """This worker's limits, read once from its settings (the environment `serve` hands over)."""
    settings = load_settings()
    return ConnectionLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        keepalive_timeout=settings.keepalive_timeout,
        max_connections=settings.max_connections,
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` with a header deadline, a body deadline and the connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = connection_limits()
        # uvicorn arms its keep-alive timer with this after each response.
        self.timeout_keep_alive = self.limits.keepalive_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_head = False
        self._since = self.loop.time()  # when the current state began: who is evicted first

    # States, as the parser reports them

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        full = self._make_room()
        super().connection_made(transport)
        if full:
            transport.write(_BUSY)
            transport.close()
            return
        self._arm(self.limits.header_timeout)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._since = self.loop.time()
        if self._deadline is None:  # a new connection's deadline already runs from its start
            self._arm(self.limits.header_timeout)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._reading_head = False
        super().on_headers_complete()
        self._arm(self.limits.body_timeout)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._since = self.loop.time()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # Deadlines

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        # The app, if it is reading the body, sees the client disconnect.
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    # The connection cap

    def _is_waiting(self) -> bool:
        """No request under way: just opened, or idle between two requests."""
        return (
            not self._reading_head
            and (self.cycle is None or self.cycle.response_complete)
            and not self.pipeline
        )

    def _make_room(self) -> bool:
        """Below the cap, nothing; at it, close the connection that costs readers least.
        True when there was none to close (every connection is busy with a request)."""
        if len(self.connections) < self.limits.max_connections:
            return False
        # A closed transport stays in `connections` until the loop reports it lost.
        open_now = [c for c in self.connections if not c.transport.is_closing()]
        if len(open_now) < self.limits.max_connections:
            return False
        ours = [c for c in open_now if isinstance(c, GuardedHttpToolsProtocol)]
        waiting = [c for c in ours if c._is_waiting()]
        candidates = waiting or [c for c in ours if c._reading_head]
        if not candidates:
            return True
        victim = min(candidates, key=lambda c: c._since)
        victim._disarm()
        victim.transport.close()
        return False
