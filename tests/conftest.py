"""Shared fixtures: a fresh database per backend; the real app in this process (`App`) or a
real `rejoinder serve` on 127.0.0.1 (`Server`), both reached over HTTP the same way (`Service`);
the `rejoinder` command in this process (`cli`) or as a real process (`rejoinder`).

The backend comes from the environment that scripts/test sets: PostgreSQL when
REJOINDER_TEST_DATABASE_URL is set (each fixture makes and drops its own database), SQLite
in a temporary folder otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from tests import ADMIN_HEADERS, PASSWORD, log_in

ROOT = Path(__file__).resolve().parents[1]

# scripts/test starts its pytest processes in the background, and bash has a background
# command ignore Ctrl-C; an ignored signal stays ignored in every child, so a real command
# that a test stops with Ctrl-C would never hear it. Caught here, it is the default again
# in every child.
signal.signal(signal.SIGINT, signal.default_int_handler)
# Desk passwords hashed with argon2's cheapest parameters, in this process and in every
# server and command it starts (they inherit the environment): the standard ones cost a
# quarter of a second of CPU per account made and per log-in, hundreds of times a run.
# tests/app/test_password_hashing.py checks the standard parameters.
os.environ["REJOINDER_PASSWORD_HASHING"] = "test-only"
SEED = ROOT.parent / "shared" / "seed" / "000_bd5f883b5d055f83.txt"
PG_URL = os.environ.get("REJOINDER_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("REJOINDER_TEST_REDIS_URL")
BACKEND = "postgresql" if PG_URL else "sqlite"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Databases:
    """Makes fresh databases, at the newest schema or empty, and drops them when done.

    A migrated one is a copy of a template migrated once per session (a file copy on SQLite,
    `CREATE DATABASE ... TEMPLATE` on PostgreSQL): migrating each of the suite's databases
    through Alembic cost a few tenths of a second apiece. Nothing but the schema is in the
    template; a runtime opened on a copy makes its own default site and secret.

    On PostgreSQL a database is dropped, in a thread of its own, once the module whose tests
    or fixtures made it is done (`module_done`), while the next module runs; those made for
    session-wide fixtures (`new(lasting=True)`) and the template go at the end. Dropping a
    run's few hundred at the end instead took 20-50 s, all of it after the last test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self._kept: list[str] = []  # made for session-wide fixtures
        self._pending: list[str] = []  # made since the last module ended
        self._dropper: ThreadPoolExecutor | None = None
        self._template: str | None = None

    def new(self, *, empty: bool = False, lasting: bool = False) -> str:
        """A new database's URL; `lasting`: for a session-wide fixture, dropped at the end
        (else once the module that made it is done)."""
        name = f"rj_{uuid.uuid4().hex[:12]}"
        template = None if empty else self._migrated_template()
        if not PG_URL:
            path = self.tmp / (name + ".db")
            if template:
                shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        import psycopg

        with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        if lasting:
            self._kept.append(name)
        else:
            self._pending.append(name)
        return PG_URL.rsplit("/", 1)[0] + "/" + name

    def _migrated_template(self) -> str:
        """The template's file (SQLite) or database name (PostgreSQL), made on first use."""
        if self._template is not None:
            return self._template
        from rejoinder.store.database import Database
        from rejoinder.store.migrate import upgrade

        url = self.new(empty=True)
        db = Database(url, pool_size=1)
        try:
            upgrade(db)
        finally:
            db.dispose()
        if PG_URL:
            self._template = url.rsplit("/", 1)[1]
        else:
            path = url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as conn:  # fold the WAL into the file that is copied
                conn.execute("PRAGMA journal_mode=DELETE")
            conn.close()
            self._template = path
        return self._template

    def module_done(self) -> None:
        """Drop, in the background, what was made since the last module ended (but for the
        session-wide fixtures' databases and the template)."""
        pending = [name for name in self._pending if name != self._template]
        self._pending = []
        if not PG_URL or not pending:
            return
        if self._dropper is None:
            self._dropper = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dropper")
        self._dropper.submit(_drop, pending)

    def drop_all(self) -> None:
        """Drop every database made: the background drops finished, then the rest."""
        if not PG_URL:
            return
        if self._dropper is not None:
            self._dropper.shutdown(wait=True)
        template = [self._template] if self._template else []
        rest = [name for name in [*self._kept, *self._pending] if name not in template]
        # Several at once; the template last: the others were copied from it.
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(_drop, [rest[i::8] for i in range(8)]))
        _drop(template)


def _drop(names: list[str]) -> None:
    """DROP DATABASE for each name (one that is gone already is no error)."""
    if not names or not PG_URL:
        return
    import psycopg

    with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


_DATABASES: list[Databases] = []  # the session's, for the hooks below


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("db"))
    _DATABASES.append(made)
    yield made
    _DATABASES.remove(made)
    made.drop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """After the last test of a module (its module-wide fixtures torn down with it), its
    databases are dropped in the background."""
    result = yield
    if _DATABASES and (nextitem is None or nextitem.module is not item.module):  # type: ignore[attr-defined]
        _DATABASES[0].module_done()
    return result


@pytest.fixture
def db_url(databases: Databases) -> str:
    """A fresh, empty database for one test."""
    return databases.new(empty=True)


def rejoinder(
    *args: str,
    db_url: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real `rejoinder` command, as a process, against `db_url` (for tests of the
    command's own process: exit codes, stdin, `serve`; setup uses `cli`)."""
    full_env = {**os.environ, "REJOINDER_DATABASE_URL": db_url, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "rejoinder", *args],
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"rejoinder {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


@dataclass(frozen=True)
class Ran:
    """What a command run in this process printed, and its exit status."""

    returncode: int
    stdout: str
    stderr: str


def cli(
    *args: str,
    db_url: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
) -> Ran:
    """Run a `rejoinder` command in this process (Typer's runner), against `db_url`: setup
    without a Python start. An exception the command does not turn into an exit is raised."""
    from typer.testing import CliRunner

    from rejoinder.cli import app

    result = CliRunner().invoke(
        app,
        list(args),
        input=input,
        # With the servers' Redis on the PostgreSQL run, as a deployment's commands share the
        # servers' settings: a change a command makes is announced to every worker.
        env={
            "REJOINDER_DATABASE_URL": db_url,
            **({"REJOINDER_REDIS_URL": REDIS_URL} if REDIS_URL else {}),
            **(env or {}),
        },
        prog_name="rejoinder",
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if check and result.exit_code != 0:
        raise AssertionError(f"rejoinder {' '.join(args)} failed:\n{result.output}")
    return Ran(result.exit_code, result.stdout, result.stderr)


def add_staff(db_url: str, name: str, role: str = "moderator", password: str = PASSWORD) -> None:
    """A desk account, made with `rejoinder user add` (in process)."""
    with tempfile.TemporaryDirectory() as folder:
        secret = Path(folder) / "password"
        secret.write_text(password + "\n", encoding="utf-8")
        cli("user", "add", name, "--role", role, "--password-file", str(secret), db_url=db_url)


def add_token(db_url: str, user: str, label: str | None = None) -> str:
    """An API token for `user`, made with `rejoinder token add` (in process)."""
    named = ("--name", label) if label else ()
    return cli("token", "add", user, *named, db_url=db_url).stdout.strip().splitlines()[-1]


def allow_origins(
    db_url: str, *origins: str, site: str = "default", policy: dict[str, Any] | None = None
) -> None:
    """Set a site's embedding origins (and its policy) straight in the store: the `site`
    commands are another part's, and this keeps the setup to one call."""
    from rejoinder.store import sites
    from rejoinder.store.database import Database

    db = Database(db_url, pool_size=1)
    try:
        with db.write() as conn:
            found = sites.get_site(conn, site)
            assert found is not None
            sites.set_site_origins(conn, found.id, origins)
            if policy is not None:
                sites.update_site_settings(conn, found.id, {"policy": policy})
    finally:
        db.dispose()


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


# What every served app in the tests runs with, as the variables `rejoinder serve` reads.
TEST_ENV = {
    "REJOINDER_ADMIN_TOKEN": "test-admin-token",
    # Discussion tests post many comments a second from one address: the moderation
    # pipeline (flood limits, form timing) is off unless a test turns it on.
    "REJOINDER_MODERATION": "false",
    # On the PostgreSQL run, workers share cache invalidation through Redis.
    **({"REJOINDER_REDIS_URL": REDIS_URL} if REDIS_URL else {}),
}


class Service:
    """A running Rejoinder that tests reach over HTTP at `url`, whether a real server or the
    app in this process: the same calls work on both."""

    url: str
    db_url: str

    def transport(self, address: str | None) -> httpx.BaseTransport | None:
        """How a client reaches the app; `address`: the client's own IP address."""
        raise NotImplementedError

    def client(self, *, address: str | None = None, **options: Any) -> httpx.Client:
        """A browser-like client with its own cookie jar (the caller closes it)."""
        options.setdefault("timeout", 10)
        return httpx.Client(base_url=self.url, transport=self.transport(address), **options)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """One request from a fresh cookie jar; `url` is a path or an address on the service."""
        with self.client() as http:
            return http.request(method, url, **options)

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def put(self, url: str, **options: Any) -> httpx.Response:
        return self.request("PUT", url, **options)

    def publish(self, **fields: Any) -> dict[str, Any]:
        """Publish an article through the admin API; returns its JSON."""
        payload: dict[str, Any] = {
            "title": f"Article {uuid.uuid4().hex[:10]}",
            "body": "A paragraph.\n\nAnother one.",
        }
        payload.update(fields)
        response = self.post("/api/v1/articles", json=payload, headers=ADMIN_HEADERS)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def log_in(self, name: str, password: str = PASSWORD, *, next: str = "/admin") -> httpx.Client:
        """A client with a desk session for `name`, logged in through the form (the caller
        closes it)."""
        http = self.client()
        log_in(http, name, password, next)
        return http


class Server(Service):
    """`rejoinder serve` in a child process on a free port; stopped by `stop()`."""

    def __init__(
        self,
        db_url: str,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {
            **os.environ,
            "REJOINDER_DATABASE_URL": db_url,
            "REJOINDER_BASE_URL": self.url,
            **TEST_ENV,
            # Tests give readers addresses of their own with X-Forwarded-For, as a proxy on
            # this host would: the server believes it only from a trusted proxy.
            "REJOINDER_TRUSTED_PROXIES": "127.0.0.1",
            **(env or {}),
        }
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def transport(self, address: str | None) -> httpx.BaseTransport | None:
        return httpx.HTTPTransport(local_address=address) if address else None

    def start(self, timeout: float = 30) -> Server:
        command = [
            sys.executable,
            "-m",
            "rejoinder",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        if self.log_path:
            with open(self.log_path, "ab") as out:  # the child keeps its own copy of the handle
                self.process = subprocess.Popen(
                    command, env=self.env, stdout=out, stderr=out, start_new_session=True
                )
        else:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
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


class _PortalTransport(httpx.BaseTransport):
    """A synchronous transport that hands each request to the app through the portal's event
    loop, as httpx's ASGITransport (which is async only) would."""

    def __init__(self, portal: BlockingPortal, asgi: httpx.ASGITransport) -> None:
        self._portal = portal
        self._asgi = asgi

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the body as bytes, which the async side can read again
        return self._portal.call(self._send, request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(body),
            extensions=response.extensions,
        )


class App(Service):
    """The real app (`create_app` with its lifespan running) in this process, on a blocking
    portal's event loop; clients reach it through httpx's ASGITransport. `env` takes the
    variables `Server` takes (REJOINDER_*), read as the app's settings."""

    url = "http://testserver"

    def __init__(self, db_url: str, *, env: dict[str, str] | None = None) -> None:
        self.db_url = db_url
        self.env = {
            "REJOINDER_DATABASE_URL": db_url,
            "REJOINDER_BASE_URL": self.url,
            **TEST_ENV,
            **(env or {}),
        }
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._app: Any = None

    def start(self) -> App:
        from rejoinder.settings import load_settings
        from rejoinder.web.app import create_app

        prefix = "REJOINDER_"
        settings = load_settings(
            **{name.removeprefix(prefix).lower(): value for name, value in self.env.items()}
        )
        try:
            self._portal = self._stack.enter_context(start_blocking_portal())
            self._app = create_app(settings)
            lifespan = self._app.router.lifespan_context(self._app)
            self._stack.enter_context(self._portal.wrap_async_context_manager(lifespan))
        except BaseException:
            self._stack.close()
            raise
        return self

    def transport(self, address: str | None) -> httpx.BaseTransport | None:
        assert self._portal is not None, "start() the app first"
        # A crash answers 500 as a real server does, rather than raising in the test.
        asgi = httpx.ASGITransport(
            self._app, raise_app_exceptions=False, client=(address or "127.0.0.1", 50000)
        )
        return _PortalTransport(self._portal, asgi)

    def stop(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def server(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the session, on its own fresh database, with one worker."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    running = Server(databases.new(lasting=True), log=log).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def app(databases: Databases) -> Iterator[App]:
    """The app in this process for the session, on its own fresh database."""
    running = App(databases.new(lasting=True)).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(app: App) -> Iterator[httpx.Client]:
    """A browser-like client of the session's app with its own cookie jar."""
    with app.client() as http:
        yield http


@pytest.fixture
def make_article(app: App) -> Callable[..., dict[str, Any]]:
    """Publish an article on the session's app through the admin API; returns its JSON."""

    def make(**fields: Any) -> dict[str, Any]:
        return app.publish(**{"title": f"Test article {uuid.uuid4().hex[:8]}", **fields})

    return make


@pytest.fixture
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"the seed page is not at {SEED}")
    return SEED.read_text(encoding="utf-8")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, skip what the SQLite pass already covers whole (`one_backend`):
    run twice, it would only test the same protocol or markup twice."""
    if not PG_URL:
        return
    once = pytest.mark.skip(reason="one_backend: the same on every database; run on SQLite")
    for item in items:
        if item.get_closest_marker("one_backend"):
            item.add_marker(once)
