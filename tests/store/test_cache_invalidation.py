"""Every worker's read cache drops a thread as soon as any worker writes to it.

On SQLite the workers notice through PRAGMA data_version; on the PostgreSQL run the servers
get REJOINDER_REDIS_URL and notice through Redis pub/sub; a PostgreSQL server without Redis
revalidates on every read.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from rejoinder.settings import Settings
from tests.conftest import BACKEND, Databases, Server

from . import comment_payload, walk

READS = 20
EACH_WORKER = 3  # reads of each kind every worker must answer
MAX_READS = 200
# A fresh connection per request: a kept-alive connection would stay with one worker.
FRESH = httpx.Limits(max_keepalive_connections=0)


@pytest.fixture(scope="module")
def shared_server(databases: Databases) -> Iterator[Server]:
    running = Server(databases.new(), workers=2).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def redisless_server(databases: Databases) -> Iterator[Server]:
    if BACKEND != "postgresql":
        pytest.skip("without Redis, SQLite servers still have data_version; PostgreSQL has nothing")
    running = Server(databases.new(), workers=2, env={"REJOINDER_REDIS_URL": ""}).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(params=["shared_server", "redisless_server"])
def any_server(request: pytest.FixtureRequest) -> Server:
    server: Server = request.getfixturevalue(request.param)
    return server


class Workers:
    """Which worker process answered a response: the one holding the server side of its socket.

    Linux only (/proc). Reads go on until every worker has answered several of each kind, so
    a test cannot pass just because the kernel happened to hand every connection to one.
    """

    def __init__(self, server: Server) -> None:
        assert server.process is not None
        self.port = server.port
        self.count = server.workers
        self.supervisor = server.process.pid

    def of(self, response: httpx.Response) -> int:
        stream = response.extensions["network_stream"]
        client_port = stream.get_extra_info("socket").getsockname()[1]
        with open("/proc/net/tcp") as table:
            # A socket may be listed twice while the table changes under the read: one inode.
            inodes = {
                fields[9]
                for fields in (line.split() for line in table.readlines()[1:])
                if int(fields[1].split(":")[1], 16) == self.port
                and int(fields[2].split(":")[1], 16) == client_port
            }
        assert len(inodes) == 1, inodes
        [inode] = inodes
        for pid in _group(self.supervisor):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        return pid
        raise AssertionError("no worker holds the connection")


def _group(pgid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                found.append(int(name))
    return found


def _every_read_shows(
    server: Server,
    slug: str,
    api_ok: Callable[[dict[str, Any]], bool],
    html_ok: Callable[[str], bool],
    stale_etag: str | None = None,
) -> str:
    """At least READS API reads and READS page reads, each on a new connection, until every
    worker has answered at least EACH_WORKER of each kind; every one of them must pass."""
    workers = Workers(server)
    served: Counter[tuple[str, int]] = Counter()
    etags = set()

    def covered() -> bool:
        pids = {pid for _kind, pid in served}
        return len(pids) == workers.count and all(
            served[kind, pid] >= EACH_WORKER for kind in ("api", "html") for pid in pids
        )

    with httpx.Client(base_url=server.url, timeout=10, limits=FRESH) as reader:
        for i in range(MAX_READS):
            if i >= READS and covered():
                break
            headers = {"If-None-Match": stale_etag} if stale_etag and i % 2 else {}
            with reader.stream("GET", f"/api/v1/articles/{slug}/comments", headers=headers) as api:
                served["api", workers.of(api)] += 1
                api.read()
            assert api.status_code == 200, f"{api.status_code}: a stale ETag was still current"
            assert api_ok(api.json()), f"API read {i + 1} was stale: {api.text}"
            etags.add(api.headers["ETag"])
            with reader.stream("GET", f"/articles/{slug}") as page:
                served["html", workers.of(page)] += 1
                page.read()
            assert page.status_code == 200, page.text
            assert html_ok(page.text), f"page read {i + 1} was stale"
    assert covered(), f"the reads did not reach every worker: {served}"
    assert len(etags) == 1, etags
    return etags.pop()


def _ids(thread: dict[str, Any]) -> set[int]:
    return {c["id"] for c in walk(thread["comments"])}


def _bodies(thread: dict[str, Any]) -> dict[int, str]:
    return {c["id"]: c["body_html"] for c in walk(thread["comments"])}


def test_every_worker_shows_a_post_an_edit_and_a_delete_at_once(any_server: Server) -> None:
    server = any_server
    slug = str(server.publish()["slug"])
    with httpx.Client(base_url=server.url, timeout=10) as writer:
        url = f"/api/v1/articles/{slug}/comments"
        old = writer.post(url, json=comment_payload(body="Already here."))
        assert old.status_code == 201, old.text
        old_id = int(old.json()["id"])
        # Warm both workers' caches.
        etag = _every_read_shows(
            server, slug, lambda t: _ids(t) == {old_id}, lambda h: f'id="comment-{old_id}"' in h
        )

        posted = writer.post(url, json=comment_payload(body="Fresh off the press."))
        assert posted.status_code == 201, posted.text
        new_id = int(posted.json()["id"])
        etag = _every_read_shows(
            server,
            slug,
            lambda t: _ids(t) == {old_id, new_id} and t["article"]["comment_count"] == 2,
            lambda h: f'id="comment-{new_id}"' in h and "Fresh off the press." in h,
            stale_etag=etag,
        )

        edited = writer.patch(f"/api/v1/comments/{new_id}", json={"body": "Corrected *twice*."})
        assert edited.status_code == 200, edited.text
        etag = _every_read_shows(
            server,
            slug,
            lambda t: "<em>twice</em>" in _bodies(t).get(new_id, ""),
            lambda h: "Corrected <em>twice</em>." in h and "Fresh off the press." not in h,
            stale_etag=etag,
        )

        deleted = writer.delete(f"/api/v1/comments/{new_id}")
        assert deleted.status_code == 204, deleted.text
        _every_read_shows(
            server,
            slug,
            lambda t: _ids(t) == {old_id} and t["article"]["comment_count"] == 1,
            lambda h: f'id="comment-{new_id}"' not in h and "Corrected" not in h,
            stale_etag=etag,
        )


def test_an_empty_redis_url_means_no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REJOINDER_REDIS_URL", "")
    assert not Settings(database_url="sqlite:///unused.db").redis_url
