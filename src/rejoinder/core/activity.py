"""A site's activity day by day (UTC days), from the comments that arrived, the desk's
decisions on held comments and the site's hold thresholds: what the desk's Activity page
charts. Pure: the rows come in, the days go out."""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAYS_DEFAULT = 30
DAYS_MIN = 7
DAYS_MAX = 365

PUBLISH = "publish"
HOLD = "hold"
REFUSE = "refuse"


@dataclass(frozen=True)
class Arrival:
    """A comment (or a refused submission) as it arrived: the pipeline's verdict, the model's
    scores (empty when the model did not score it) and, for a held one, when it left the
    held queue (None: it is still there)."""

    at: datetime
    verdict: str
    scores: Mapping[str, float]
    comment_id: int | None = None
    left_hold_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """A moderator's decision on a held comment: when the comment was posted and decided."""

    comment_id: int
    posted_at: datetime
    decided_at: datetime


@dataclass(frozen=True)
class Day:
    day: date
    published: int = 0
    held: int = 0
    refused: int = 0
    queue: int = 0  # held comments waiting at the end of the day (today: now)
    decisions: int = 0
    median_wait_hours: float | None = None  # from post to decision, of the day's decisions
    scored: int = 0  # arrivals the model scored
    high: int = 0  # of those, at or above a hold threshold in some category

    @property
    def high_share(self) -> float | None:
        """The share scored high, in percent; None when the model scored nothing that day."""
        return 100.0 * self.high / self.scored if self.scored else None


def window(today: date, days: int) -> list[date]:
    """The last `days` days, ending with `today`."""
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def scored_high(scores: Mapping[str, float], holds: Mapping[str, float]) -> bool:
    """Whether a score reaches its category's hold threshold in any category."""
    return any(
        category in scores and scores[category] >= threshold
        for category, threshold in holds.items()
    )


def activity_days(
    days: Sequence[date],
    arrivals: Sequence[Arrival],
    decisions: Sequence[Decision],
    *,
    held_before: int,
    holds: Mapping[str, float],
    now: datetime,
) -> list[Day]:
    """One `Day` per day of `days` (consecutive, oldest first). `decisions` are those made
    during the days (on comments posted then or before); `held_before` counts comments posted
    before the first day and held still. An arrival's first decision is when it left the
    queue; one without a decision left it when its row says (`left_hold_at`)."""
    if not days:
        return []
    first = day_start(days[0])
    index = {day: i for i, day in enumerate(days)}
    counts = [dict.fromkeys((PUBLISH, HOLD, REFUSE, "scored", "high"), 0) for _ in days]
    first_decision: dict[int, datetime] = {}
    for decision in decisions:
        known = first_decision.get(decision.comment_id)
        if known is None or decision.decided_at < known:
            first_decision[decision.comment_id] = decision.decided_at

    entered: list[datetime] = []
    left: list[datetime] = []
    for arrival in arrivals:
        i = index.get(arrival.at.astimezone(UTC).date())
        if i is None:
            continue
        if arrival.verdict in (PUBLISH, HOLD, REFUSE):
            counts[i][arrival.verdict] += 1
        if arrival.scores:
            counts[i]["scored"] += 1
            counts[i]["high"] += scored_high(arrival.scores, holds)
        if arrival.verdict == HOLD:
            entered.append(arrival.at)
            decided = first_decision.get(arrival.comment_id or 0)
            leaving = decided if decided is not None else arrival.left_hold_at
            if leaving is not None:
                left.append(max(leaving, arrival.at))
    # Comments posted before the first day and decided during the days were waiting at its
    # start; those still held were waiting all along (`held_before`).
    seen = {a.comment_id for a in arrivals if a.comment_id is not None}
    for comment_id, decided_at in first_decision.items():
        if comment_id not in seen:
            entered.append(first)
            left.append(decided_at)
    entered.sort()
    left.sort()

    waits: list[list[float]] = [[] for _ in days]
    for decision in decisions:
        i = index.get(decision.decided_at.astimezone(UTC).date())
        if i is not None:
            hours = (decision.decided_at - decision.posted_at).total_seconds() / 3600
            waits[i].append(max(hours, 0.0))

    result = []
    for i, day in enumerate(days):
        moment = min(day_start(day) + timedelta(days=1), now)
        # Waiting just before `moment`: entered before it and not left before it.
        queue = held_before + bisect_left(entered, moment) - bisect_left(left, moment)
        c = counts[i]
        result.append(
            Day(
                day=day,
                published=c[PUBLISH],
                held=c[HOLD],
                refused=c[REFUSE],
                queue=max(queue, 0),
                decisions=len(waits[i]),
                median_wait_hours=statistics.median(waits[i]) if waits[i] else None,
                scored=c["scored"],
                high=c["high"],
            )
        )
    return result
