"""Reading Server-Sent Events in tests: from the app in this process or from a real server.

Every read is bounded: `until` reads until an event matches or a generous deadline passes,
and each stream is closed by its `with` block.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import httpx

from tests.conftest import App, Service

PATIENCE = 20.0  # seconds a test waits for an event: generous, for a busy machine


@dataclass(frozen=True)
class Sse:
    event: str
    data: str
    id: str | None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Parser:
    """Bytes in, events out, as a browser's EventSource splits them."""

    buffer: bytes = b""
    last_id: str | None = None
    raw: bytearray = field(default_factory=bytearray)  # everything received, for assertions

    def feed(self, chunk: bytes) -> list[Sse]:
        self.raw += chunk
        self.buffer += chunk.replace(b"\r\n", b"\n")
        events = []
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            kind, data, seen_id = "message", [], None
            for line in block.decode().split("\n"):
                if not line or line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    kind = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    seen_id = value
            if seen_id is not None:
                self.last_id = seen_id
            if data:
                events.append(Sse(kind, "\n".join(data), seen_id))
        return events


class Stream:
    """An open event stream; `until` and `next` read from it."""

    def __init__(self) -> None:
        self.parser = Parser()
        self.seen: list[Sse] = []
        self.status = 0
        self.headers: dict[str, str] = {}
        self._ready: list[Sse] = []

    def _chunk(self, timeout: float) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def until(self, match: Callable[[Sse], bool], timeout: float = PATIENCE) -> list[Sse]:
        """Every event up to and including the first that matches (AssertionError if none
        comes in time)."""
        deadline = time.monotonic() + timeout
        got: list[Sse] = []
        while True:
            while self._ready:
                event = self._ready.pop(0)
                got.append(event)
                if match(event):
                    return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event in {timeout} s; got {got}")
            chunk = self._chunk(left)
            if chunk is None:
                raise AssertionError(f"the stream ended; got {got}")
            events = self.parser.feed(chunk)
            self.seen += events
            self._ready += events

    def next(self, kind: str, timeout: float = PATIENCE) -> Sse:
        return self.until(lambda e: e.event == kind, timeout)[-1]


class HttpStream(Stream):
    """A stream from a real server over HTTP."""

    def __init__(self, service: Service, path: str, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self._client = httpx.Client(base_url=service.url, timeout=httpx.Timeout(PATIENCE))
        self._response = self._client.send(
            self._client.build_request("GET", path, headers=headers), stream=True
        )
        self.status = self._response.status_code
        self.headers = dict(self._response.headers)
        self._chunks: Iterator[bytes] = self._response.iter_raw()

    def _chunk(self, timeout: float) -> bytes | None:
        # The read timeout bounds each wait; a heartbeat comes every 15 s in any case.
        try:
            return next(self._chunks)
        except StopIteration:
            return None
        except httpx.ReadTimeout:
            return b""

    def close(self) -> None:
        self._response.close()
        self._client.close()


class AppStream(Stream):
    """A stream from the app in this process: its ASGI callable driven on the app's loop, the
    body handed over chunk by chunk, the disconnect sent on close."""

    def __init__(self, app: App, path: str, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        assert app._portal is not None, "start() the app first"
        self._portal = app._portal
        self._asgi = app._app
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        self._gone = self._portal.call(anyio.Event)
        path, _, query = path.partition("?")
        self._scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        self._done = self._portal.start_task_soon(self._run)
        start = self._chunks.get(timeout=PATIENCE)
        assert start is not None
        self.status = int(start.decode())

    async def _run(self) -> None:
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
                self._chunks.put(str(message["status"]).encode())
            elif message["type"] == "http.response.body":
                self._chunks.put(message.get("body", b""))
                if not message.get("more_body"):
                    self._chunks.put(None)

        try:
            await self._asgi(self._scope, receive, send)
        finally:
            self._chunks.put(None)

    def _chunk(self, timeout: float) -> bytes | None:
        try:
            return self._chunks.get(timeout=timeout)
        except queue.Empty:
            return b""

    def close(self) -> None:
        self._portal.call(self._gone.set)
        self._done.result(timeout=PATIENCE)


def open_stream(service: Service, path: str, headers: dict[str, str] | None = None) -> Stream:
    """A stream of `path` on `service`, whichever kind it is."""
    if isinstance(service, App):
        return AppStream(service, path, headers)
    return HttpStream(service, path, headers)
