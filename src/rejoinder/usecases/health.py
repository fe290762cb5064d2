"""Whether this server can do its work: a list of named checks, each run on its own.

`readiness_checks` is the list `/readyz` runs; a feature that the server needs in order to
serve (a backend, a queue that must keep moving) adds its `Check` there. A check's probe
returns when all is well and raises otherwise; what is said about a failure is only the
error's kind, never its message, which could name a host, a user or a password.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from rejoinder.settings import Settings
from rejoinder.store import health as health_store
from rejoinder.store import outbox as outbox_store
from rejoinder.store.database import Database

PROBE_TIMEOUT = 2.0  # seconds a backend has to answer before its check fails


@dataclass(frozen=True)
class Check:
    name: str
    probe: Callable[[], None]


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    seconds: float
    problem: str | None = None

    def as_json(self) -> dict[str, object]:
        shown: dict[str, object] = {"ok": self.ok, "ms": round(self.seconds * 1000, 1)}
        if self.problem is not None:
            shown["problem"] = self.problem
        return shown


#: A message due for longer than this means the senders are not keeping up (or not running).
OUTBOX_BEHIND = timedelta(minutes=15)


class OutboxBehind(Exception):
    """A message has been due for longer than `OUTBOX_BEHIND`."""


def outbox_moving(db: Database, now: Callable[[], datetime]) -> None:
    """Raise when the outbox's longest-waiting due message has waited too long."""
    at = now()
    with db.read() as conn:
        due_since = outbox_store.oldest_due_at(conn, at)
    if due_since is not None and at - due_since > OUTBOX_BEHIND:
        raise OutboxBehind


def readiness_checks(db: Database, settings: Settings, now: Callable[[], datetime]) -> list[Check]:
    """The database and the outbox (a message, mail or webhook delivery, due for more than
    `OUTBOX_BEHIND`: every worker sends), always; Redis when one is configured."""
    checks = [Check("database", partial(health_store.ping_database, db))]
    if settings.redis_url:
        checks.append(
            Check("redis", partial(health_store.ping_redis, settings.redis_url, PROBE_TIMEOUT))
        )
    checks.append(Check("outbox", partial(outbox_moving, db, now)))
    return checks


def run_check(check: Check) -> Outcome:
    """The check's outcome; never raises."""
    started = time.perf_counter()
    try:
        check.probe()
    except Exception as error:
        return Outcome(check.name, False, time.perf_counter() - started, type(error).__name__)
    return Outcome(check.name, True, time.perf_counter() - started)
