"""A worker at its connection cap, against a real `rejoinder serve` whose deadlines are far
away (so that only the cap can close a connection): a newcomer closes the idlest connection
and readers keep being answered; when every connection is busy with a request, the newcomer is
answered 503. At most a few hundred sockets, on 127.0.0.1, all closed at the end."""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Databases, Server

CAP = 30
BOUND = 15  # seconds: generous, for a busy machine
# A request whose head is in and whose body never comes: the app waits for it, so the
# connection is busy (FastAPI reads a JSON body before anything else about the route).
BUSY_HEAD = (
    b"POST /api/v1/articles HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
)


@pytest.fixture(scope="module")
def capped(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "REJOINDER_HEADER_TIMEOUT": "600",
        "REJOINDER_BODY_TIMEOUT": "600",
        "REJOINDER_KEEPALIVE_TIMEOUT": "600",
        "REJOINDER_MAX_CONNECTIONS": str(CAP),
    }
    log = tmp_path_factory.mktemp("connection_cap") / "server.log"
    running = Server(databases.new(), env=env, log=log).start(timeout=120)
    try:
        yield running
    finally:
        running.stop()


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)


def _answers(server: Server) -> int:
    return httpx.get(server.url + "/healthz", timeout=BOUND).status_code


def _closed_by_server(held: list[socket.socket], at_least: int) -> int:
    """How many of `held` the server has closed, waiting up to BOUND for `at_least`."""
    closed: set[socket.socket] = set()
    with selectors.DefaultSelector() as selector:
        for sock in held:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + BOUND
        while len(closed) < at_least and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=left):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                try:
                    data = ready.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    closed.add(ready)
                    selector.unregister(ready)
    return len(closed)


def test_at_the_cap_a_newcomer_closes_the_idlest_connection(capped: Server) -> None:
    held: list[socket.socket] = []
    try:
        for n in range(CAP * 8):
            held.append(_connect(capped))
            if n % 40 == 39:
                assert _answers(capped) == 200
        assert _answers(capped) == 200
        # Open on the server now: at most CAP, so all the others were closed to make room.
        assert _closed_by_server(held, at_least=len(held) - CAP) >= len(held) - CAP
    finally:
        for sock in held:
            sock.close()
    assert _answers(capped) == 200


def test_at_the_cap_with_every_connection_busy_a_newcomer_is_answered_503(
    capped: Server,
) -> None:
    held: list[socket.socket] = []
    answer = b""
    try:
        for _ in range(CAP):
            sock = _connect(capped)
            held.append(sock)
            sock.sendall(BUSY_HEAD)
        # A newcomer the worker admits (one of the above was closed before its head was read)
        # makes itself busy too, until every place is taken by a request under way.
        for _ in range(CAP):
            sock = _connect(capped)
            held.append(sock)
            sock.settimeout(1)
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                sock.sendall(BUSY_HEAD)
                continue
            except ConnectionResetError:
                continue
            if answer:
                break
    finally:
        for sock in held:
            sock.close()
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    # Once the worker has seen those clients go, readers are answered again.
    deadline = time.monotonic() + BOUND
    while _answers(capped) != 200:
        assert time.monotonic() < deadline, "still refused after the busy clients left"
        time.sleep(0.2)
