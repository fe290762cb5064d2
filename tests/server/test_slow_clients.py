"""Slow and idle clients cannot starve a real `rejoinder serve`: a request head or body that
trickles is cut off, an idle connection is closed, a worker at its connection cap keeps
answering readers, and the server raises its own descriptor limit.

The bounds are generous (a busy machine is slow): each test asserts that the connection was
closed, within three times the timeout and five seconds more, never how fast.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Databases, Server, free_port, rejoinder

pytestmark = pytest.mark.one_backend

TIMEOUT = 2  # seconds, for each of the header, body and keep-alive timeouts
BOUND = 3 * TIMEOUT + 5
CAP = 40  # connections per worker


@pytest.fixture(scope="module")
def guarded(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "REJOINDER_HEADER_TIMEOUT": str(TIMEOUT),
        "REJOINDER_BODY_TIMEOUT": str(TIMEOUT),
        "REJOINDER_KEEPALIVE_TIMEOUT": str(TIMEOUT),
        "REJOINDER_MAX_CONNECTIONS": str(CAP),
        # uvicorn's own command reads this; serve must not: it runs the guarded protocol only.
        "UVICORN_HTTP": "h11",
    }
    log = tmp_path_factory.mktemp("slow_clients") / "server.log"
    running = Server(databases.new(), env=env, log=log).start(timeout=120)
    try:
        yield running
    finally:
        running.stop()


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)


def _seconds_until_closed(sock: socket.socket, limit: float = BOUND) -> float | None:
    """Read and drop whatever comes until the server closes the connection; the seconds that
    took, or None when it was still open after `limit`."""
    started = time.monotonic()
    while (left := limit - (time.monotonic() - started)) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return time.monotonic() - started
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
        except TimeoutError:
            return None
    return None


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request on an open connection; its whole answer (which has a length)."""
    sock.sendall(request)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _answers(server: Server) -> int:
    return httpx.get(server.url + "/healthz", timeout=BOUND).status_code


def test_connection_that_sends_nothing_is_closed(guarded: Server) -> None:
    with _connect(guarded) as sock:
        assert _seconds_until_closed(sock) is not None


def test_half_a_request_head_is_cut_off(guarded: Server) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert _seconds_until_closed(sock) is not None


def test_head_sent_a_byte_at_a_time_is_cut_off(guarded: Server) -> None:
    """Slowloris: every byte arrives well inside the timeout, the head never does."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Pad: a\r\n" * 100
    sent = 0
    with _connect(guarded) as sock:
        started = time.monotonic()
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            while sent < len(head) and time.monotonic() - started < BOUND:
                sock.sendall(head[sent : sent + 1])
                sent += 1
                time.sleep(0.2)
        assert sent < len(head), "the whole head went through"
        assert _seconds_until_closed(sock, limit=5) is not None


def test_body_that_trickles_is_cut_off(guarded: Server) -> None:
    body = b'{"body": "' + b"a" * 200 + b'"}'
    head = (
        "POST /api/v1/moderation/check HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sent = 0
    with _connect(guarded) as sock:
        sock.sendall(head.encode("ascii"))
        started = time.monotonic()
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            while sent < len(body) and time.monotonic() - started < BOUND:
                sock.sendall(body[sent : sent + 1])
                sent += 1
                time.sleep(0.2)
        assert sent < len(body), "the whole body went through"
        assert _seconds_until_closed(sock, limit=5) is not None


def test_idle_keep_alive_connection_is_closed_after_serving_requests(guarded: Server) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with _connect(guarded) as sock:
        for _ in range(2):  # the connection stays open between two prompt requests
            assert _exchange(sock, request).startswith(b"HTTP/1.1 200")
            time.sleep(0.2)
        assert _seconds_until_closed(sock) is not None


def test_response_read_slowly_arrives_whole(guarded: Server) -> None:
    """Deadlines bound what a client sends, never how long it takes to read an answer."""
    expected = httpx.get(guarded.url + "/api/v1/openapi.json", timeout=BOUND).content
    request = b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(BOUND)
        sock.connect(("127.0.0.1", guarded.port))
        sock.sendall(request)
        time.sleep(TIMEOUT * 2)  # past every deadline before reading a byte
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(expected)


def test_hundreds_of_idle_sockets_do_not_starve_a_reader(guarded: Server) -> None:
    """Ten times the cap of silent and half-sent connections, 127.0.0.1 only: the worker
    closes the idlest to make room, and a reader is answered every time."""
    held: list[socket.socket] = []
    try:
        for n in range(CAP * 10):
            with contextlib.suppress(OSError):
                sock = _connect(guarded)
                held.append(sock)
                if n % 2:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            if n % 50 == 49:
                assert _answers(guarded) == 200
        for _ in range(5):
            assert _answers(guarded) == 200
    finally:
        for sock in held:
            sock.close()
    assert _answers(guarded) == 200


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _open_files_limit(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError(f"no open files limit for {pid}")


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="needs Linux's /proc")
@pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_NOFILE)[1] in (resource.RLIM_INFINITY, 1024),
    reason="needs a finite hard limit above 1,024 to show it raised",
)
def test_workers_raise_their_descriptor_limit_and_cut_off_slow_heads(
    databases: Databases, tmp_path: Path
) -> None:
    """Started with a soft limit of 1,024 descriptors, each of two workers runs with the hard
    limit, and the protocol named by path applies its header timeout in a worker."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = min(soft, 1024)
    env = {"REJOINDER_HEADER_TIMEOUT": str(TIMEOUT)}
    server = Server(databases.new(), workers=2, env=env, log=tmp_path / "server.log")
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        server.start(timeout=180)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        assert server.process is not None
        workers = _children(server.process.pid)
        assert workers, "no worker processes"
        for pid in [server.process.pid, *workers]:
            with contextlib.suppress(FileNotFoundError):  # uvicorn's short-lived helpers
                assert _open_files_limit(pid) == (hard, hard)
        with _connect(server) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            assert _seconds_until_closed(sock) is not None
        assert _answers(server) == 200
    finally:
        server.stop()
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (soft, hard)


def test_serve_runs_the_guarded_httptools_protocol() -> None:
    from uvicorn.importer import import_from_string
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from rejoinder.cli.serve import HTTP_PROTOCOL
    from rejoinder.web.connections import GuardedHttpToolsProtocol

    assert import_from_string(HTTP_PROTOCOL) is GuardedHttpToolsProtocol
    assert issubclass(GuardedHttpToolsProtocol, HttpToolsProtocol)


def test_serve_without_httptools_stops_rather_than_serve_unguarded(
    db_url: str, tmp_path: Path
) -> None:
    hidden = tmp_path / "httptools"
    hidden.mkdir()
    (hidden / "__init__.py").write_text('raise ImportError("hidden by the test")\n')
    ran = rejoinder(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        db_url=db_url,
        env={"PYTHONPATH": str(tmp_path)},
        check=False,
    )
    assert ran.returncode == 1
    assert "needs the httptools package" in ran.stderr
    assert "hidden by the test" in ran.stderr
    assert "Traceback" not in ran.stderr
