"""Flood and rate limits with an injected clock: the current time is the submission's `now`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from rejoinder.core.moderation.models import Action, Policy, RecentActivity, Signal
from rejoinder.core.moderation.phases import rates
from tests.unit.moderation.submissions import NOW, ago, submission


def check(
    policy: Policy | None = None, parent_id: int | None = None, **recent: Any
) -> list[Signal]:
    sub = submission(recent=RecentActivity(**recent), parent_id=parent_id)
    return rates.check(sub, policy or Policy())


def only(signals: list[Signal]) -> tuple[str, Action, int | None]:
    [signal] = signals
    return signal.code, signal.action, signal.retry_after


@pytest.mark.parametrize("key", ["by_ip", "by_email"])
@pytest.mark.parametrize(
    ("seconds_ago", "expected"),
    [
        (0, ("flood", Action.REFUSE, 15)),
        (1, ("flood", Action.REFUSE, 14)),
        (14, ("flood", Action.REFUSE, 1)),
        (14.5, ("flood", Action.REFUSE, 1)),
        (15, None),
        (16, None),
        (600, None),
    ],
)
def test_wordpress_flood_window(
    key: str, seconds_ago: float, expected: tuple[str, Action, int] | None
) -> None:
    recent: dict[str, Any] = {key: (ago(seconds_ago),)}
    found = check(**recent)
    assert (only(found) if found else None) == expected


def test_flood_message_says_when_to_try_again() -> None:
    [signal] = check(by_ip=(ago(14),))
    assert signal.message == "you are posting too quickly; please try again in 1 second"
    [signal] = check(by_email=(ago(5),))
    assert signal.message.endswith("try again in 10 seconds")


def test_clock_skew_between_workers_counts_as_just_now() -> None:
    future = ago(-3)
    assert only(check(by_ip=(future,))) == ("flood", Action.REFUSE, 15)


def test_per_minute_limit_per_ip() -> None:
    four = tuple(ago(s) for s in (20, 30, 40, 50))
    assert check(by_ip=four) == []
    five = (ago(20), *four)
    # the newest 4 may stay; the one 50 s old must leave the minute: 10 s from now
    assert only(check(by_ip=five)) == ("per_minute", Action.REFUSE, 10)


def test_per_minute_counts_ip_and_email_separately_and_takes_the_longer_wait() -> None:
    by_ip = tuple(ago(s) for s in (20, 21, 22, 23, 24))
    by_email = tuple(ago(s) for s in (16, 17, 18, 19, 58))
    assert only(check(by_ip=by_ip, by_email=by_email)) == ("per_minute", Action.REFUSE, 36)


def test_comments_older_than_the_window_do_not_count() -> None:
    old = tuple(ago(s) for s in (61, 70, 80, 90, 100, 110))
    assert check(by_ip=old) == []


def test_per_hour_limit() -> None:
    times = tuple(ago(100 + 100 * i) for i in range(30))  # 100 s .. 3000 s ago
    [signal] = check(by_email=times)
    assert signal.code == "per_hour"
    assert signal.retry_after == 3600 - 3000
    assert "30 comments in less than an hour" in signal.message
    assert check(by_email=times[:29]) == []


def test_top_level_comments_per_thread_hold_but_replies_do_not() -> None:
    assert only(check(top_level_in_thread=5)) == ("top_level_per_thread", Action.HOLD, None)
    assert check(top_level_in_thread=4) == []
    assert check(top_level_in_thread=9, parent_id=7) == []


def test_site_wide_surge_holds_new_comments() -> None:
    assert only(check(site_last_minute=120)) == ("surge", Action.HOLD, None)
    assert check(site_last_minute=119) == []
    assert only(check(Policy(surge_per_minute=10), site_last_minute=10))[0] == "surge"


def test_limits_set_to_none_or_zero_are_off() -> None:
    off = Policy(
        flood_seconds=None,
        per_minute=0,
        per_hour=None,
        top_level_per_thread=None,
        surge_per_minute=0,
    )
    crowded = tuple(ago(1) for _ in range(100))
    assert check(off, by_ip=crowded, top_level_in_thread=50, site_last_minute=10_000) == []


def test_naive_times_from_the_store_are_read_as_utc() -> None:
    naive = (NOW.replace(tzinfo=None) - (NOW - ago(14)),)
    assert isinstance(naive[0], datetime) and naive[0].tzinfo is None
    assert only(check(by_ip=naive)) == ("flood", Action.REFUSE, 1)


def test_a_network_group_has_group_factor_times_the_per_minute_budget() -> None:
    budget = 5 * rates.GROUP_FACTOR
    # Many addresses of one /24, each well within its own limits.
    under = tuple(ago(5 + s) for s in range(budget - 1))
    assert check(by_group=under) == []
    full = (ago(2), *under)  # the oldest, 5 + budget - 2 seconds ago, must leave the minute
    code, action, wait = only(check(by_group=full))
    assert (code, action) == ("group_per_minute", Action.REFUSE)
    assert wait == 60 - (5 + budget - 2)
    [signal] = check(by_group=full)
    assert signal.message.startswith(f"{budget} comments came from your network in less than")


def test_a_network_group_has_group_factor_times_the_per_hour_budget() -> None:
    budget = 30 * rates.GROUP_FACTOR
    spread = tuple(ago(100 + 25 * i) for i in range(budget))  # 100 s .. 3075 s ago
    [signal] = check(by_group=spread)
    assert signal.code == "group_per_hour"
    assert signal.retry_after == 3600 - (100 + 25 * (budget - 1))
    assert check(by_group=spread[:-1]) == []


def test_a_group_has_no_flood_interval() -> None:
    # Colleagues behind one office address post seconds apart: only the budget counts.
    assert check(by_group=(ago(0), ago(1), ago(2))) == []


def test_the_group_budget_follows_the_policy_and_is_off_with_it() -> None:
    crowded = tuple(ago(1) for _ in range(8))
    assert only(check(Policy(per_minute=2), by_group=crowded))[0] == "group_per_minute"
    assert check(Policy(per_minute=3, per_hour=None), by_group=crowded[:-1]) == []
    assert check(Policy(per_minute=None, per_hour=None), by_group=crowded * 100) == []


def test_the_longer_wait_of_address_and_group_is_the_one_reason() -> None:
    mine = tuple(ago(s) for s in (20, 21, 22, 23, 24))  # my own limit: free in 36 s
    others = tuple(ago(s) for s in range(40, 55))  # with mine, the group is free in 6 s
    signals = check(by_ip=mine, by_group=mine + others)
    assert [(s.code, s.retry_after) for s in signals] == [("per_minute", 36)]
    busy = tuple(ago(s) for s in range(1, 21))  # 20 in the last 20 s: free in 40 s
    [signal] = check(by_ip=(ago(50),) * 5, by_group=busy)  # my own: free in 10 s
    assert (signal.code, signal.retry_after) == ("group_per_minute", 40)
