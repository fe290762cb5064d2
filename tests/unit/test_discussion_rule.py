"""The one rule for whether a discussion takes comments: its flag, then its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rejoinder.core.discussion import ClosedBy, openness

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _state(
    *,
    comments_open: bool = True,
    published_at: datetime | None = NOW - timedelta(days=2),
    close_after_days: int | None = None,
    now: datetime = NOW,
    reopened_at: datetime | None = None,
) -> tuple[ClosedBy | None, datetime | None]:
    found = openness(
        comments_open=comments_open,
        published_at=published_at,
        close_after_days=close_after_days,
        now=now,
        reopened_at=reopened_at,
    )
    return found.closed_by, found.closed_at


def test_open_without_an_age_rule_whatever_the_age() -> None:
    assert _state(published_at=NOW - timedelta(days=4000)) == (None, None)


def test_the_flag_closes_whatever_the_age() -> None:
    assert _state(comments_open=False) == (ClosedBy.FLAG, None)
    assert _state(comments_open=False, close_after_days=30) == (ClosedBy.FLAG, None)


def test_the_age_rule_closes_at_the_moment_the_days_are_up() -> None:
    published = NOW - timedelta(days=7)
    assert _state(published_at=published + timedelta(seconds=1), close_after_days=7)[0] is None
    assert _state(published_at=published, close_after_days=7) == (ClosedBy.AGE, NOW)


def test_reopening_restarts_the_count_and_an_older_reopening_does_not() -> None:
    old = NOW - timedelta(days=30)
    reopened = NOW - timedelta(days=1)
    assert _state(published_at=old, close_after_days=7, reopened_at=reopened)[0] is None
    later = _state(
        published_at=old, close_after_days=7, reopened_at=reopened, now=NOW + timedelta(days=6)
    )
    assert later == (ClosedBy.AGE, reopened + timedelta(days=7))
    before = _state(published_at=NOW, close_after_days=1, reopened_at=old)
    assert before == (None, None)  # a reopening before publication counts for nothing


def test_naive_times_from_sqlite_are_utc() -> None:
    naive = (NOW - timedelta(days=3)).replace(tzinfo=None)
    assert _state(published_at=naive, close_after_days=2)[0] is ClosedBy.AGE


def test_messages_name_the_rule() -> None:
    by_age = openness(
        comments_open=True,
        published_at=datetime(2026, 3, 1, tzinfo=UTC),
        close_after_days=5,
        now=NOW,
    )
    assert str(by_age.notice(5)) == (
        "Comments on this article closed on 06 March 2026: this site closes them 5 days "
        "after publication."
    )
    assert "closed on 06 March 2026" in str(by_age.message(5))
    flag = openness(comments_open=False, published_at=None, close_after_days=None, now=NOW)
    assert str(flag.notice()) == "Comments are closed on this article."
