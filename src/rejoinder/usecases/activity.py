"""A site's activity over its last days, for the desk's Activity page: comments published,
held and refused per day, the held queue and the time to a decision, the share the model
scored high. One read transaction, a fixed number of queries whatever the number of days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rejoinder.core.activity import (
    DAYS_MAX,
    DAYS_MIN,
    Day,
    activity_days,
    day_start,
    window,
)
from rejoinder.core.errors import Invalid
from rejoinder.store import activity as activity_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.usecases.policy import ModelPresets, rules_from_settings


@dataclass(frozen=True)
class Activity:
    days: list[Day]
    holds: dict[str, float]  # the hold threshold per category the share was counted against


def check_days(days: int) -> int:
    if not DAYS_MIN <= days <= DAYS_MAX:
        raise Invalid("days", f"days is a whole number from {DAYS_MIN} to {DAYS_MAX}.")
    return days


def read_activity(
    db: Database,
    *,
    site_id: int,
    days: int,
    now: datetime,
    presets: ModelPresets | None = None,
) -> Activity:
    """The site's last `days` UTC days, today's included (up to `now`), each with its
    figures; scores are counted against the site's hold thresholds in effect now."""
    check_days(days)
    wanted = window(now.astimezone(UTC).date(), days)
    since = day_start(wanted[0])
    until = day_start(wanted[-1]) + timedelta(days=1)
    with db.read() as conn:
        rules = rules_from_settings(site_store.get_site_settings(conn, site_id), presets)
        arrivals = activity_store.arrivals(conn, site_id, since, until)
        decisions = activity_store.decisions(conn, site_id, since, until)
        waiting = activity_store.held_before(conn, site_id, since)
    holds = {name: t.hold for name, t in rules.policy.thresholds.items()}
    return Activity(
        days=activity_days(wanted, arrivals, decisions, held_before=waiting, holds=holds, now=now),
        holds=holds,
    )
