"""Phase "bans": refuse a banned commenter, by email, email domain, IP, IP group or name."""

from __future__ import annotations

from rejoinder.core.emails import normal_address
from rejoinder.core.moderation.matching.folding import skeleton
from rejoinder.core.moderation.models import Action, Ban, BanKind, Policy, Signal, Submission
from rejoinder.core.moderation.times import utc

PHASE = "bans"

_WHAT = {
    BanKind.EMAIL: "this email address is banned from commenting",
    BanKind.EMAIL_DOMAIN: "addresses at this email domain are banned from commenting",
    BanKind.IP: "comments from your connection are blocked",
    BanKind.IP_GROUP: "comments from your network are blocked",
    BanKind.NAME: "this name is banned from commenting",
}


def check(sub: Submission, policy: Policy) -> list[Signal]:
    """Refuse for every ban in force that matches; bans whose ``until`` has passed are ignored.

    Emails compare without case; a domain ban covers its subdomains; names compare by their
    folded skeleton, so a banned name does not come back in lookalike letters.
    """
    now = utc(sub.now)
    signals = []
    for ban in sub.bans:
        if ban.until is not None and utc(ban.until) <= now:
            continue
        if _matches(ban, sub):
            signals.append(Signal(PHASE, f"banned_{ban.kind.value}", _message(ban), Action.REFUSE))
    return signals


def _matches(ban: Ban, sub: Submission) -> bool:
    value = normal_address(ban.value)
    email = normal_address(sub.email)
    if ban.kind is BanKind.EMAIL:
        return bool(value) and email == value
    if ban.kind is BanKind.EMAIL_DOMAIN:
        domain = email.rpartition("@")[2]
        value = value.lstrip("@")
        return bool(value) and (domain == value or domain.endswith("." + value))
    if ban.kind is BanKind.IP:
        return bool(ban.value) and ban.value == sub.ip_hash
    if ban.kind is BanKind.IP_GROUP:
        return bool(ban.value) and ban.value == sub.ip_group_hash
    name = skeleton(ban.value)
    return bool(name) and skeleton(sub.name) == name


def _message(ban: Ban) -> str:
    message = _WHAT[ban.kind]
    if ban.until is not None:
        message += f" until {utc(ban.until):%d %B %Y, %H:%M} UTC"
    if ban.reason:
        message += f" ({ban.reason})"
    return message
