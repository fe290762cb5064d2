"""Phase "rates": flood and rate limits per hashed IP, per email and per network group,
and a site-wide brake.

WordPress refuses a second comment from the same address within 15 seconds; we do the
same per IP and per email, and add per-minute and per-hour limits. The address's wider
group (IPv4 /24, IPv6 /48: `core.addresses.networks_of`) has a budget of its own,
GROUP_FACTOR times the per-minute and per-hour limits, so that rotating across the
addresses of one network does not multiply the allowance; it has no flood interval, since
an office or a campus shares one /24. These refuse with "try again in N seconds", since
waiting is all it takes. Too many top-level comments by one person in one thread, or a
surge of comments across the whole site (a raid), hold instead: a moderator looks before
they appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rejoinder.core.messages import N_, Message, Nn_
from rejoinder.core.moderation.models import Action, Policy, Signal, Submission
from rejoinder.core.moderation.times import elapsed, whole_seconds

PHASE = "rates"
#: how many times the per-minute and per-hour limits of one address a network group may post
GROUP_FACTOR = 4


def check(sub: Submission, policy: Policy) -> list[Signal]:
    signals: list[Signal] = []
    keys = (sub.recent.by_ip, sub.recent.by_email)
    if policy.flood_seconds:
        wait = max(_flood_wait(times, sub.now, policy.flood_seconds) for times in keys)
        if wait > 0:
            signals.append(_refuse("flood", N_("you are posting too quickly"), wait))
    for code, limit, window in (
        ("per_minute", policy.per_minute, 60),
        ("per_hour", policy.per_hour, 3600),
    ):
        if not limit:
            continue
        wait = max(_window_wait(times, sub.now, limit, window) for times in keys)
        budget = limit * GROUP_FACTOR
        group_wait = _window_wait(sub.recent.by_group, sub.now, budget, window)
        if group_wait > wait:  # one reason per window: the one that makes the writer wait longest
            signals.append(_refuse(f"group_{code}", _from_network(code, budget), group_wait))
        elif wait > 0:
            signals.append(_refuse(code, _from_you(code, limit), wait))
    limit = policy.top_level_per_thread
    if limit and sub.is_top_level and sub.recent.top_level_in_thread >= limit:
        message = Nn_(
            "you have already started {n} thread under this article; reply in one of them, "
            "or wait for a moderator",
            "you have already started {n} threads under this article; reply in one of them, "
            "or wait for a moderator",
            sub.recent.top_level_in_thread,
        )
        signals.append(Signal.said(PHASE, "top_level_per_thread", message, Action.HOLD))
    limit = policy.surge_per_minute
    if limit and sub.recent.site_last_minute >= limit:
        message = N_("comments are arriving unusually fast across the site, so new ones wait")
        signals.append(Signal.said(PHASE, "surge", message, Action.HOLD))
    return signals


def _flood_wait(times: Sequence[datetime], now: datetime, flood: int) -> float:
    """Seconds still to wait since the latest earlier comment, or 0."""
    ages = [max(0.0, elapsed(t, now)) for t in times]
    return flood - min(ages) if ages and min(ages) < flood else 0.0


def _window_wait(times: Sequence[datetime], now: datetime, limit: int, window: int) -> float:
    """Seconds until fewer than ``limit`` comments remain in the last ``window`` seconds."""
    ages = sorted(age for t in times if (age := max(0.0, elapsed(t, now))) < window)
    if len(ages) < limit:
        return 0.0
    # The newest `limit - 1` may stay; the one just older than them must leave the window.
    return window - ages[limit - 1]


def _from_you(code: str, count: int) -> Message:
    if code == "per_minute":
        return Nn_(
            "you have posted {n} comment in less than a minute",
            "you have posted {n} comments in less than a minute",
            count,
        )
    return Nn_(
        "you have posted {n} comment in less than an hour",
        "you have posted {n} comments in less than an hour",
        count,
    )


def _from_network(code: str, count: int) -> Message:
    if code == "per_minute":
        return Nn_(
            "{n} comment came from your network in less than a minute",
            "{n} comments came from your network in less than a minute",
            count,
        )
    return Nn_(
        "{n} comment came from your network in less than an hour",
        "{n} comments came from your network in less than an hour",
        count,
    )


def _refuse(code: str, reason: Message, wait: float) -> Signal:
    seconds = whole_seconds(wait)
    message = Nn_(
        "{reason}; please try again in {n} second",
        "{reason}; please try again in {n} seconds",
        seconds,
        reason=reason,
    )
    return Signal.said(PHASE, code, message, Action.REFUSE, retry_after=seconds)
