"""Shared fixtures: a fresh database per backend, and a real `rejoinder serve` on 127.0.0.1.

The backend comes from the environment that scripts/test sets: PostgreSQL when
REJOINDER_TEST_DATABASE_URL is set (each fixture makes and drops its own database), SQLite
in a temporary folder otherwise.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "000_bd5f883b5d055f83.txt"
PG_URL = os.environ.get("REJOINDER_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("REJOINDER_TEST_REDIS_URL")
BACKEND = "postgresql" if PG_URL else "sqlite"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Databases:
    """Makes fresh, empty databases and drops them at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.made: list[str] = []

    def new(self) -> str:
        name = f"rj_{uuid.uuid4().hex[:12]}"
        if not PG_URL:
            return f"sqlite:///{self.tmp / (name + '.db')}"
        import psycopg

        with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return PG_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        if not PG_URL:
            return
        import psycopg

        with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("db"))
    yield made
    made.drop_all()


@pytest.fixture
def db_url(databases: Databases) -> str:
    """A fresh, empty database for one test."""
    return databases.new()


def rejoinder(
    *args: str,
    db_url: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real `rejoinder` command against `db_url`."""
    full_env = {**os.environ, "REJOINDER_DATABASE_URL": db_url, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "rejoinder", *args],
        env=full_env, input=input, capture_output=True, text=True, timeout=120, cwd=cwd,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(
            f"rejoinder {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def stop_group(
    process: subprocess.Popen[bytes] | subprocess.Popen[str],
    first: signal.Signals,
    patience: float = 10,
) -> None:
    """Send `first` to a child's whole process group (started with start_new_session), wait
    `patience` seconds for it to end, then SIGKILL it."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, first)
    try:
        process.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Server:
    """`rejoinder serve` in a child process on a free port; stopped by `stop()`."""

    def __init__(self, db_url: str, *, workers: int = 1, env: dict[str, str] | None = None,
                 log: Path | None = None) -> None:  # fmt: skip
        self.db_url = db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {
            **os.environ,
            "REJOINDER_DATABASE_URL": db_url,
            "REJOINDER_BASE_URL": self.url,
            "REJOINDER_ADMIN_TOKEN": "test-admin-token",
            # Discussion tests post many comments a second from one address: the moderation
            # pipeline (flood limits, form timing) is off unless a test turns it on.
            "REJOINDER_MODERATION": "false",
            # And when a test turns it on, patterns compile on first use rather than for 4 s
            # before the server answers (tests/server/test_moderation.py checks the default).
            "REJOINDER_MODERATION_WARM": "false",
            # On the PostgreSQL run, workers share cache invalidation through Redis.
            **({"REJOINDER_REDIS_URL": REDIS_URL} if REDIS_URL else {}),
            **(env or {}),
        }
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Server:
        command = [sys.executable, "-m", "rejoinder", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers)]  # fmt: skip
        if self.log_path:
            with open(self.log_path, "ab") as out:  # the child keeps its own copy of the handle
                self.process = subprocess.Popen(
                    command, env=self.env, stdout=out, stderr=out, start_new_session=True
                )
        else:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not answer in time")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no flush."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process:
            stop_group(self.process, signal.SIGTERM)


@pytest.fixture(scope="session")
def server(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the session, on its own fresh database, with one worker."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    running = Server(databases.new(), log=log).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """A browser-like client with its own cookie jar."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


@pytest.fixture
def make_article(server: Server) -> Callable[..., dict[str, object]]:
    """Publish an article through the admin API; returns its JSON."""

    def make(**fields: object) -> dict[str, object]:
        payload = {
            "title": f"Test article {uuid.uuid4().hex[:8]}",
            "body": "A paragraph.\n\nAnother one.",
        }
        payload.update(fields)
        response = httpx.post(
            server.url + "/api/v1/articles",
            json=payload,
            headers={"Authorization": "Bearer test-admin-token"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


@pytest.fixture
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"the seed page is not at {SEED}")
    return SEED.read_text(encoding="utf-8")
