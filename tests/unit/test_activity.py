"""A site's activity per day (`core/activity.py`): arrivals by verdict, the held queue at
each day's end, the median time to a decision, the share scored at a hold threshold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rejoinder.core.activity import (
    HOLD,
    PUBLISH,
    REFUSE,
    Arrival,
    Decision,
    activity_days,
    scored_high,
    window,
)

DAYS = window(date(2026, 3, 10), 7)  # March 4 to 10
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
HOLDS = {"toxicity": 0.8, "insult": 0.75}


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_the_window_ends_today_and_has_as_many_days_as_asked() -> None:
    assert DAYS[0] == date(2026, 3, 4) and DAYS[-1] == date(2026, 3, 10) and len(DAYS) == 7


def test_arrivals_count_on_their_day_by_verdict_and_outside_days_are_left_out() -> None:
    arrivals = [
        Arrival(at(5), PUBLISH, {}),
        Arrival(at(5, 23), PUBLISH, {}),
        Arrival(at(5), HOLD, {}, comment_id=1),
        Arrival(at(6, 0), REFUSE, {}),
        Arrival(at(3), PUBLISH, {}),  # before the first day
    ]
    days = activity_days(DAYS, arrivals, [], held_before=0, holds=HOLDS, now=NOW)
    by_day = {d.day.day: (d.published, d.held, d.refused) for d in days}
    assert by_day[5] == (2, 1, 0)
    assert by_day[6] == (0, 0, 1)
    assert sum(d.published for d in days) == 2


def test_the_queue_counts_what_waits_at_each_days_end() -> None:
    arrivals = [
        Arrival(at(5), HOLD, {}, comment_id=1),  # decided on the 7th
        Arrival(at(6), HOLD, {}, comment_id=2),  # waits still
        Arrival(at(6), HOLD, {}, comment_id=3, left_hold_at=at(8)),  # withdrawn on the 8th
    ]
    decisions = [
        Decision(1, posted_at=at(5), decided_at=at(7)),
        Decision(9, posted_at=at(1), decided_at=at(9, 8)),  # posted before the first day
    ]
    days = activity_days(DAYS, arrivals, decisions, held_before=2, holds=HOLDS, now=NOW)
    queue = {d.day.day: d.queue for d in days}
    # 2 held from before and comment 9 waiting from before the first day.
    assert queue == {4: 3, 5: 4, 6: 6, 7: 5, 8: 4, 9: 3, 10: 3}


def test_a_comment_leaves_the_queue_at_its_first_decision() -> None:
    arrivals = [Arrival(at(5), HOLD, {}, comment_id=1, left_hold_at=at(9))]
    decisions = [
        Decision(1, posted_at=at(5), decided_at=at(6)),
        Decision(1, posted_at=at(5), decided_at=at(8)),
    ]
    days = activity_days(DAYS, arrivals, decisions, held_before=0, holds=HOLDS, now=NOW)
    assert [d.queue for d in days] == [0, 1, 0, 0, 0, 0, 0]


def test_the_median_wait_is_per_day_of_decision_in_hours() -> None:
    decisions = [
        Decision(1, posted_at=at(5, 0), decided_at=at(6, 1)),  # 25 h
        Decision(2, posted_at=at(6, 0), decided_at=at(6, 2)),  # 2 h
        Decision(3, posted_at=at(6, 0), decided_at=at(6, 5)),  # 5 h
        Decision(4, posted_at=at(6, 0), decided_at=at(8, 0)),  # 48 h
    ]
    days = activity_days(DAYS, [], decisions, held_before=0, holds=HOLDS, now=NOW)
    waits = {d.day.day: (d.decisions, d.median_wait_hours) for d in days}
    assert waits[6] == (3, 5.0)
    assert waits[8] == (1, 48.0)
    assert waits[7] == (0, None)


def test_the_share_counts_scores_at_or_above_a_hold_threshold_among_the_scored() -> None:
    arrivals = [
        Arrival(at(5), PUBLISH, {"toxicity": 0.8, "insult": 0.1}),  # at the threshold
        Arrival(at(5), PUBLISH, {"toxicity": 0.79, "insult": 0.74}),
        Arrival(at(5), REFUSE, {"insult": 0.9}),
        Arrival(at(5), PUBLISH, {"threat": 0.99}),  # a category without a threshold
        Arrival(at(5), PUBLISH, {}),  # not scored: not counted
    ]
    days = activity_days(DAYS, arrivals, [], held_before=0, holds=HOLDS, now=NOW)
    day = next(d for d in days if d.day.day == 5)
    assert (day.scored, day.high, day.high_share) == (4, 2, 50.0)
    assert next(d for d in days if d.day.day == 6).high_share is None


def test_today_counts_up_to_now() -> None:
    arrivals = [Arrival(NOW - timedelta(hours=1), HOLD, {}, comment_id=1)]
    days = activity_days(DAYS, arrivals, [], held_before=0, holds=HOLDS, now=NOW)
    assert days[-1].queue == 1 and days[-1].held == 1


def test_no_days_no_figures() -> None:
    assert activity_days([], [], [], held_before=3, holds=HOLDS, now=NOW) == []
    assert not scored_high({}, HOLDS)
