"""The login_attempts table holds about one login window: each login deletes a bounded batch
of the attempts that no longer count, so the table does not grow with the site's age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from rejoinder.core.errors import Invalid
from rejoinder.core.models import Role
from rejoinder.runtime import Runtime, open_runtime
from rejoinder.settings import Settings
from rejoinder.store.schema import login_attempts
from rejoinder.usecases import accounts
from tests.conftest import Databases

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


@pytest.fixture
def runtime(databases: Databases) -> Iterator[Runtime]:
    opened = open_runtime(Settings(database_url=databases.new()))
    try:
        accounts.add_user(opened.db, "ed", Role.MODERATOR, PASSWORD, START)
        yield opened
    finally:
        opened.close()


def _rows(rt: Runtime) -> list[datetime]:
    with rt.db.read() as conn:
        return [
            row.created_at
            for row in conn.execute(select(login_attempts.c.created_at).order_by("id"))
        ]


def _fail(rt: Runtime, at: datetime, address: str = "a") -> None:
    with pytest.raises(Invalid):
        accounts.log_in(rt.db, "ed", "a wrong guess!", address, "g" + address, at)


def test_attempts_older_than_the_window_are_deleted_by_a_later_login(runtime: Runtime) -> None:
    _fail(runtime, START)
    _fail(runtime, START + timedelta(minutes=1))
    assert len(_rows(runtime)) == 10  # five keys per attempt
    # Within the window, nothing goes: the failures still count.
    _fail(runtime, START + timedelta(minutes=10))
    assert len(_rows(runtime)) == 15
    # A login once the first two have left the window takes them away, keeps the third.
    later = START + accounts.LOGIN_WINDOW + timedelta(minutes=2)
    accounts.log_in(runtime.db, "ed", PASSWORD, "b", "gb", later)
    left = _rows(runtime)
    assert len(left) == 5
    assert all(at > later - accounts.LOGIN_WINDOW for at in left)


def test_each_login_deletes_a_bounded_batch(runtime: Runtime) -> None:
    old = START - timedelta(days=30)
    backlog = accounts.LOGIN_PURGE_BATCH * 3
    with runtime.db.write() as conn:  # a table that grew before purging existed
        conn.execute(
            insert(login_attempts), [{"key": f"k{i}", "created_at": old} for i in range(backlog)]
        )
    _fail(runtime, START)
    assert len(_rows(runtime)) == backlog - accounts.LOGIN_PURGE_BATCH + 5
    for minute in range(1, 4):
        _fail(runtime, START + timedelta(minutes=minute), address=f"x{minute}")
    with runtime.db.read() as conn:
        stale = conn.execute(
            select(func.count()).where(login_attempts.c.created_at < START)
        ).scalar_one()
    assert stale == 0  # four logins cleared the backlog of three batches
    assert len(_rows(runtime)) == 4 * 5
