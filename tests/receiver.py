"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 in a thread that keeps every
request it gets and answers with the statuses it is told, in order (then 200)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATIENCE = 15.0  # seconds a test waits for deliveries on a busy machine


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    at: float  # time.monotonic() on arrival

    @property
    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


class Receiver:
    """`with Receiver() as hooks:`; `hooks.url` takes POSTs; `hooks.fail(500, 500)` makes the
    next two answer 500."""

    def __init__(self, path: str = "/hooks", port: int = 0) -> None:
        self.path = path
        self.received: list[Received] = []
        self._statuses: list[int] = []
        self._always: int | None = None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._next_status()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver._lock:
                    receiver.received.append(
                        Received(dict(self.headers.items()), body, status, time.monotonic())
                    )
                    receiver._changed.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a sender's round connects many at once

        self._server = Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _next_status(self) -> int:
        with self._lock:
            if self._statuses:
                return self._statuses.pop(0)
            return self._always or 200

    def fail(self, *statuses: int) -> None:
        with self._lock:
            self._statuses.extend(statuses)

    def always(self, status: int | None) -> None:
        with self._lock:
            self._always = status

    def ok(self) -> list[Received]:
        with self._lock:
            return [each for each in self.received if 200 <= each.status < 300]

    def wait_for(
        self, done: Callable[[list[Received]], bool], what: str, patience: float = PATIENCE
    ) -> list[Received]:
        """Wait until `done(every request so far)` holds."""
        deadline = time.monotonic() + patience
        with self._changed:
            while not done(list(self.received)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the receiver did not get {what}: {self.received}")
                self._changed.wait(left)
            return list(self.received)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
