"""`rejoinder serve` and `rejoinder demo`: migrate, then serve with uvicorn."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rejoinder.cli.options import DatabaseOption, fail, settings_for

if TYPE_CHECKING:
    from rejoinder.runtime import Runtime
    from rejoinder.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per core, at most 4).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the site and the API: migrate the database, then serve with uvicorn."""
    settings = settings_for(database_url, host=host, port=port, workers=workers)
    _run_server(settings)


# By path, so that each worker imports it: read deadlines and the connection cap
# (rejoinder/web/connections.py), which replace uvicorn's limit_concurrency. It is the only
# protocol serve runs: uvicorn.run takes no protocol from the environment, and without
# httptools serve stops rather than fall back to h11, which has none of these bounds.
HTTP_PROTOCOL = "rejoinder.web.connections:GuardedHttpToolsProtocol"


def _require_httptools() -> None:
    try:
        import httptools  # noqa: F401
    except ImportError as error:
        fail(
            "rejoinder serve needs the httptools package (its HTTP parser is the one that "
            f"bounds slow clients), and it cannot be imported: {error}. Reinstall rejoinder "
            "with its dependencies."
        )


# prometheus-client's multiprocess mode reads this before it makes any metric (see
# rejoinder/metrics.py); named here so that the CLI need not import prometheus-client.
METRICS_FOLDER_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _run_server(settings: Settings) -> None:
    # Each start gets a fresh private folder for the workers' metric files, named before
    # anything imports prometheus-client (the workers inherit it), and removed at exit:
    # files left by an earlier start would count its requests again.
    folder = tempfile.mkdtemp(prefix="rejoinder-metrics-")
    os.environ[METRICS_FOLDER_ENV] = folder
    try:
        _serve(settings)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(settings: Settings) -> None:
    # A start makes a few hundred thousand objects (modules, routes, models, patterns) that
    # live as long as the process, and the collector walked them again and again while they
    # were made: a tenth of the start. It is paused until the worker has warmed up (the app's
    # lifespan resumes it) or, with several workers, until the app is imported here, just
    # before they are forked.
    gc.disable()
    _require_httptools()  # first: the runtime's webhook client needs it too
    import uvicorn

    from rejoinder.runtime import migrate

    migrate(settings)  # once, here, before the workers start
    # Workers build their own settings from the environment: hand ours over through it.
    os.environ["REJOINDER_DATABASE_URL"] = settings.database_url
    os.environ["REJOINDER_MIGRATE_ON_START"] = "false"
    if settings.secret_key:
        os.environ["REJOINDER_SECRET_KEY"] = settings.secret_key
    os.environ["REJOINDER_SQLITE_SYNCHRONOUS"] = settings.sqlite_synchronous
    os.environ["REJOINDER_HEADER_TIMEOUT"] = str(settings.header_timeout)
    os.environ["REJOINDER_BODY_TIMEOUT"] = str(settings.body_timeout)
    os.environ["REJOINDER_KEEPALIVE_TIMEOUT"] = str(settings.keepalive_timeout)
    os.environ["REJOINDER_MAX_CONNECTIONS"] = str(_connection_cap(settings.max_connections))
    # The workers only queue the outbox's messages: the host's one sender process delivers.
    os.environ["REJOINDER_OUTBOX_SENDER"] = "process"
    workers = f"{settings.workers} worker" + ("s" if settings.workers != 1 else "")
    typer.echo(f"Rejoinder on http://{settings.host}:{settings.port}/ ({workers})")
    if settings.workers > 1 and not settings.redis_url:
        typer.echo(
            "Without REJOINDER_REDIS_URL, live updates reach only the pages on the worker that "
            "took the post: set it, or REJOINDER_WORKERS=1 (docs/DEPLOYMENT.md).",
            err=True,
        )
    if settings.workers > 1:
        _fork_workers(settings)
    # With one worker (this process) the sender starts once the worker takes connections;
    # with several, now, before uvicorn forks them: a thread at work (connecting, starting a
    # process) while a worker is forked can leave the worker holding a lock nobody releases.
    sender = SenderProcess(settings.host, settings.port, knock=settings.workers == 1)
    sender.start()
    # uvicorn, serving in this process, ends by raising the signal that stopped it again with
    # the handlers it found: let those only remember it, stop the sender, then raise it.
    stopped_by: list[int] = []
    handlers = {
        signum: signal.signal(signum, lambda signum, _frame: stopped_by.append(signum))
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        uvicorn.run(
            APP,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            http=HTTP_PROTOCOL,
            timeout_keep_alive=settings.keepalive_timeout,
            # Live streams never finish on their own: at a restart they are cut after this many
            # seconds and their pages reconnect (to another worker or host) with their last id.
            timeout_graceful_shutdown=5,
            ws="none",  # no route takes a WebSocket
            log_level="warning",
            access_log=False,
            server_header=False,
            # The app reads forwarding headers itself, from REJOINDER_TRUSTED_PROXIES only.
            proxy_headers=False,
        )
    finally:
        sender.stop()
        for which, handler in handlers.items():
            signal.signal(which, handler)
        for number in stopped_by:
            signal.raise_signal(number)


APP = "rejoinder.web.app:create_app"
# By name, as the app is: the CLI does not import the web layer.
SENDER_MODULE = "rejoinder.web.sender"
RESTART_PAUSE_SECONDS = 1.0
# The sender starts once the server answers (or after this long, whatever the reason it
# does not): its start, imports and all, would otherwise take CPU from the worker's own.
START_PATIENCE_SECONDS = 30.0
STOP_PATIENCE_SECONDS = 10.0


class SenderProcess:
    """The host's one outbox sender (`rejoinder.web.sender`), a fresh interpreter beside the
    workers with their environment (settings, the metrics folder), watched by a thread:
    started once the server takes connections, and again, a second later, when it dies. Not
    when it ends by itself with status 0: it was told to stop by a SIGTERM or SIGINT that
    reached the whole process group (Ctrl+C, or the server being stopped), and `stop`
    follows."""

    def __init__(self, host: str, port: int, *, knock: bool) -> None:
        self._knock = knock
        # Where to knock to learn that the server listens (an address it listens on).
        self._address = (
            "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host,
            port,
        )
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._watcher = threading.Thread(target=self._watch, name="sender-watch", daemon=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", SENDER_MODULE], stdin=subprocess.DEVNULL)

    def start(self) -> None:
        if not self._knock:
            self._process = self._spawn()
        self._watcher.start()

    def _listening(self) -> bool:
        try:
            with socket.create_connection(self._address, timeout=1):
                return True
        except OSError:
            return False

    def _watch(self) -> None:
        if self._knock:
            deadline = time.monotonic() + START_PATIENCE_SECONDS
            while not self._listening() and time.monotonic() < deadline:
                if self._stopping.wait(0.05):
                    return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._process = self._spawn()
        while True:
            with self._lock:
                process = self._process
            if process is None:
                return
            status = process.wait()
            if status == 0 or self._stopping.wait(RESTART_PAUSE_SECONDS):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                typer.echo(
                    f"The outbox sender (process {process.pid}) ended with status {status}: "
                    "starting another",
                    err=True,
                )
                self._process = self._spawn()

    def stop(self) -> None:
        """End the sender (SIGTERM: it finishes its round) and wait for it; no restart."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=STOP_PATIENCE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _fork_workers(settings: Settings) -> None:
    """Have uvicorn fork its workers from this process, with the app's modules imported and
    what judging needs loaded once here (`runtime.preload_moderation`), instead of spawning
    fresh interpreters that each import and load them again. The workers share those pages
    with this process (copy-on-write) as long as nothing writes to them: the model's weights
    are only read, and the objects made so far are frozen out of the garbage collector, whose
    passes would otherwise write to every one of them in every worker. Nothing here holds a
    thread or a connection yet; each worker makes its own app and database pool. Where fork
    is missing, or uvicorn keeps its workers' start method elsewhere, they are spawned as
    before (and each loads its own model on its first comment)."""
    import importlib
    import multiprocessing

    from uvicorn import _subprocess

    if "fork" not in multiprocessing.get_all_start_methods() or not hasattr(_subprocess, "spawn"):
        gc.enable()  # the workers are fresh interpreters: this process only watches them
        return
    # The model loads while the app's modules are imported (much of its loading runs in
    # onnxruntime and the tokenizer, outside the GIL), so the workers start little later than
    # without it; the thread has ended before anything forks.
    loading = threading.Thread(target=_preload, args=(settings,), name="preload")
    loading.start()
    importlib.import_module(APP.partition(":")[0])
    loading.join()
    # What the import and the model made is kept out of every later collection, in this
    # process and in the workers, whose copies of those pages then stay shared with this one.
    gc.freeze()
    gc.enable()
    _subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]


def _preload(settings: Settings) -> None:
    from rejoinder.runtime import preload_moderation

    try:
        preload_moderation(settings)
    except Exception as error:  # each worker loads what it lacks on its own, as before
        typer.echo(
            f"The moderation model could not be loaded before the workers: {error}", err=True
        )


# Descriptors a worker needs beside its clients: the listening socket, the database and its
# lock file, Redis, the model's files, logs.
_SPARE_DESCRIPTORS = 64


def _connection_cap(wanted: int) -> int:
    """Raise this process's soft descriptor limit to its hard limit (workers inherit it), and
    bring the connection cap under it, so that running out of descriptors, which refuses new
    connections at random, is never what limits a worker."""
    try:
        import resource
    except ImportError:  # not on Windows
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        # Linux refuses an unlimited soft limit for descriptors: ask for the most it allows.
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            target = soft
        soft = target
    if soft != resource.RLIM_INFINITY and wanted > soft - _SPARE_DESCRIPTORS:
        cap = max(1, soft - _SPARE_DESCRIPTORS)
        typer.echo(
            f"Open files are limited to {soft} per process: at most {cap} connections per "
            f"worker instead of {wanted} (raise LimitNOFILE)",
            err=True,
        )
        return cap
    return wanted


def demo(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: Annotated[Path, typer.Option(help="SQLite file for the demo.")] = Path(
        "rejoinder-demo.db"
    ),
) -> None:
    """Serve a demo site on http://127.0.0.1:PORT with sample articles and discussions."""
    from rejoinder.runtime import open_runtime, utcnow
    from rejoinder.usecases.demo import load_demo

    url = f"sqlite:///{database}"
    settings = settings_for(
        url,
        port=port,
        host="127.0.0.1",
        base_url=f"http://127.0.0.1:{port}",
        site_title="The Callowmere Ledger",
        # One worker unless asked for more: without Redis, live updates reach only the pages
        # on the worker that took the post, and the demo shows them off.
        workers=None if os.environ.get("REJOINDER_WORKERS") else 1,
    )
    runtime = open_runtime(settings)
    try:
        added = load_demo(
            runtime.db,
            runtime.events,
            site_id=runtime.default_site.id,
            limits=runtime.limits,
            moderator=runtime.moderator,
            now=utcnow(),
        )
        password = _demo_desk_user(runtime)
    finally:
        runtime.close()
    if added:
        typer.echo(f"Demo content written to {database}: {', '.join(added)}")
    typer.echo(f"Open http://127.0.0.1:{port}/ (Ctrl+C stops it)")
    typer.echo(
        f"The moderators' desk: http://127.0.0.1:{port}/admin/login as {DEMO_USER}, "
        f"password {password} (a new one at every start)"
    )
    _run_server(settings)


DEMO_USER = "demo"


def _demo_desk_user(runtime: Runtime) -> str:
    """An admin account for trying the desk, with a fresh random password each start (the
    demo listens on 127.0.0.1 only)."""
    import secrets
    import string

    from rejoinder.core.models import Role
    from rejoinder.runtime import utcnow
    from rejoinder.usecases import accounts

    password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    if any(user.name == DEMO_USER for user in accounts.list_users(runtime.db)):
        accounts.set_password(runtime.db, DEMO_USER, password, utcnow())
    else:
        accounts.add_user(runtime.db, DEMO_USER, Role.ADMIN, password, utcnow())
    return password
